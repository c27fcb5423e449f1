"""Logging a call: who may, what is written down, and the next step it sets off."""

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from crm.extensions import db
from crm.models import Call, CallTask, Contact, User
from crm.models.enums import CallOutcome, CallTaskStatus, Role, TimelineKind
from crm.services import call_outcomes, events
from crm.services.actors import Actor
from crm.services.stages import StageChangeRefused

MAX_NOTE_LENGTH = 5000
# Longer than any real call: a typo in the minutes box, not a call.
MAX_DURATION_SECONDS = 6 * 3600


class CallRefused(ValueError):
    """Not the advocate holding the call, the call is no longer open, or the form is wrong."""


@dataclass(frozen=True)
class LoggedCall:
    call_id: int
    contact_id: int
    outcome: CallOutcome
    next_step: str
    next_due_at: datetime | None


def log_call(
    task_id: int,
    user: User,
    outcome: CallOutcome,
    *,
    duration_seconds: int,
    note: str | None,
    call_back_at: datetime | None = None,
    now: datetime,
    ip_address: str | None = None,
) -> LoggedCall:
    """Write the call, count the attempt, close the task and schedule what follows; flush only."""
    task = db.session.scalar(sa.select(CallTask).where(CallTask.id == task_id).with_for_update())
    if task is None or task.status != CallTaskStatus.open:
        raise CallRefused("This call is no longer open; take the next one from the queue.")
    holds = (
        task.claimed_by_user_id == user.id and task.lease_expires_at and task.lease_expires_at > now
    )
    if not holds and user.role != Role.manager:
        raise CallRefused("Only the advocate who took this call can log it.")
    contact = db.session.get(Contact, task.contact_id)
    note = (note or "").strip() or None
    _check(outcome, duration_seconds, note, call_back_at, contact, now)
    call = Call(
        contact_id=contact.id,
        call_task_id=task.id,
        user_id=user.id,
        outcome=outcome,
        duration_seconds=duration_seconds,
        note=note,
        call_back_at=call_back_at if outcome == CallOutcome.call_back_at else None,
        created_at=now,
    )
    db.session.add(call)
    # The attempt counts at once: escalation looks for callbacks with no attempt.
    task.attempts += 1
    task.first_attempt_at = task.first_attempt_at or now
    task.claimed_by_user_id = None
    task.lease_expires_at = None
    task.status = CallTaskStatus.done
    db.session.flush()
    actor = Actor.user(user.id)
    events.record(
        contact.id,
        TimelineKind.call_logged,
        actor,
        detail={
            "call_id": call.id,
            "call_task_id": task.id,
            "outcome": outcome.value,
            "duration_seconds": duration_seconds,
        },
        at=now,
    )
    try:
        step = call_outcomes.follow_up(task, contact, call, actor, ip_address, now)
    except StageChangeRefused as refused:
        raise CallRefused(str(refused)) from refused
    return LoggedCall(call.id, contact.id, outcome, step.message, step.due_at)


def _check(outcome, duration_seconds, note, call_back_at, contact, now) -> None:
    if not 0 <= duration_seconds <= MAX_DURATION_SECONDS:
        raise CallRefused("Give the call's length in minutes (0 if it did not connect).")
    if note is not None and len(note) > MAX_NOTE_LENGTH:
        raise CallRefused(f"Keep the note under {MAX_NOTE_LENGTH} characters.")
    if outcome != CallOutcome.call_back_at:
        return
    if call_back_at is None:
        raise CallRefused("Give the time they asked to be called back, in their time.")
    if call_back_at <= now:
        raise CallRefused("The call-back time has passed; give a time in the future.")
    if not call_outcomes.in_calling_hours(call_back_at, contact.time_zone):
        hours = call_outcomes.calling_hours()
        raise CallRefused(
            f"We only call between {hours.opens:%H:%M} and {hours.closes:%H:%M} in their time; "
            "pick a time inside those hours."
        )


def for_contacts(contact_ids: list[int], limit: int = 50) -> list[Call]:
    """Newest first: the calls logged for these contacts."""
    return list(
        db.session.scalars(
            sa.select(Call)
            .where(Call.contact_id.in_(contact_ids))
            .order_by(Call.created_at.desc(), Call.id.desc())
            .limit(limit)
        )
    )
