"""Next call: hand one due call to one advocate, atomically, with a lease that runs out."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

import sqlalchemy as sa
from flask import current_app

from crm.extensions import db
from crm.models import CallTask, Contact, User
from crm.services.callback_times import callback_due_at
from crm.services.queue import rules
from crm.services.queue.routing import Routing, colleagues_of, routing_for

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
    row = db.session.execute(_HELD, {"user_id": user_id, "now": now}).first()
    return Claim(row.id, row.contact_id, row.lease_expires_at, True) if row else None


def claim_next_call(user: User, now: datetime) -> Claim | None:
    """Claim the most urgent call this advocate may make now; their held one if they have one.

    One UPDATE whose subquery picks the task: on PostgreSQL it locks that row and skips rows
    other advocates are claiming (FOR UPDATE SKIP LOCKED), so concurrent presses get different
    tasks. SQLite has no row locks: it lets one connection write at a time, and the statement
    picks and claims under that one write lock (a second writer waits or fails, never doubles).
    Three round trips in all, with the transaction's own two: every one is felt when ten
    advocates press at once.
    """
    # One press at a time per advocate (a double click is two requests): the second waits on
    # the advocate's row, and its UPDATE, a new statement with a new snapshot, then finds the
    # first one's claim held. The same statement reads who else is at work, for routing.
    rows = db.session.execute(_LOCK_ADVOCATE_READ_COLLEAGUES, {"user_id": user.id}).all()
    colleagues = [row for row in rows if row.colleague_id is not None]
    routing = routing_for(user, now, colleagues)
    until = now + timedelta(minutes=current_app.config["CALL_LEASE_MINUTES"])
    statement = _claim_statement(routing, current_app.config["CALLING_HOURS"])
    claimed = db.session.execute(
        statement, {"user_id": user.id, "until": until, "now": now}
    ).first()
    if claimed is None:
        return None
    # A held call keeps its lease: a lease other than the new one means it was held already.
    held = claimed.lease_expires_at != until
    return Claim(claimed.id, claimed.contact_id, claimed.lease_expires_at, held)


_USER_ID = sa.bindparam("user_id", type_=sa.Integer())
_ME = sa.select(User.id).where(User.id == _USER_ID).with_for_update().cte("me")
_LOCK_ADVOCATE_READ_COLLEAGUES = (
    sa.select(_ME.c.id, User.id.label("colleague_id"), User.skills, User.working_hours)
    .select_from(_ME)
    .outerjoin(User, sa.and_(*colleagues_of(_ME.c.id)))
)
_HELD = (
    sa.select(CallTask.id, CallTask.contact_id, CallTask.lease_expires_at)
    .where(
        CallTask.claimed_by_user_id == _USER_ID,
        CallTask.lease_expires_at > rules.now_parameter(),
        rules.is_open(),
    )
    .order_by(CallTask.lease_expires_at.desc())
    .limit(1)
)


# Built once per routing and CALLING_HOURS setting (which the calling-time conditions read):
# a statement this size costs more to build and to key for SQLAlchemy's compiled cache than
# PostgreSQL takes to run it, and ten advocates pressing at once share one process's CPU.
@cache
def _claim_statement(routing: Routing, calling_hours: str) -> sa.Update:
    # The call this advocate holds; else the calls that need their skills, then anyone's: a
    # walk along the claim order for each, in one statement (COALESCE reads the next only
    # when the one before is empty) rather than one sort of every due call by "is it mine".
    held = _HELD.with_only_columns(CallTask.id).correlate(None).scalar_subquery()
    picks = [_pick(routing.allowed(), extra) for extra in routing.passes()]
    kept = sa.and_(
        CallTask.claimed_by_user_id == _USER_ID,
        CallTask.lease_expires_at > rules.now_parameter(),
    )
    return (
        sa.update(CallTask)
        .where(CallTask.id == sa.func.coalesce(held, *picks))
        .values(
            claimed_by_user_id=_USER_ID,
            lease_expires_at=sa.case(
                (kept, CallTask.lease_expires_at),
                else_=sa.bindparam("until", type_=CallTask.lease_expires_at.type),
            ),
        )
        .returning(CallTask.id, CallTask.contact_id, CallTask.lease_expires_at)
        .execution_options(synchronize_session=False)
    )


def _pick(allowed: sa.ColumnElement, extra: sa.ColumnElement) -> sa.ScalarSelect:
    """The first waiting task along the claim order that passes every rule and `extra`, locked."""
    moment = rules.now_parameter()
    return (
        sa.select(CallTask.id)
        .join(Contact, Contact.id == CallTask.contact_id)
        .where(
            rules.waiting(moment),
            CallTask.due_at <= moment,
            rules.inside_calling_time(moment),
            allowed,
            extra,
            rules.may_be_called(),
        )
        .order_by(*rules.CLAIM_ORDER)
        .limit(1)
        .with_for_update(of=CallTask, skip_locked=True)
        # Its own call_tasks, not the UPDATE's (which a subquery would otherwise borrow).
        .correlate(None)
        .scalar_subquery()
    )


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
