"""Raw events written straight into the tables (any time, any order) for the roll-up tests,
and what the roll-ups must hold, computed directly from those raw rows."""

import itertools
from collections import Counter
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app

from crm.extensions import db
from crm.models import (
    Call,
    CallDaily,
    Contact,
    ContactMilestone,
    FunnelDaily,
    ReportSlice,
    SpeedDaily,
    StageChange,
    Submission,
    User,
)
from crm.models.enums import ActorKind, CallOutcome, CloseOutcome, FormKind, Role, Stage
from crm.services.rollups.buckets import MINUTE_BOUNDS, SECOND_BOUNDS, bucket_of
from crm.services.rollups.upsert import DIMENSIONS  # funnel_daily's key order

FUNNEL = ["new", "attempting", "contacted", "qualified", "referred", "helped"]
_numbers = itertools.count(1)


def add_advocate() -> int:
    """An advocate row (no sign-in needed here, so no password hashing)."""
    number = next(_numbers)
    user = User(
        email=f"rollup-adv{number}@example.org",
        name=f"Advocate {number}",
        role=Role.advocate,
        password_hash="not-a-hash",
    )
    db.session.add(user)
    db.session.flush()
    return user.id


def send_again(contact: Contact, form: FormKind, at: datetime, correction: bool) -> None:
    """Another submission by a known contact, or a correction of their first one."""
    first = db.session.scalar(
        sa.select(Submission.id).where(Submission.contact_id == contact.id).order_by(Submission.id)
    )
    db.session.add(
        Submission(
            form=form,
            contact_id=contact.id,
            fields={},
            created_at=at,
            corrects_submission_id=first if correction else None,
        )
    )
    db.session.flush()


def expected_submissions() -> Counter:
    """Forms sent per organisation day and form, corrections left out."""
    return Counter(
        (_day(row.created_at), row.form.value)
        for row in db.session.scalars(
            sa.select(Submission).where(Submission.corrects_submission_id.is_(None))
        )
    )


def add_lead(at: datetime, form: FormKind = FormKind.guide, **dimensions) -> Contact:
    """A contact created at `at` by one submission of `form`; dimensions are contact columns."""
    number = next(_numbers)
    contact = Contact(
        first_name="Lead",
        last_name=f"Number{number}",
        email=f"rollup-lead{number}@example.com",
        created_at=at,
        **dimensions,
    )
    db.session.add(contact)
    db.session.flush()
    db.session.add(Submission(form=form, contact_id=contact.id, fields={}, created_at=at))
    db.session.flush()
    return contact


def move(contact: Contact, to: Stage, at: datetime, outcome: CloseOutcome | None = None):
    """A stage change as the stages service writes one (no transition check: any history)."""
    db.session.add(
        StageChange(
            contact_id=contact.id,
            from_stage=contact.stage,
            to_stage=to,
            close_outcome=outcome,
            reason="",
            actor_kind=ActorKind.system,
            created_at=at,
        )
    )
    contact.stage, contact.close_outcome = to, outcome
    db.session.flush()


def log_call(contact, user_id, at, outcome=CallOutcome.no_answer, seconds=0):
    db.session.add(
        Call(
            contact_id=contact.id,
            user_id=user_id,
            outcome=outcome,
            duration_seconds=seconds,
            created_at=at,
        )
    )
    db.session.flush()


def _day(moment: datetime):
    return moment.astimezone(ZoneInfo(current_app.config["ORG_TIME_ZONE"])).date()


def reached_by(change: StageChange) -> list[str]:
    """Written out from the funnel's definition, apart from the code under test."""
    if change.to_stage == Stage.closed:
        if change.close_outcome != CloseOutcome.helped:
            return [f"lost:{change.close_outcome.value}"]
        return FUNNEL
    return FUNNEL[: FUNNEL.index(change.to_stage.value) + 1]


def _leads() -> dict[int, tuple]:
    """contact id -> (cohort day, dimensions..., created_at) from the raw rows."""
    forms = {}
    for submission in db.session.scalars(sa.select(Submission).order_by(Submission.id)):
        forms.setdefault(submission.contact_id, submission.form.value)
    return {
        c.id: (
            _day(c.created_at),
            forms.get(c.id, ""),
            c.utm_source or "",
            c.utm_medium or "",
            c.utm_campaign or "",
            c.diagnosis.value if c.diagnosis else "",
            c.is_veteran,
            c.state or "",
            c.assigned_user_id or 0,
            c.created_at,
        )
        for c in db.session.scalars(sa.select(Contact))
    }


