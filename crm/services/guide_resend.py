"""Send the guide again, on a staff member's word: one more guide email through the outbox.

The email is built, like the first, from the submission the person sent (their name and
address as they typed them), and the relay delivers it like any other row.
"""

import uuid

import sqlalchemy as sa

from crm.extensions import db
from crm.models import ConsentRecord, Contact, OutboxMessage, Submission, utcnow
from crm.models.enums import CloseOutcome, ConsentChannel, OutboxKind, OutboxStatus, TimelineKind
from crm.services import events, outbox, suppressions
from crm.services.actors import Actor

_IN_FLIGHT = (OutboxStatus.pending, OutboxStatus.dispatched, OutboxStatus.sending)
_NEVER_EMAIL = (CloseOutcome.do_not_contact, CloseOutcome.deceased)
# The newest submissions looked at for an address: a person rarely sends more than a few.
_RECENT_SUBMISSIONS = 20


class ResendRefused(ValueError):
    """No address to send to, the person opted out, or a guide email is on its way already."""


def resend_guide(contact_id: int, user_id: int) -> OutboxMessage:
    """Queue a new guide email for the contact in the caller's transaction."""
    contact = db.session.scalar(
        sa.select(Contact).where(Contact.id == contact_id).with_for_update()
    )
    if contact is None or contact.merged_into_id is not None:
        raise ResendRefused("No such contact.")
    if contact.close_outcome in _NEVER_EMAIL:
        raise ResendRefused(f"This contact is closed as {contact.close_outcome.label.lower()}.")
    ids = [
        contact.id,
        *db.session.scalars(sa.select(Contact.id).where(Contact.merged_into_id == contact.id)),
    ]
    submission = _latest_with_email(ids)
    if submission is None:
        raise ResendRefused("This contact gave no email address: there is nowhere to send it.")
    address = submission.fields["email"]
    reason = suppressions.suppression_reason(address)
    if reason == "bounced":
        raise ResendRefused("Their email address refused our mail (bounced); ask for another.")
    if reason:
        raise ResendRefused("They opted out of our emails; the guide was not sent.")
    if email_revoked(ids):
        raise ResendRefused("They asked staff not to email them; the guide was not sent.")
    in_flight = db.session.scalar(
        sa.select(OutboxMessage.id)
        .where(
            OutboxMessage.contact_id.in_(ids),
            OutboxMessage.kind == OutboxKind.guide_email,
            OutboxMessage.status.in_(_IN_FLIGHT),
        )
        .limit(1)
    )
    if in_flight is not None:
        raise ResendRefused("A guide email is on its way already.")
    now = utcnow()
    message = outbox.queue_email(
        OutboxKind.guide_email,
        contact.id,
        submission.id,
        # One row per staff request: the first guide holds "guide_email:<submission id>".
        f"{OutboxKind.guide_email.value}:{submission.id}:resend:{uuid.uuid4().hex}",
        now,
    )
    events.record(
        contact.id,
        TimelineKind.guide_resent,
        Actor.user(user_id),
        submission_id=submission.id,
        outbox_id=message.id,
        detail={"email": OutboxKind.guide_email.value},
        at=now,
    )
    return message


def _latest_with_email(contact_ids: list[int]):
    recent = db.session.execute(
        sa.select(Submission.id, Submission.fields)
        .where(Submission.contact_id.in_(contact_ids))
        .order_by(Submission.created_at.desc(), Submission.id.desc())
        .limit(_RECENT_SUBMISSIONS)
    ).all()
    return next((row for row in recent if (row.fields or {}).get("email")), None)


def email_revoked(contact_ids: list[int]) -> bool:
    """True when the newest word on email is a refusal given to staff (not a later grant)."""
    latest = db.session.execute(
        sa.select(ConsentRecord.granted)
        .where(
            ConsentRecord.contact_id.in_(contact_ids),
            ConsentRecord.channel == ConsentChannel.email,
            sa.or_(ConsentRecord.granted.is_(True), ConsentRecord.recorded_by_user_id.is_not(None)),
        )
        .order_by(ConsentRecord.recorded_at.desc(), ConsentRecord.id.desc())
        .limit(1)
    ).first()
    return latest is not None and not latest.granted
