"""What a new submission sets in motion: its emails, its callback, its printed guide.

All of it is rows written in the submit's own transaction; the relay and the call queue
act on them later.
"""

from datetime import datetime

from crm.extensions import db
from crm.models import Contact, OutboxMessage, Submission, TimelineEvent
from crm.models.call_task import CallTask
from crm.models.enums import BestTime, ConsentChannel, FormKind, TimelineKind
from crm.models.fulfilment import GuideFulfilment
from crm.services import sequences
from crm.services.callback_times import callback_due_at


def plan_followups(
    submission: Submission, contact: Contact, consents: dict, now: datetime
) -> list[OutboxMessage]:
    """Add the outbox rows, call task and fulfilment item a new submission needs."""
    if submission.form == FormKind.callback:
        _plan_callback(submission, contact, now)
    if submission.fields.get("printed_guide"):
        _plan_printed_guide(submission, contact, now)
    if not (submission.fields.get("email") or contact.email):
        return []
    email_consent = bool(consents.get(ConsentChannel.email))
    messages = []
    for step in sequences.steps_for(submission.form, email_consent):
        message = OutboxMessage(
            kind=step.kind,
            contact_id=contact.id,
            submission_id=submission.id,
            payload={"submission_id": submission.id},
            dedupe_key=f"{step.kind.value}:{submission.id}",
            due_at=now + step.delay,
        )
        db.session.add(message)
        messages.append(message)
    db.session.flush()
    for message in messages:
        _event(
            contact,
            submission,
            TimelineKind.email_queued,
            now,
            outbox_id=message.id,
            detail={"email": message.kind.value, "due_at": message.due_at.isoformat()},
        )
    return messages


def _plan_callback(submission: Submission, contact: Contact, now: datetime) -> None:
    best_time = BestTime.from_value(submission.fields.get("best_time")) or BestTime.asap
    task = CallTask(
        contact_id=contact.id,
        submission_id=submission.id,
        best_time=best_time,
        due_at=callback_due_at(best_time, contact.time_zone, now),
        created_at=now,
    )
    db.session.add(task)
    db.session.flush()
    _event(
        contact,
        submission,
        TimelineKind.callback_due,
        now,
        detail={"call_task_id": task.id, "due_at": task.due_at.isoformat()},
    )


def _plan_printed_guide(submission: Submission, contact: Contact, now: datetime) -> None:
    item = GuideFulfilment(
        contact_id=contact.id,
        submission_id=submission.id,
        mailing_address=submission.fields["mailing_address"],
        created_at=now,
    )
    db.session.add(item)
    db.session.flush()
    _event(contact, submission, TimelineKind.guide_to_print, now, detail={"fulfilment_id": item.id})


def _event(contact, submission, kind: TimelineKind, now, outbox_id=None, detail=None) -> None:
    db.session.add(
        TimelineEvent(
            contact_id=contact.id,
            kind=kind,
            submission_id=submission.id,
            outbox_id=outbox_id,
            detail=detail or {},
            created_at=now,
        )
    )
