"""What a new submission sets in motion: its emails, its callback, its printed guide.

All of it is rows written in the submit's own transaction; the relay and the call queue
act on them later.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import sqlalchemy as sa

from crm.extensions import db
from crm.models import OutboxMessage
from crm.models.base import UTCDateTime
from crm.models.call_task import CallTask
from crm.models.enums import (
    BestTime,
    CallReason,
    CallTaskStatus,
    ConsentChannel,
    FormKind,
    FulfilmentStatus,
    OutboxStatus,
    TimelineKind,
)
from crm.models.fulfilment import GuideFulfilment
from crm.services import events as timeline_events
from crm.services import outbox, sequences
from crm.services.callback_times import callback_due_at

# Built once, like the rest of the submit's writes (crm/services/capture_rows.py).
_CALL_TASK = sa.insert(CallTask.__table__).returning(CallTask.__table__.c.id)
_FULFILMENT = sa.insert(GuideFulfilment.__table__).returning(GuideFulfilment.__table__.c.id)
_tasks = CallTask.__table__


def _cast_type(column_type):
    if isinstance(column_type, sa.DateTime | UTCDateTime):
        return column_type.with_variant(sa.String(), "sqlite")
    return column_type


def _new_lead_call() -> sa.Insert:
    """A call for a new lead, unless the contact already has one open (one statement, no read)."""
    values = {
        "contact_id": sa.bindparam("contact_id", type_=_tasks.c.contact_id.type),
        "submission_id": sa.bindparam("submission_id", type_=_tasks.c.submission_id.type),
        "reason": sa.literal(CallReason.new_lead, _tasks.c.reason.type),
        "best_time": sa.literal(BestTime.asap, _tasks.c.best_time.type),
        "due_at": sa.bindparam("now", type_=_tasks.c.due_at.type),
        "status": sa.literal(CallTaskStatus.open, _tasks.c.status.type),
        "attempts": sa.literal(0),
        "created_at": sa.bindparam("now", type_=_tasks.c.created_at.type),
    }
    # Cast: PostgreSQL cannot tell the type of a bare parameter in a SELECT list. On SQLite
    # CAST(... AS DATETIME) has numeric affinity and would store '2026-...' as 2026: keep text.
    columns = [sa.cast(value, _cast_type(_tasks.c[name].type)) for name, value in values.items()]
    already = sa.exists().where(
        _tasks.c.contact_id == sa.bindparam("contact_id"),
        _tasks.c.status == CallTaskStatus.open,
    )
    return (
        sa.insert(_tasks)
        .from_select(list(values), sa.select(*columns).where(~already))
        .returning(_tasks.c.id)
    )


_NEW_LEAD_CALL = _new_lead_call()
# Several rows in one statement; their ids come back in the order the rows were given.
_OUTBOX = sa.insert(OutboxMessage.__table__).returning(
    OutboxMessage.__table__.c.id, sort_by_parameter_order=True
)


class _Contact(Protocol):
    id: int
    time_zone: str | None


@dataclass(frozen=True)
class PlannedSubmission:
    """What planning reads of a stored submission (a Submission object has the same)."""

    id: int
    form: FormKind
    fields: dict[str, Any]


def plan_followups(
    submission: PlannedSubmission,
    contact: _Contact,
    consents: dict,
    now: datetime,
    *,
    events: Sequence[dict[str, Any]] = (),
) -> list[int]:
    """Add the outbox rows, call task and fulfilment item a new submission needs.

    Written in the caller's transaction, with their timeline events; returns the outbox ids.
    `events` are the caller's own timeline rows (crm.services.events.row), written first in the
    same INSERT: one round trip per submit for the whole timeline.
    """
    connection = db.session.connection()
    planned = []
    if submission.form == FormKind.callback:
        task = _call_task(submission, contact, now)
        detail = {"call_task_id": connection.scalar(_CALL_TASK, task)}
        detail["due_at"] = task["due_at"].isoformat()
        planned.append((TimelineKind.callback_due, None, detail))
    elif _wants_a_call(submission, consents):
        # Speed-to-lead for guide and specialist-match leads who said we may call them.
        parameters = {"contact_id": contact.id, "submission_id": submission.id, "now": now}
        connection.execute(_NEW_LEAD_CALL, parameters)
    if submission.fields.get("printed_guide"):
        fulfilment_id = connection.scalar(_FULFILMENT, _fulfilment(submission, contact, now))
        planned.append((TimelineKind.guide_to_print, None, {"fulfilment_id": fulfilment_id}))
    messages = _emails(submission, contact, consents, now)
    outbox_ids = connection.scalars(_OUTBOX, messages).all() if messages else []
    for message, outbox_id in zip(messages, outbox_ids, strict=True):
        detail = {"email": message["kind"].value, "due_at": message["due_at"].isoformat()}
        planned.append((TimelineKind.email_queued, outbox_id, detail))
    timeline = list(events) + [
        timeline_events.row(
            contact.id,
            kind,
            submission_id=submission.id,
            outbox_id=outbox_id,
            detail=detail,
            at=now,
        )
        for kind, outbox_id, detail in planned
    ]
    if timeline:
        connection.execute(timeline_events.INSERT, timeline)
    return list(outbox_ids)


def cancel_superseded(submission_id: int, now: datetime) -> None:
    """Withdraw what a corrected submission had planned and not yet started."""
    outbox.cancel_unsent(
        [
            OutboxMessage.submission_id == submission_id,
            OutboxMessage.status == OutboxStatus.pending,
        ],
        "corrected",
        now=now,
    )
    # A call nobody has tried yet and a guide nobody has printed follow the correction instead.
    db.session.execute(
        sa.update(CallTask)
        .where(
            CallTask.submission_id == submission_id,
            CallTask.status == CallTaskStatus.open,
            CallTask.attempts == 0,
        )
        .values(status=CallTaskStatus.cancelled)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        sa.update(GuideFulfilment)
        .where(
            GuideFulfilment.submission_id == submission_id,
            GuideFulfilment.status == FulfilmentStatus.to_print,
        )
        .values(status=FulfilmentStatus.cancelled)
        .execution_options(synchronize_session=False)
    )


def _emails(submission, contact, consents: dict, now: datetime) -> list[dict[str, Any]]:
    # Only the address this submission gave: never one the contact record had from before.
    if not submission.fields.get("email"):
        return []
    email_consent = bool(consents.get(ConsentChannel.email))
    return [
        {
            "kind": step.kind,
            "contact_id": contact.id,
            "submission_id": submission.id,
            "payload": {"submission_id": submission.id},
            "dedupe_key": f"{step.kind.value}:{submission.id}",
            "due_at": now + step.delay,
            "created_at": now,
        }
        for step in sequences.steps_for(submission.form, email_consent)
    ]


def _call_task(submission, contact, now: datetime) -> dict[str, Any]:
    best_time = BestTime.from_value(submission.fields.get("best_time")) or BestTime.asap
    return {
        "contact_id": contact.id,
        "submission_id": submission.id,
        "best_time": best_time,
        "due_at": callback_due_at(best_time, _time_zone(submission, contact), now),
        "created_at": now,
    }


def _wants_a_call(submission, consents: dict) -> bool:
    # The number this submission gave: a call needs one, and consent to be called on it.
    return bool(consents.get(ConsentChannel.calls_texts) and submission.fields.get("phone"))


def _fulfilment(submission, contact, now: datetime) -> dict[str, Any]:
    return {
        "contact_id": contact.id,
        "submission_id": submission.id,
        "mailing_address": submission.fields["mailing_address"],
        "created_at": now,
    }


def _time_zone(submission, contact) -> str | None:
    """The zone the visitor's own answers gave (the promise on their page used it)."""
    return submission.fields.get("time_zone") or contact.time_zone
