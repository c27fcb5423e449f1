"""What a new submission sets in motion: its emails, its callback, its printed guide.

All of it is rows written in the submit's own transaction; the relay and the call queue
act on them later.
"""

from datetime import datetime

import sqlalchemy as sa

from crm.extensions import db
from crm.models import Contact, OutboxMessage, Submission, TimelineEvent
from crm.models.call_task import CallTask
from crm.models.enums import (
    BestTime,
    CallTaskStatus,
    ConsentChannel,
    FormKind,
    FulfilmentStatus,
    OutboxStatus,
    TimelineKind,
)
from crm.models.fulfilment import GuideFulfilment
from crm.services import sequences
from crm.services.callback_times import callback_due_at


def plan_followups(
    submission: Submission, contact: Contact, consents: dict, now: datetime
) -> list[OutboxMessage]:
    """Add the outbox rows, call task and fulfilment item a new submission needs."""
    call_task = (
        _call_task(submission, contact, now) if submission.form == FormKind.callback else None
    )
    fulfilment = (
        _fulfilment(submission, contact, now) if submission.fields.get("printed_guide") else None
    )
    messages = _emails(submission, contact, consents, now)
    db.session.add_all([row for row in (call_task, fulfilment, *messages) if row is not None])
    # One flush for the ids the timeline refers to; the events then go in one INSERT.
    db.session.flush()
    events = []
    if call_task is not None:
        detail = {"call_task_id": call_task.id, "due_at": call_task.due_at.isoformat()}
        events.append((TimelineKind.callback_due, None, detail))
    if fulfilment is not None:
        events.append((TimelineKind.guide_to_print, None, {"fulfilment_id": fulfilment.id}))
    for message in messages:
        detail = {"email": message.kind.value, "due_at": message.due_at.isoformat()}
        events.append((TimelineKind.email_queued, message.id, detail))
    db.session.add_all(
        TimelineEvent(
            contact_id=contact.id,
            kind=kind,
            submission_id=submission.id,
            outbox_id=outbox_id,
            detail=detail,
            created_at=now,
        )
        for kind, outbox_id, detail in events
    )
    return messages


def cancel_superseded(submission_id: int, now: datetime) -> None:
    """Withdraw what a corrected submission had planned and not yet started."""
    cancelled = db.session.execute(
        sa.update(OutboxMessage)
        .where(
            OutboxMessage.submission_id == submission_id,
            OutboxMessage.status == OutboxStatus.pending,
        )
        .values(status=OutboxStatus.cancelled, last_error="corrected")
        .returning(OutboxMessage.id, OutboxMessage.contact_id, OutboxMessage.kind)
        .execution_options(synchronize_session=False)
    ).all()
    db.session.add_all(
        TimelineEvent(
            contact_id=row.contact_id,
            kind=TimelineKind.email_cancelled,
            submission_id=submission_id,
            outbox_id=row.id,
            detail={"email": row.kind.value, "reason": "corrected"},
            created_at=now,
        )
        for row in cancelled
    )
    # A call nobody has tried yet and a guide nobody has printed follow the correction instead.
    for model, status, values in (
        (CallTask, CallTaskStatus.open, {"status": CallTaskStatus.cancelled}),
        (GuideFulfilment, FulfilmentStatus.to_print, {"status": FulfilmentStatus.cancelled}),
    ):
        condition = [model.submission_id == submission_id, model.status == status]
        if model is CallTask:
            condition.append(CallTask.attempts == 0)
        db.session.execute(
            sa.update(model)
            .where(*condition)
            .values(**values)
            .execution_options(synchronize_session=False)
        )


def _emails(submission, contact, consents: dict, now: datetime) -> list[OutboxMessage]:
    # Only the address this submission gave: never one the contact record had from before.
    if not submission.fields.get("email"):
        return []
    email_consent = bool(consents.get(ConsentChannel.email))
    return [
        OutboxMessage(
            kind=step.kind,
            contact_id=contact.id,
            submission_id=submission.id,
            payload={"submission_id": submission.id},
            dedupe_key=f"{step.kind.value}:{submission.id}",
            due_at=now + step.delay,
            created_at=now,
        )
        for step in sequences.steps_for(submission.form, email_consent)
    ]


def _call_task(submission: Submission, contact: Contact, now: datetime) -> CallTask:
    best_time = BestTime.from_value(submission.fields.get("best_time")) or BestTime.asap
    return CallTask(
        contact_id=contact.id,
        submission_id=submission.id,
        best_time=best_time,
        due_at=callback_due_at(best_time, _time_zone(submission, contact), now),
        created_at=now,
    )


def _fulfilment(submission: Submission, contact: Contact, now: datetime) -> GuideFulfilment:
    return GuideFulfilment(
        contact_id=contact.id,
        submission_id=submission.id,
        mailing_address=submission.fields["mailing_address"],
        created_at=now,
    )


def _time_zone(submission: Submission, contact: Contact) -> str | None:
    """The zone the visitor's own answers gave (the promise on their page used it)."""
    return submission.fields.get("time_zone") or contact.time_zone
