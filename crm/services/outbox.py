"""The outbox: claiming due rows for the relay, and the life of one row from claim to sent or dead.

Transient failures are retried with backoff for OUTBOX_RETRY_WINDOW_HOURS after the first
attempt, then the row is dead; a permanent refusal (5xx) bounces it at once.

Every transition is one conditional UPDATE, so that two workers (or a redelivered task)
can never both own a row: the UPDATE is the lock, on PostgreSQL and on SQLite alike.
Each transition commits at once, unlike staff services: a claim or a "sent" that waited for
a later commit could be lost with the worker, and the email would go out twice.
"""

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from crm.extensions import db
from crm.models import OutboxMessage, utcnow
from crm.models.enums import OutboxKind, OutboxStatus, TimelineKind
from crm.services import email_content, events, suppressions
from crm.services.actors import SYSTEM, Actor


@dataclass(frozen=True)
class ClaimedMessage:
    id: int
    attempts: int


def claim_due(now: datetime, limit: int) -> list[int]:
    """Mark up to `limit` due rows dispatched and return their ids, each to one caller only."""
    due = (
        sa.select(OutboxMessage.id)
        .where(OutboxMessage.status == OutboxStatus.pending, OutboxMessage.due_at <= now)
        .order_by(OutboxMessage.due_at)
        .limit(limit)
    )
    if db.session.get_bind().dialect.name == "postgresql":
        # Other relays skip the rows locked here instead of waiting for them.
        due = due.with_for_update(skip_locked=True)
    # Ids first, then one UPDATE of exactly those: a LIMIT inside the UPDATE's subquery may
    # be re-evaluated per row by PostgreSQL and overshoot the batch.
    ids = db.session.scalars(due).all()
    if not ids:
        db.session.rollback()
        return []
    claimed = db.session.scalars(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids), OutboxMessage.status == OutboxStatus.pending)
        .values(status=OutboxStatus.dispatched, dispatched_at=now)
        .returning(OutboxMessage.id)
        .execution_options(synchronize_session=False)
    ).all()
    db.session.commit()
    return sorted(claimed)


