"""A person asked staff not to be contacted on a channel: recorded, and everything queued stops.

The refusal is a consent record of its own (granted=False, written by the staff member), so the
evidence trail reads in order: what the visitor agreed to on each form, then what they took
back. In the same transaction the calls nobody has made yet are cancelled (calls and texts),
or the commercial emails not yet started are cancelled and the address suppressed (email), so
no worker or advocate acts on them after the request commits.
"""

from dataclasses import dataclass

import sqlalchemy as sa

from crm.extensions import db
from crm.models import CallTask, ConsentRecord, Contact, OutboxMessage, utcnow
from crm.models.enums import CallTaskStatus, ConsentChannel, OutboxStatus, TimelineKind
from crm.services import events, outbox, suppressions
from crm.services.actors import Actor
from crm.services.sequences import TRANSACTIONAL

REVOCATION_VERSION = "staff-revocation-2026-11-27"
REVOCATION_TEXT = {
    ConsentChannel.calls_texts: "The person told staff not to call or text them.",
    ConsentChannel.email: "The person told staff not to send them emails.",
}
SUPPRESSION_REASON = "staff_do_not_contact"
# Rows a worker has not started: a dispatched row is refused by start_sending once cancelled.
_NOT_STARTED = (OutboxStatus.pending, OutboxStatus.dispatched)


class DoNotContactRefused(ValueError):
    """No such contact, or one merged into another (act on the survivor)."""


@dataclass(frozen=True)
class DoNotContactResult:
    consent_record_id: int
    cancelled_call_tasks: int
    cancelled_emails: int


def mark_do_not_contact(
    contact_id: int, channel: ConsentChannel, user_id: int, ip_address: str | None
) -> DoNotContactResult:
    """Record the refusal and cancel what is queued on that channel, in the caller's transaction."""
    contact = db.session.scalar(
        sa.select(Contact).where(Contact.id == contact_id).with_for_update()
    )
    if contact is None or contact.merged_into_id is not None:
        raise DoNotContactRefused("No such contact.")
    now = utcnow()
    # The person is the survivor and every record merged into it.
    ids = [
        contact.id,
        *db.session.scalars(sa.select(Contact.id).where(Contact.merged_into_id == contact.id)),
    ]
    record = ConsentRecord(
        contact_id=contact.id,
        submission_id=None,
        form=None,
        channel=channel,
        granted=False,
        text=REVOCATION_TEXT[channel],
        text_version=REVOCATION_VERSION,
        recorded_at=now,
        ip_address=(ip_address or "")[:45] or None,
        recorded_by_user_id=user_id,
    )
    db.session.add(record)
    db.session.flush()
    calls = emails = 0
    if channel == ConsentChannel.calls_texts:
        calls = _cancel_open_calls(ids)
    else:
        emails = _cancel_commercial_emails(ids, Actor.user(user_id), now)
        addresses = db.session.scalars(
            sa.select(Contact.email).where(Contact.id.in_(ids), Contact.email.is_not(None))
        ).all()
        for address in addresses:
            suppressions.add_suppression(address, SUPPRESSION_REASON)
    events.record(
        contact.id,
        TimelineKind.do_not_contact,
        Actor.user(user_id),
        detail={
            "channel": channel.value,
            "consent_record_id": record.id,
            "cancelled_call_tasks": calls,
            "cancelled_emails": emails,
        },
        at=now,
    )
    return DoNotContactResult(record.id, calls, emails)


def _cancel_open_calls(contact_ids: list[int]) -> int:
    result = db.session.execute(
        sa.update(CallTask)
        .where(CallTask.contact_id.in_(contact_ids), CallTask.status == CallTaskStatus.open)
        .values(status=CallTaskStatus.cancelled)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def _cancel_commercial_emails(contact_ids: list[int], actor: Actor, now) -> int:
    # What the person asked for themselves (their guide, a confirmation) is not commercial.
    return outbox.cancel_unsent(
        [
            OutboxMessage.contact_id.in_(contact_ids),
            OutboxMessage.status.in_(_NOT_STARTED),
            OutboxMessage.kind.not_in(TRANSACTIONAL),
        ],
        "do_not_contact",
        actor,
        now,
    )
