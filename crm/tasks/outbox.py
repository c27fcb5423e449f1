"""Thin Celery wrappers over the outbox services; they pass ids, never ORM objects."""

from celery import shared_task
from flask import current_app
from kombu.exceptions import OperationalError as BrokerError
from sqlalchemy.exc import OperationalError as DatabaseError

from crm.models import utcnow
from crm.services import delivery, outbox, undelivered

# Only for errors before a row is claimed (database unreachable): a failed send is retried
# through the outbox's own due_at, not through Celery, so it survives a Redis flush.
_RETRY = {
    "autoretry_for": (DatabaseError,),
    "retry_backoff": 5,
    "retry_backoff_max": 300,
    "retry_jitter": True,
    "max_retries": 8,
}


@shared_task(name="outbox.relay", ignore_result=True)
def relay_due_messages() -> int:
    """Hand every due outbox row to a worker, each exactly once."""
    ids = outbox.claim_due(utcnow(), current_app.config["OUTBOX_BATCH_SIZE"])
    for position, message_id in enumerate(ids):
        try:
            deliver_message.delay(message_id)
        except BrokerError:
            outbox.release_undispatched(ids[position:])
            raise
    return len(ids)


@shared_task(name="outbox.deliver", ignore_result=True, **_RETRY)
def deliver_message(message_id: int) -> str:
    """Send one outbox row's email (a no-op if it is already sent)."""
    return delivery.deliver_outbox_message(message_id)


@shared_task(name="outbox.return_stuck", ignore_result=True)
def return_stuck_messages() -> int:
    """Put rows lost with a worker or with the broker back in line."""
    return outbox.return_stuck(utcnow())


@shared_task(name="outbox.alert_dead", ignore_result=True)
def alert_dead_messages() -> int:
    """Tell the managers, in one digest, about emails that ended dead since the last run."""
    return undelivered.alert_managers_of_dead_emails(utcnow())