def release_undispatched(ids: list[int]) -> None:
    """Put rows back when the broker refused them, so the next relay run tries again."""
    if not ids:
        return
    db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids), OutboxMessage.status == OutboxStatus.dispatched)
        .values(status=OutboxStatus.pending, dispatched_at=None)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def return_stuck(now: datetime) -> int:
    """Return rows whose task or worker was lost (Redis flushed, worker killed) to pending."""
    dispatch_lease = timedelta(seconds=current_app.config["OUTBOX_DISPATCH_LEASE_SECONDS"])
    sending_lease = timedelta(seconds=current_app.config["OUTBOX_SENDING_LEASE_SECONDS"])
    result = db.session.execute(
        sa.update(OutboxMessage)
        .where(
            sa.or_(
                sa.and_(
                    OutboxMessage.status == OutboxStatus.dispatched,
                    OutboxMessage.dispatched_at < now - dispatch_lease,
                ),
                sa.and_(
                    OutboxMessage.status == OutboxStatus.sending,
                    OutboxMessage.dispatched_at < now - sending_lease,
                ),
            )
        )
        .values(status=OutboxStatus.pending, dispatched_at=None)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return result.rowcount


def start_sending(message_id: int, now: datetime) -> ClaimedMessage | None:
    """Take the row for one delivery attempt, counting it; None if it is not ours to send."""
    max_attempts = current_app.config["OUTBOX_MAX_ATTEMPTS"]
    row = db.session.execute(
        sa.update(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            OutboxMessage.status.in_([OutboxStatus.pending, OutboxStatus.dispatched]),
            # A stale duplicate task must not retry a row before its backoff is over.
            OutboxMessage.due_at <= now,
            OutboxMessage.attempts < max_attempts,
        )
        .values(
            status=OutboxStatus.sending,
            attempts=OutboxMessage.attempts + 1,
            dispatched_at=now,
            first_attempt_at=sa.func.coalesce(OutboxMessage.first_attempt_at, now),
        )
        .returning(OutboxMessage.id, OutboxMessage.attempts)
        .execution_options(synchronize_session=False)
    ).first()
    if row is None:
        db.session.rollback()
        _bury_if_exhausted(message_id, now)
        return None
    db.session.commit()
    return ClaimedMessage(row.id, row.attempts)


def mark_sent(message_id: int, now: datetime) -> None:
    message = db.session.get(OutboxMessage, message_id)
    message.status = OutboxStatus.sent
    message.sent_at = now
    message.last_error = None
    _timeline(message, TimelineKind.email_sent, now)
    db.session.commit()


def mark_failed(claim: ClaimedMessage, error: str, now: datetime) -> OutboxStatus:
    """Record a transient failure: back off and try again, or end `dead` once the window is over.

    `error` is the error class and SMTP code only: a server's reply text can hold the address.
    """
    message = db.session.get(OutboxMessage, claim.id)
    window = timedelta(hours=current_app.config["OUTBOX_RETRY_WINDOW_HOURS"])
    window_ends = (message.first_attempt_at or now) + window
    if now >= window_ends or claim.attempts >= current_app.config["OUTBOX_MAX_ATTEMPTS"]:
        _give_up(message, OutboxStatus.dead, TimelineKind.email_dead, error, now)
    else:
        message.status = OutboxStatus.pending
        message.last_error = error[:500]
        # The last retry falls on the window's end, so that the row is tried once more then.
        message.due_at = min(now + retry_delay(claim.attempts), window_ends)
        _timeline(message, TimelineKind.email_failed, now, error=error[:200])
    db.session.commit()
    return message.status


def mark_bounced(claim: ClaimedMessage, error: str, smtp_code: int, now: datetime) -> None:
    """The recipient's server refused the message for good: bounce it, suppress the address."""
    message = db.session.get(OutboxMessage, claim.id)
    _give_up(
        message, OutboxStatus.bounced, TimelineKind.email_bounced, error, now, smtp_code=smtp_code
    )
    address = email_content.recipient(message)[0]
    if address:
        # Commercial mail stops; what the person asks for later is still sent (as for unsubscribes).
        suppressions.add_suppression(address, "bounced", outbox_id=message.id)
    db.session.commit()


def mark_dead(claim: ClaimedMessage, error: str, now: datetime) -> None:
    """Give up at once on a failure no retry can cure (our SMTP configuration is wrong)."""
    message = db.session.get(OutboxMessage, claim.id)
    _give_up(message, OutboxStatus.dead, TimelineKind.email_dead, error, now)
    db.session.commit()


def postpone(message_id: int, until: datetime) -> None:
    """Give back a claim without using up an attempt (outside the contact's send window)."""
    message = db.session.get(OutboxMessage, message_id)
    message.status = OutboxStatus.pending
    message.attempts = max(message.attempts - 1, 0)
    message.due_at = until
    db.session.commit()


def cancel(message_id: int, reason: str, now: datetime) -> None:
    message = db.session.get(OutboxMessage, message_id)
    message.status = OutboxStatus.cancelled
    message.last_error = reason
    _timeline(message, TimelineKind.email_cancelled, now, reason=reason)
    db.session.commit()


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff with jitter, capped, from the attempt count."""
    base = current_app.config["OUTBOX_RETRY_BASE_SECONDS"]
    cap = current_app.config["OUTBOX_RETRY_MAX_SECONDS"]
    seconds = min(base * 2 ** max(attempts - 1, 0), cap)
    return timedelta(seconds=seconds * random.uniform(0.5, 1.0))


def _bury_if_exhausted(message_id: int, now: datetime) -> None:
    # A row whose every attempt died with its worker (kill -9, OOM) never reached
    # mark_failed: it is buried here the next time anyone tries it.
    message = db.session.get(OutboxMessage, message_id)
    if (
        message is not None
        and message.status in (OutboxStatus.pending, OutboxStatus.dispatched)
        and message.attempts >= current_app.config["OUTBOX_MAX_ATTEMPTS"]
    ):
        error = message.last_error or "gave up: every attempt was lost with its worker"
        _give_up(message, OutboxStatus.dead, TimelineKind.email_dead, error, now)
        db.session.commit()


def _give_up(message, status: OutboxStatus, kind: TimelineKind, error: str, now, **detail):
    message.status = status
    message.last_error = error[:500]
    message.given_up_at = now
    _timeline(message, kind, now, error=error[:200], **detail)


def _timeline(message: OutboxMessage, kind: TimelineKind, now: datetime, **detail) -> None:
    if message.contact_id is None:  # a staff alert about no one contact
        return
    events.record(
        message.contact_id,
        kind,
        submission_id=message.submission_id,
        outbox_id=message.id,
        detail={"email": message.kind.value, "attempt": message.attempts, **detail},
        at=now,
    )


def cancel_unsent(conditions: list, reason: str, actor: Actor = SYSTEM, now=None) -> int:
    """Cancel the matching emails not sent yet, each with an email_cancelled event; flush only.

    `conditions` select the rows (and which statuses count as not started); `reason` goes into
    last_error and the event, a code such as "corrected" or "do_not_contact".
    """
    now = now or utcnow()
    cancelled = db.session.execute(
        sa.update(OutboxMessage)
        .where(*conditions)
        .values(status=OutboxStatus.cancelled, last_error=reason)
        .returning(
            OutboxMessage.id,
            OutboxMessage.contact_id,
            OutboxMessage.submission_id,
            OutboxMessage.kind,
        )
        .execution_options(synchronize_session=False)
    ).all()
    if cancelled:
        db.session.connection().execute(
            events.INSERT,
            [
                events.row(
                    row.contact_id,
                    TimelineKind.email_cancelled,
                    actor,
                    submission_id=row.submission_id,
                    outbox_id=row.id,
                    detail={"email": row.kind.value, "reason": reason},
                    at=now,
                )
                for row in cancelled
            ],
        )
    return len(cancelled)


def queue_email(
    kind: OutboxKind,
    contact_id: int,
    submission_id: int,
    dedupe_key: str,
    now: datetime,
    *,
    payload: dict | None = None,
) -> OutboxMessage:
    """Add one email built from a submission's own fields, due now; flush and return it.

    For emails staff or call outcomes send later on; a submit's own emails are planned in its
    transaction by crm/services/followups.py.
    """
    message = OutboxMessage(
        kind=kind,
        contact_id=contact_id,
        submission_id=submission_id,
        payload={"submission_id": submission_id, **(payload or {})},
        dedupe_key=dedupe_key,
        due_at=now,
        created_at=now,
    )
    db.session.add(message)
    db.session.flush()
    return message
