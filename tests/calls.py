"""Call tasks as the queue tests need them: a contact in a zone with a call due since a moment."""

from datetime import datetime, timedelta

import sqlalchemy as sa

from crm.extensions import db
from crm.models import CallTask, Contact
from crm.models.enums import BestTime, CallReason, CallTaskStatus, FormKind
from tests.factories import make_contact


def due_call(
    due_at: datetime,
    *,
    reason: CallReason = CallReason.requested_callback,
    zone: str = "America/New_York",
    best_time: BestTime = BestTime.asap,
    **contact_values,
) -> tuple[int, int]:
    """A callback contact (who consented to calls) whose one call is due at due_at.

    Returns (contact id, call task id); committed.
    """
    contact_id = make_contact(FormKind.callback).id
    db.session.execute(
        sa.update(Contact).where(Contact.id == contact_id).values(time_zone=zone, **contact_values)
    )
    task_id = db.session.scalar(sa.select(CallTask.id).where(CallTask.contact_id == contact_id))
    db.session.execute(
        sa.update(CallTask)
        .where(CallTask.id == task_id)
        .values(due_at=due_at, reason=reason, best_time=best_time)
    )
    db.session.commit()
    return contact_id, task_id


def zone_at_midday(now: datetime) -> str:
    """A fixed-offset zone where `now` falls between 11:00 and 13:00: callable whatever the hour."""
    for hours in range(-12, 15):
        if 11 <= (now + timedelta(hours=hours)).hour < 13:
            # Etc/GMT signs are inverted: Etc/GMT-5 is five hours ahead of UTC.
            return f"Etc/GMT{-hours:+d}" if hours else "Etc/UTC"
    raise AssertionError("some offset always puts now at midday")


def breached_call(
    due_at: datetime,
    *,
    attempted_at: datetime | None = None,
    status: CallTaskStatus = CallTaskStatus.open,
    owner: int | None = None,
) -> int:
    """A callback due at due_at, escalated 15 minutes later, then maybe called or closed.

    Returns the contact id; committed.
    """
    contact_id, task_id = due_call(due_at)
    db.session.execute(
        sa.update(CallTask)
        .where(CallTask.id == task_id)
        .values(
            escalated_at=due_at + timedelta(minutes=15),
            attempts=1 if attempted_at else 0,
            first_attempt_at=attempted_at,
            status=status,
        )
    )
    db.session.execute(
        sa.update(Contact).where(Contact.id == contact_id).values(assigned_user_id=owner)
    )
    db.session.commit()
    return contact_id
