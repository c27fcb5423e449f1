"""Fold new contacts, stage changes and calls into the roll-up tables (one batch at a time)."""

from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app

from crm.extensions import db
from crm.models import Contact, ContactMilestone, RollupContact, Submission
from crm.models.enums import CloseOutcome, Stage
from crm.services.rollups.buckets import MINUTE_BOUNDS, SECOND_BOUNDS, bucket_of
from crm.services.rollups.slices import bump_calls, bump_funnel, bump_speed, bump_submissions
from crm.services.rollups.upsert import DIMENSIONS

FUNNEL = ("new", "attempting", "contacted", "qualified", "referred", "helped")
LOST = "lost:"


def org_day(moment: datetime) -> date:
    """The organisation's calendar day (ORG_TIME_ZONE) at this moment."""
    return moment.astimezone(ZoneInfo(current_app.config["ORG_TIME_ZONE"])).date()


def milestones_of(to_stage: Stage, outcome: CloseOutcome | None) -> tuple[str, ...]:
    """What a move to this stage reaches: the stage and every funnel stage before it."""
    if to_stage == Stage.closed and outcome != CloseOutcome.helped:
        return (LOST + outcome.value,)
    reached = "helped" if to_stage == Stage.closed else to_stage.value
    return FUNNEL[: FUNNEL.index(reached) + 1]


def _dimension_columns() -> dict[str, sa.ColumnElement]:
    """Each dimension as read from a contacts row ('' and 0 where the contact has none)."""
    first_form = (
        sa.select(sa.cast(Submission.form, sa.String(32)))
        .where(Submission.contact_id == Contact.id)
        .order_by(Submission.id)
        .limit(1)
        .scalar_subquery()
    )
    return {
        "form": sa.func.coalesce(first_form, ""),
        "source": sa.func.coalesce(Contact.utm_source, ""),
        "medium": sa.func.coalesce(Contact.utm_medium, ""),
        "campaign": sa.func.coalesce(Contact.utm_campaign, ""),
        "diagnosis": sa.func.coalesce(sa.cast(Contact.diagnosis, sa.String(32)), ""),
        "is_veteran": Contact.is_veteran,
        "state": sa.func.coalesce(Contact.state, ""),
        "advocate_id": sa.func.coalesce(Contact.assigned_user_id, 0),
    }


def _funnel_key(lead: RollupContact, stage: str) -> tuple:
    return (lead.cohort_day, *(getattr(lead, name) for name in DIMENSIONS), stage)


def _leads(contact_ids: Iterable[int]) -> dict[int, RollupContact]:
    ids = set(contact_ids)
    if not ids:
        return {}
    query = sa.select(RollupContact).where(RollupContact.contact_id.in_(ids))
    return {lead.contact_id: lead for lead in db.session.scalars(query)}


def fold_contacts(contact_ids: Iterable[int]) -> None:
    """Take in the leads not yet in the roll-ups, each with its "new" milestone."""
    ids = set(contact_ids)
    missing = ids - set(
        db.session.scalars(
            sa.select(RollupContact.contact_id).where(RollupContact.contact_id.in_(ids))
        )
    )
    if not missing:
        return
    columns = _dimension_columns()
    query = sa.select(
        Contact.id, Contact.created_at, *(c.label(n) for n, c in columns.items())
    ).where(Contact.id.in_(missing))
    leads = [
        RollupContact(
            contact_id=row.id,
            created_at=row.created_at,
            cohort_day=org_day(row.created_at),
            **{name: getattr(row, name) for name in DIMENSIONS},
        )
        for row in db.session.execute(query)
    ]
    db.session.add_all(leads)
    db.session.flush()
    _reach((lead.contact_id, "new", lead.created_at) for lead in leads)


def _reach(reached: Iterable[tuple[int, str, datetime]]) -> None:
    """Record milestones if absent (the earliest time wins) and count the new ones."""
    earliest: dict[tuple[int, str], datetime] = {}
    for contact_id, stage, at in reached:
        key = (contact_id, stage)
        if key not in earliest or at < earliest[key]:
            earliest[key] = at
    if not earliest:
        return
    contact_ids = {contact_id for contact_id, _ in earliest}
    known = {
        (m.contact_id, m.stage): m
        for m in db.session.scalars(
            sa.select(ContactMilestone).where(ContactMilestone.contact_id.in_(contact_ids))
        )
    }
    leads = _leads(contact_ids)
    counts: Counter = Counter()
    for (contact_id, stage), at in earliest.items():
        milestone = known.get((contact_id, stage))
        if milestone is None:
            db.session.add(ContactMilestone(contact_id=contact_id, stage=stage, reached_at=at))
            counts[_funnel_key(leads[contact_id], stage)] += 1
        elif at < milestone.reached_at:
            milestone.reached_at = at  # a backdated event: counts stay, the time moves
    db.session.flush()
    bump_funnel(counts)


