"""Fold timeline events into the referral and guide roll-ups (one batch at a time).

The timeline is the one append-only source that holds every step: referrals opened and
moved (crm/services/referrals.py), guide emails delivered (crm/services/outbox.py), guide
links opened (crm/services/guide_links.py), printed guides asked for, printed and shipped
(crm/services/followups.py, fulfilment.py). Both parts are counted by cohort, so that a
row of the report follows the same referrals or requests from one step to the next:

- Referrals, by the day each was sent (ORG_TIME_ZONE) and kind (specialist match, VA claims
  hand-off): a referral_sent event names the referrals it opened ("sent"); a
  referral_updated event, the status one referral moved to. Referrals move forward only
  (referrals.TRANSITIONS), so a referral reaches each status once: an event counts one.
- Guides, by the day the guide was requested (the submission every guide event names):
  emailed, opened, to_print, printed, shipped. A request can be emailed again (a resend),
  so each request's steps are kept once in guide_milestones and counted when new.
"""

from collections import Counter
from collections.abc import Iterable

import sqlalchemy as sa

from crm.extensions import db
from crm.models import GuideMilestone, Referral, ReferralGuideDaily, Submission
from crm.models.enums import OutboxKind, ReferralStatus, TimelineKind
from crm.services.rollups.fold import org_day
from crm.services.rollups.upsert import bump

GUIDE = "guide"
EMAILED = "emailed"
# Guide steps in the order a request goes through them; emailed is an email_sent event.
GUIDE_STEPS = (EMAILED, "opened", "to_print", "printed", "shipped")
GUIDE_EVENTS = {
    TimelineKind.guide_opened: "opened",
    TimelineKind.guide_to_print: "to_print",
    TimelineKind.guide_printed: "printed",
    TimelineKind.guide_shipped: "shipped",
}
KEY = ("day", "kind", "milestone")


def referral_steps(event) -> list[tuple[int, str]]:
    """(referral id, status reached) for each referral this event opened or moved."""
    detail = event.detail or {}
    if event.kind == TimelineKind.referral_sent:
        return [(int(id_), ReferralStatus.sent.value) for id_ in detail.get("referral_ids", [])]
    if event.kind == TimelineKind.referral_updated:
        return [(int(detail["referral_id"]), str(detail["to"]))]
    return []


def guide_step(event) -> str | None:
    """The guide step this event records for its submission, or None."""
    if event.submission_id is None:
        return None
    if event.kind == TimelineKind.email_sent:
        delivered = (event.detail or {}).get("email") == OutboxKind.guide_email.value
        return EMAILED if delivered else None
    return GUIDE_EVENTS.get(event.kind)


def fold_timeline(events: list) -> None:
    """Count the referral and guide steps among these events (rows with id, kind, ...)."""
    _fold_referrals([step for event in events for step in referral_steps(event)])
    _fold_guides({(event.submission_id, step) for event in events if (step := guide_step(event))})


def _fold_referrals(steps: list[tuple[int, str]]) -> None:
    if not steps:
        return
    referrals = {
        row.id: row
        for row in db.session.execute(
            sa.select(Referral.id, Referral.kind, Referral.created_at).where(
                Referral.id.in_({referral_id for referral_id, _ in steps})
            )
        )
    }
    counts: Counter = Counter()
    for referral_id, status in steps:
        referral = referrals.get(referral_id)
        if referral is not None:  # else gone with its contact, and so are its events
            counts[(org_day(referral.created_at), referral.kind.value, status)] += 1
    bump(ReferralGuideDaily, KEY, ("items",), counts)


def _fold_guides(steps: Iterable[tuple[int, str]]) -> None:
    steps = set(steps)
    if not steps:
        return
    ids = {submission_id for submission_id, _ in steps}
    known = set(
        db.session.execute(
            sa.select(GuideMilestone.submission_id, GuideMilestone.milestone).where(
                GuideMilestone.submission_id.in_(ids)
            )
        ).all()
    )
    requested = dict(
        db.session.execute(
            sa.select(Submission.id, Submission.created_at).where(Submission.id.in_(ids))
        ).all()
    )
    new = sorted(step for step in steps - known if step[0] in requested)
    db.session.add_all(GuideMilestone(submission_id=s, milestone=m) for s, m in new)
    db.session.flush()
    bump(
        ReferralGuideDaily,
        KEY,
        ("items",),
        Counter((org_day(requested[s]), GUIDE, m) for s, m in new),
    )
