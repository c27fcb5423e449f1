"""Which emails each form sends and when, and when a sequence must stop: configured here only."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from crm.models import Contact, OutboxMessage
from crm.models.enums import CloseOutcome, FormKind, OutboxKind, Stage
from crm.services.callback_times import contact_zone
from crm.services.windows import email_send_hours


@dataclass(frozen=True)
class Step:
    kind: OutboxKind
    delay: timedelta


SEQUENCES: dict[FormKind, tuple[Step, ...]] = {
    FormKind.guide: (
        Step(OutboxKind.guide_email, timedelta(0)),
        Step(OutboxKind.guide_check_in, timedelta(days=2)),
        Step(OutboxKind.specialist_offer, timedelta(days=7)),
    ),
    FormKind.callback: (Step(OutboxKind.callback_confirmation, timedelta(0)),),
    # The advocate's match email itself is sent by hand from the advocate pages.
    FormKind.specialist_match: (Step(OutboxKind.specialist_confirmation, timedelta(0)),),
    # A chat answers in the chat itself: no confirmation email.
    FormKind.chat: (),
}

# What the visitor asked for (or staff need): sent even after an unsubscribe. Everything
# else is commercial: it needs email consent, honours unsubscribes and the send window.
TRANSACTIONAL = frozenset(
    {
        OutboxKind.guide_email,
        OutboxKind.callback_confirmation,
        OutboxKind.specialist_confirmation,
        # Asked for on the specialist-match form; staff check opt-outs before queueing it.
        OutboxKind.specialist_match,
        OutboxKind.callback_escalation,
        OutboxKind.undelivered_digest,
    }
)
# Emails to staff: no contact's stage or window applies.
STAFF_ALERTS = frozenset({OutboxKind.callback_escalation, OutboxKind.undelivered_digest})
_NEVER_EMAIL = {CloseOutcome.do_not_contact, CloseOutcome.deceased}
# Commercial emails whose whole point is the close: they go to a contact closed this way.
_SENT_ON_CLOSE = {OutboxKind.tried_to_reach: CloseOutcome.unreachable}
_REACHED = {Stage.contacted, Stage.qualified, Stage.referred}


def is_commercial(kind: OutboxKind) -> bool:
    return kind not in TRANSACTIONAL


def steps_for(form: FormKind, email_consent: bool) -> tuple[Step, ...]:
    """The emails to plan for a new submission; commercial ones only with consent."""
    return tuple(step for step in SEQUENCES[form] if email_consent or not is_commercial(step.kind))


def stop_reason(message: OutboxMessage, contact: Contact | None, suppressed) -> str | None:
    """Why this email must not go out now, or None if it may.

    `suppressed` is the address's suppression reason ("unsubscribe", "bounced") or falsy.
    """
    if message.kind in STAFF_ALERTS:
        return None
    if contact.stage == Stage.closed and contact.close_outcome in _NEVER_EMAIL:
        return contact.close_outcome.value
    if not is_commercial(message.kind):
        return None
    if suppressed:
        return "bounced" if suppressed == "bounced" else "unsubscribed"
    if contact.stage in _REACHED:
        return "reached"
    if contact.stage == Stage.closed and _SENT_ON_CLOSE.get(message.kind) != contact.close_outcome:
        return "closed"
    return None


def next_send_time(message: OutboxMessage, contact: Contact, now: datetime) -> datetime:
    """Now, or the next opening of the contact's local send window for a commercial email."""
    if not is_commercial(message.kind):
        return now
    zone = contact_zone(contact.time_zone)
    local = now.astimezone(zone)
    window = email_send_hours()
    opens = window.opens
    if window.contains(local.time()):
        return now
    day = local.date() if local.time() < opens else local.date() + timedelta(days=1)
    return datetime.combine(day, opens, tzinfo=zone).astimezone(now.tzinfo)
