"""Next call: hand one due call to one advocate, atomically, with a lease that runs out."""

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from crm.extensions import db
from crm.models import CallTask, Contact, User
from crm.models.enums import CallTaskStatus
from crm.services.callback_times import callback_due_at
from crm.services.queue import rules
from crm.services.queue.routing import routing_for

# How many of the soonest waiting tasks "when is the next call?" looks at.
_LOOKAHEAD = 200


@dataclass(frozen=True)
class Claim:
    call_task_id: int
    contact_id: int
    lease_expires_at: datetime
    held_already: bool


def held_claim(user_id: int, now: datetime) -> Claim | None:
    """The open call this advocate holds and whose lease has not run out, if any."""
    row = db.session.execute(
        sa.select(CallTask.id, CallTask.contact_id, CallTask.lease_expires_at)
        .where(
            CallTask.claimed_by_user_id == user_id,
            CallTask.lease_expires_at > now,
            CallTask.status == CallTaskStatus.open,
        )
        .order_by(CallTask.lease_expires_at.desc())
        .limit(1)
    ).first()
    return Claim(row.id, row.contact_id, row.lease_expires_at, True) if row else None


def claim_next_call(user: User, now: datetime) -> Claim | None:
    """Claim the most urgent call this advocate may make now; their held one if they have one.

    One UPDATE whose subquery picks the task: on PostgreSQL it locks that row and skips rows
    other advocates are claiming (FOR UPDATE SKIP LOCKED), so concurrent presses get different
    tasks. SQLite has no row locks: it lets one connection write at a time, and the statement
    picks and claims under that one write lock (a second writer waits or fails, never doubles).
    """
    # One press at a time per advocate (a double click is two requests): the second waits
    # for the first to commit, then finds its claim held instead of taking another call.
    db.session.execute(sa.select(User.id).where(User.id == user.id).with_for_update())
    held = held_claim(user.id, now)
    if held is not None:
        return held
    routing = routing_for(user, now)
    until = now + timedelta(minutes=current_app.config["CALL_LEASE_MINUTES"])
    moment = rules.now_parameter()
    pick = (
        sa.select(CallTask.id)
        .join(Contact, Contact.id == CallTask.contact_id)
        .where(
            rules.waiting(moment),
            CallTask.due_at <= moment,
            rules.may_be_called(),
            routing.allowed(),
            rules.inside_calling_time(moment),
        )
        .order_by(*routing.first(), rules.band_rank(), CallTask.due_at, CallTask.id)
        .limit(1)
        .with_for_update(of=CallTask, skip_locked=True)
        # Its own call_tasks, not the UPDATE's (which a subquery would otherwise borrow).
        .correlate(None)
        .scalar_subquery()
    )
    claimed = db.session.execute(
        sa.update(CallTask)
        .where(CallTask.id == pick)
        .values(claimed_by_user_id=user.id, lease_expires_at=until)
        .returning(CallTask.id, CallTask.contact_id)
        .execution_options(synchronize_session=False),
        {"now": now},
    ).first()
    return Claim(claimed.id, claimed.contact_id, until, False) if claimed else None


def next_callable_at(user: User, now: datetime) -> datetime | None:
    """When the soonest waiting call this advocate may make becomes callable, if any is waiting."""
    routing = routing_for(user, now)
    moment = rules.now_parameter()
    rows = db.session.execute(
        sa.select(CallTask.best_time, CallTask.due_at, Contact.time_zone)
        .join(Contact, Contact.id == CallTask.contact_id)
        .where(rules.waiting(moment), rules.may_be_called(), routing.allowed())
        .order_by(CallTask.due_at, CallTask.id)
        .limit(_LOOKAHEAD),
        {"now": now},
    ).all()
    moments = [callback_due_at(row.best_time, row.time_zone, max(now, row.due_at)) for row in rows]
    return min(moments, default=None)
