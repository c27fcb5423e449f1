"""For random referrals and guide steps, the referral roll-up answers what the raw rows say.

Referrals are sent around New York's midnights (the second night is the one clocks go
forward) and move along their allowed steps at any later time; guide requests get emails
(guide emails and others), link opens, printed-copy steps and unrelated events, repeated
and in any order. The timeline rows are written shuffled (ids out of time order), the
roll-ups refreshed in small batches part way through. referral_guide_daily must then equal
a direct computation over the raw rows; refreshing again changes nothing; a rebuild by the
fold, and on PostgreSQL the set-based one, give the same tables.
"""

from collections import Counter
from datetime import timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm.extensions import db
from crm.models import (
    GuideMilestone,
    Referral,
    ReferralGuideDaily,
    RollupWatermark,
    Submission,
    TimelineEvent,
)
from crm.models.enums import ReferralKind, ReferralStatus, TimelineKind
from crm.services import events, rollups
from crm.services.referrals import TRANSITIONS, allowed_moves
from crm.services.rollups import referral_reports
from tests.conftest import empty_all_tables
from tests.rollup_data import add_advocate, add_lead, rollup_rows
from tests.rollup_strategies import START, minutes
from tests.specialists import NEAR_BOSTON, make_specialist

PROPERTY = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# What a guide event is: (timeline kind, the email's kind for email_sent) -> step, or None.
GUIDE_EVENTS = [
    (TimelineKind.email_sent, "guide_email", "emailed"),
    (TimelineKind.email_sent, "guide_check_in", None),
    (TimelineKind.guide_opened, None, "opened"),
    (TimelineKind.guide_to_print, None, "to_print"),
    (TimelineKind.guide_printed, None, "printed"),
    (TimelineKind.guide_shipped, None, "shipped"),
    (TimelineKind.note_added, None, None),
]
referrals = st.lists(
    st.fixed_dictionaries(
        {
            "at": minutes,
            "kind": st.sampled_from(ReferralKind),
            "size": st.integers(1, 2),  # referrals one match email opened
            "moves": st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3000)), max_size=3),
        }
    ),
    max_size=4,
)
requests = st.lists(
    st.fixed_dictionaries(
        {
            "at": minutes,
            "steps": st.lists(
                st.tuples(st.integers(0, len(GUIDE_EVENTS) - 1), st.integers(0, 5000)),
                max_size=6,
            ),
        }
    ),
    max_size=4,
)


def _rows(sent: list[dict], asked: list[dict], user_id: int, specialist_id: int) -> list[dict]:
    """Referral and submission rows now; their timeline rows returned, to be written later."""
    timeline = []
    for referral in sent:
        at = START + timedelta(minutes=referral["at"])
        contact = add_lead(at - timedelta(days=1))
        kind = referral["kind"]
        opened = [
            Referral(
                contact_id=contact.id,
                specialist_id=specialist_id if kind == ReferralKind.specialist else None,
                kind=kind,
                status=ReferralStatus.sent,
                created_by_user_id=user_id,
                created_at=at,
                updated_at=at,
            )
            for _ in range(referral["size"] if kind == ReferralKind.specialist else 1)
        ]
        db.session.add_all(opened)
        db.session.flush()
        detail = {"kind": kind.value, "referral_ids": [r.id for r in opened]}
        timeline.append(events.row(contact.id, TimelineKind.referral_sent, detail=detail, at=at))
        for choice, gap in referral["moves"]:
            moves = allowed_moves(opened[0].status)
            if not moves:
                break
            to = moves[choice % len(moves)]
            at += timedelta(minutes=gap)
            detail = {"referral_id": opened[0].id, "from": opened[0].status.value, "to": to.value}
            opened[0].status = to
            timeline.append(
                events.row(contact.id, TimelineKind.referral_updated, detail=detail, at=at)
            )
    for request in asked:
        at = START + timedelta(minutes=request["at"])
        contact = add_lead(at)
        submission_id = db.session.scalar(
            sa.select(Submission.id).where(Submission.contact_id == contact.id)
        )
        for choice, gap in request["steps"]:
            kind, email, _ = GUIDE_EVENTS[choice]
            detail = {"email": email} if email else {}
            timeline.append(
                events.row(
                    contact.id,
                    kind,
                    submission_id=submission_id,
                    detail=detail,
                    at=at + timedelta(minutes=gap),
                )
            )
    return timeline


