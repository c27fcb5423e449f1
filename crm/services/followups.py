"""Which follow-ups each submission plans: rows in the outbox, sent later by the relay."""

from datetime import datetime

from crm.extensions import db
from crm.models import Contact, OutboxMessage, Submission, TimelineEvent
from crm.models.enums import FormKind, OutboxKind, TimelineKind

# The email each form sends straight away; later steps of each sequence build on this.
IMMEDIATE_EMAIL = {
    FormKind.guide: OutboxKind.guide_email,
    FormKind.callback: OutboxKind.callback_confirmation,
    FormKind.specialist_match: OutboxKind.specialist_confirmation,
}


def plan_followups(submission: Submission, contact: Contact, now: datetime) -> list[OutboxMessage]:
    """Add the outbox rows (and their timeline events) for a new submission."""
    if not (submission.fields.get("email") or contact.email):
        return []
    kind = IMMEDIATE_EMAIL[submission.form]
    message = OutboxMessage(
        kind=kind,
        contact_id=contact.id,
        submission_id=submission.id,
        payload={"submission_id": submission.id},
        dedupe_key=f"{kind.value}:{submission.id}",
        due_at=now,
    )
    db.session.add(message)
    db.session.flush()
    db.session.add(
        TimelineEvent(
            contact_id=contact.id,
            kind=TimelineKind.email_queued,
            submission_id=submission.id,
            outbox_id=message.id,
            detail={"email": kind.value},
            created_at=now,
        )
    )
    return [message]