def fold_stage_changes(changes: list) -> None:
    """Milestones reached by these stage changes (rows with contact_id, to_stage, ...)."""
    fold_contacts(change.contact_id for change in changes)
    _reach(
        (change.contact_id, stage, change.created_at)
        for change in changes
        for stage in milestones_of(change.to_stage, change.close_outcome)
    )


def fold_calls(calls: list) -> None:
    """Per-advocate call counts and each lead's first call (speed-to-lead)."""
    fold_contacts(call.contact_id for call in calls)
    per_day: Counter = Counter()
    first: dict[int, tuple[datetime, int]] = {}
    for call in calls:
        key = (
            org_day(call.created_at),
            call.user_id,
            call.outcome.value,
            bucket_of(call.duration_seconds, SECOND_BOUNDS),
        )
        calls_so_far, seconds = per_day.get(key, (0, 0))
        per_day[key] = (calls_so_far + 1, seconds + call.duration_seconds)
        if call.contact_id not in first or call.created_at < first[call.contact_id][0]:
            first[call.contact_id] = (call.created_at, call.user_id)
    bump_calls(per_day)
    speed: Counter = Counter()
    for contact_id, lead in _leads(first).items():
        at, user_id = first[contact_id]
        if lead.first_call_at is not None and lead.first_call_at <= at:
            continue
        if lead.first_call_at is not None:
            speed[_speed_key(lead)] -= 1  # a backdated call came in: it is the first now
        lead.first_call_at, lead.first_caller_id = at, user_id
        speed[_speed_key(lead)] += 1
    db.session.flush()
    bump_speed(speed)


def fold_submissions(submissions: list) -> None:
    """Submissions per day and form (rows with form, corrects_submission_id, created_at)."""
    per_day: Counter = Counter(
        (org_day(row.created_at), row.form.value)
        for row in submissions
        if row.corrects_submission_id is None
    )
    bump_submissions(per_day)


def _speed_key(lead: RollupContact) -> tuple:
    minutes = int((lead.first_call_at - lead.created_at).total_seconds() // 60)
    return (lead.cohort_day, lead.form, lead.first_caller_id, bucket_of(minutes, MINUTE_BOUNDS))


def sync_dimensions(since: datetime, after_id: int, limit: int) -> tuple[int, int | None]:
    """Move leads whose dimensions changed (since `since`) to their new funnel_daily rows.

    Walks contact ids above `after_id`; returns how many moved and the id to go on after
    (None when done), so that the walk ends even if a row kept looking changed.
    """
    columns = _dimension_columns()
    changed = sa.or_(
        *(columns[name] != getattr(RollupContact, name) for name in DIMENSIONS if name != "form")
    )
    query = (
        sa.select(RollupContact, *(columns[n].label(n) for n in DIMENSIONS if n != "form"))
        .join(Contact, Contact.id == RollupContact.contact_id)
        .where(Contact.updated_at >= since, RollupContact.contact_id > after_id, changed)
        .order_by(RollupContact.contact_id)
        .limit(limit)
    )
    rows = db.session.execute(query).all()
    if not rows:
        return 0, None
    stages: dict[int, list[str]] = {}
    for contact_id, stage in db.session.execute(
        sa.select(ContactMilestone.contact_id, ContactMilestone.stage).where(
            ContactMilestone.contact_id.in_([row[0].contact_id for row in rows])
        )
    ):
        stages.setdefault(contact_id, []).append(stage)
    counts: Counter = Counter()
    for row in rows:
        lead = row[0]
        for stage in stages.get(lead.contact_id, ()):
            counts[_funnel_key(lead, stage)] -= 1
        for name in DIMENSIONS:
            if name != "form":  # the first form a lead sent never changes
                setattr(lead, name, getattr(row, name))
        for stage in stages.get(lead.contact_id, ()):
            counts[_funnel_key(lead, stage)] += 1
    db.session.flush()
    bump_funnel(counts)
    return len(rows), (rows[-1][0].contact_id if len(rows) == limit else None)