def _day(moment):
    return moment.astimezone(ZoneInfo(current_app.config["ORG_TIME_ZONE"])).date()


def expected_daily() -> Counter:
    """referral_guide_daily worked out from the referrals, submissions and timeline rows."""
    referral_of = {r.id: r for r in db.session.scalars(sa.select(Referral))}
    requested = dict(db.session.execute(sa.select(Submission.id, Submission.created_at)).all())
    steps = {(kind, email): step for kind, email, step in GUIDE_EVENTS}
    counts: Counter = Counter()
    reached = set()
    for event in db.session.scalars(sa.select(TimelineEvent)):
        if event.kind == TimelineKind.referral_sent:
            for referral_id in event.detail["referral_ids"]:
                referral = referral_of[referral_id]
                counts[(_day(referral.created_at), referral.kind.value, "sent")] += 1
        elif event.kind == TimelineKind.referral_updated:
            referral = referral_of[event.detail["referral_id"]]
            counts[(_day(referral.created_at), referral.kind.value, event.detail["to"])] += 1
        elif steps.get((event.kind, event.detail.get("email"))):
            reached.add((event.submission_id, steps[(event.kind, event.detail.get("email"))]))
    for submission_id, step in reached:
        counts[(_day(requested[submission_id]), "guide", step)] += 1
    return counts


def _snapshot() -> dict:
    db.session.expire_all()
    return {
        "daily": rollup_rows(ReferralGuideDaily),
        "guides": set(db.session.execute(sa.select(GuideMilestone.__table__)).all()),
        "watermark": db.session.get(RollupWatermark, "timeline_events").last_id,
    }


@PROPERTY
@given(sent=referrals, asked=requests, order=st.randoms(), split=st.integers(0, 12))
def test_referral_rollups_equal_a_direct_computation_over_raw_rows(
    app_ctx, config_override, sent, asked, order, split
):
    empty_all_tables()
    config_override(ORG_TIME_ZONE="America/New_York")
    specialist_id = make_specialist("Dr. Example Random", ["thoracic_oncology"], NEAR_BOSTON)
    timeline = _rows(sent, asked, add_advocate(), specialist_id)
    order.shuffle(timeline)
    if timeline[:split]:
        db.session.execute(events.INSERT, timeline[:split])
    db.session.commit()
    rollups.refresh(batch_size=2)
    if timeline[split:]:
        db.session.execute(events.INSERT, timeline[split:])
    db.session.commit()
    rollups.refresh(batch_size=3)

    expected = expected_daily()
    assert _snapshot()["daily"] == dict(expected)
    start, end = (START - timedelta(days=2)).date(), (START + timedelta(days=12)).date()
    totals: dict = {}
    for (_, kind, step), n in expected.items():
        totals.setdefault(kind, Counter())[step] += n
    assert referral_reports.counts(start, end) == {k: dict(v) for k, v in totals.items()}
    first_night = START.date()
    assert sum(
        sum(per_day.values())
        for day, per_day in referral_reports.daily(first_night, first_night).items()
    ) == sum(n for key, n in expected.items() if key[0] == first_night)

    incremental = _snapshot()
    assert rollups.refresh() == 0
    assert _snapshot() == incremental
    rollups.rebuild(batch_size=2, in_sql=False)
    assert _snapshot() == incremental
    if db.engine.dialect.name == "postgresql":
        rollups.rebuild(in_sql=True)
        assert _snapshot() == incremental


def test_no_referral_can_reach_a_status_twice():
    """The roll-up counts a referral_updated event as one referral: the moves have no cycle."""
    paths = [[ReferralStatus.sent]]
    while paths:
        path = paths.pop()
        assert len(set(path)) == len(path), path
        paths.extend([*path, to] for to in TRANSITIONS[path[-1]])