def expected_milestones() -> dict[tuple[int, str], datetime]:
    reached = {(contact_id, "new"): lead[-1] for contact_id, lead in _leads().items()}
    for change in db.session.scalars(sa.select(StageChange)):
        for stage in reached_by(change):
            key = (change.contact_id, stage)
            reached[key] = min(reached.get(key, change.created_at), change.created_at)
    return reached


def expected_funnel_daily() -> Counter:
    leads = _leads()
    return Counter((*leads[contact_id][:-1], stage) for contact_id, stage in expected_milestones())


def first_calls() -> dict[int, Call]:
    first: dict[int, Call] = {}
    for call in db.session.scalars(sa.select(Call).order_by(Call.id)):
        if call.contact_id not in first or call.created_at < first[call.contact_id].created_at:
            first[call.contact_id] = call
    return first


def minutes_to_first_call() -> dict[int, int]:
    leads = _leads()
    return {
        contact_id: int((call.created_at - leads[contact_id][-1]).total_seconds() // 60)
        for contact_id, call in first_calls().items()
    }


def expected_speed_daily() -> Counter:
    leads = _leads()
    minutes = minutes_to_first_call()
    return Counter(
        (leads[cid][0], leads[cid][1], call.user_id, bucket_of(minutes[cid], MINUTE_BOUNDS))
        for cid, call in first_calls().items()
    )


def expected_call_daily() -> dict:
    rows: dict = {}
    for call in db.session.scalars(sa.select(Call)):
        key = (
            _day(call.created_at),
            call.user_id,
            call.outcome.value,
            bucket_of(call.duration_seconds, SECOND_BOUNDS),
        )
        calls, seconds = rows.get(key, (0, 0))
        rows[key] = (calls + 1, seconds + call.duration_seconds)
    return rows


def rollup_rows(model) -> dict:
    """A roll-up table as {key: amount(s)}, rows at zero left out (a moved lead leaves them)."""
    table = model.__table__
    key = [column for column in table.primary_key.columns]
    amounts = [column for column in table.columns if not column.primary_key]
    rows = {}
    for row in db.session.execute(sa.select(*key, *amounts)):
        values = tuple(row[len(key) :])
        if any(values):
            rows[tuple(row[: len(key)])] = values[0] if len(values) == 1 else values
    return rows


def snapshot() -> dict:
    """Every roll-up table's content, to compare two ways of computing them."""
    rows = db.session.scalars(sa.select(ContactMilestone))
    milestones = {(m.contact_id, m.stage): m.reached_at for m in rows}
    return {
        "milestones": milestones,
        "funnel": rollup_rows(FunnelDaily),
        "speed": rollup_rows(SpeedDaily),
        "calls": rollup_rows(CallDaily),
        "slices": rollup_rows(ReportSlice),
    }


def _slice_text(value) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def expected_slices(
    funnel: dict, speed: dict, calls: dict, submissions: dict | None = None
) -> dict:
    """The report slices the daily tables' rows make: every dimension, every span 1..1024."""
    slices: dict = {}

    def add(family, day, pairs, measure, n, total=0):
        for dimension, value in pairs:
            for span in (2**k for k in range(11)):
                first = day - timedelta(days=(day - date(1970, 1, 1)).days % span)
                key = (family, dimension, span, first, _slice_text(value), measure)
                n_so_far, total_so_far = slices.get(key, (0, 0))
                slices[key] = (n_so_far + n, total_so_far + total)

    for (day, *values, stage), n in funnel.items():
        add("funnel", day, [("", ""), *zip(DIMENSIONS, values, strict=True)], stage, n)
    for (day, form, advocate, minutes), n in speed.items():
        add("speed", day, [("", ""), ("form", form), ("advocate_id", advocate)], str(minutes), n)
    for (day, user, outcome, seconds), (n, total) in calls.items():
        add("calls", day, [("user_id", user)], f"{outcome}/{seconds}", n, total)
    for (day, form), n in (submissions or {}).items():
        add("submissions", day, [("", ""), ("form", form)], "submitted", n)
    return {key: amounts for key, amounts in slices.items() if any(amounts)}
