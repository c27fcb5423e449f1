"""Delivering one outbox email: idempotent, counted, and never past a stop or outside its window."""

import logging
from datetime import datetime

from crm.extensions import db
from crm.models import OutboxMessage, utcnow
from crm.services import email_content, mail, outbox, sequences, suppressions
from crm.services.ops import counters

log = logging.getLogger(__name__)


def deliver_outbox_message(message_id: int, now: datetime | None = None) -> str:
    """Send the row's email once; return what happened ("sent", "skipped", "retry", ...)."""
    now = now or utcnow()
    claim = outbox.start_sending(message_id, now)
    if claim is None:
        return "skipped"
    message = db.session.get(OutboxMessage, message_id)
    contact, kind = message.contact, message.kind.value
    # Only commercial emails care about an unsubscribe: no look-up for the others.
    suppressed = sequences.is_commercial(message.kind) and suppressions.suppression_reason(
        email_content.recipient(message)[0]
    )
    reason = sequences.stop_reason(message, contact, suppressed)
    if reason:
        outbox.cancel(message_id, reason, now)
        return "cancelled"
    send_at = sequences.next_send_time(message, contact, now)
    if send_at > now:
        outbox.postpone(message_id, send_at)
        return "postponed"
    try:
        email = email_content.compose(message)
        mail.deliver(mail.build_message(email))
    except mail.MailDeliveryError as error:
        db.session.rollback()
        return _record_failure(claim, error, now)
    except Exception as error:  # a poison row must end dead, whatever it raises
        db.session.rollback()
        # Retried like a transient failure, under its class only: the text may quote a visitor.
        return _record_failure(claim, mail.MailDeliveryError(type(error).__name__), now)
    outbox.mark_sent(message_id, now)
    log.info("outbox %s sent (%s)", message_id, kind)
    counters.EMAILS_SENT.labels(kind).inc()
    return "sent"


def _record_failure(claim, error: mail.MailDeliveryError, now: datetime) -> str:
    if error.bounced:
        outbox.mark_bounced(claim, error.summary, error.smtp_code, now)
        outcome = "bounced"
    elif error.permanent:
        outbox.mark_dead(claim, error.summary, now)
        outcome = "dead"
    else:
        status = outbox.mark_failed(claim, error.summary, now)
        outcome = status.value if status.value == "dead" else "retry"
    log.warning("outbox %s attempt %s failed (%s): %s", claim.id, claim.attempts, outcome, error)
    return outcome
