"""New leads are shared out in turn among the advocates on shift when they arrive.

Capture calls `assign_new_lead` for a contact it has just created, inside its one
transaction: the advocate whose last turn came longest ago (or who never had one) gets it,
and their turn moves to the back. Never a disabled account, a manager or an admin; with
nobody on shift the lead stays unassigned (managers assign it, or an advocate takes it).
A returning contact keeps whoever has them.

Fair under concurrency: on PostgreSQL a transaction-scoped advisory lock queues the picks,
so each one sees the turn the previous submit took (its commit releases the lock). A
`FOR UPDATE SKIP LOCKED` pick was the first idea, but a burst of more submits than
advocates on shift finds every row locked, and then either leaves leads unassigned or
piles them on one advocate (with no lock, eight submits at once all went to the first
advocate: each waited on that row, then kept the pick it had made). The lock is taken only
when someone is on shift and held for the rest of the submit (a few statements). SQLite
serialises every writer anyway.

It must never make a submit fail: it runs in a savepoint, and whatever goes wrong leaves
the lead unassigned (logged, ids only) rather than losing it.
"""

import logging
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from crm.extensions import db
from crm.models import Contact, User
from crm.models.enums import Role, TimelineKind
from crm.services import events
from crm.services.actors import SYSTEM
from crm.services.queue.routing import on_shift
from crm.services.working_hours import WorkingTime, organisation_working_time

log = logging.getLogger(__name__)

_u = User.__table__.c
# Statements built once (as in crm/services/capture_rows.py): the submit is the hot path.
_ADVOCATES = sa.select(_u.id, _u.working_hours).where(_u.active.is_(True), _u.role == Role.advocate)
# The two-key form, a key space apart from the one-key phone locks of crm/services/identity.py.
_TURN_LOCK = sa.select(sa.func.pg_advisory_xact_lock(8, 1))
_NEXT_IN_TURN = (
    sa.select(_u.id)
    .where(_u.id.in_(sa.bindparam("on_shift", expanding=True)))
    .order_by(_u.last_lead_turn.asc().nulls_first(), _u.id)
    .limit(1)
    .scalar_subquery()
)
_turns = User.__table__.alias("turns")
# The turn after the last one anybody took: a counter orders turns whatever the clocks say.
_NEW_TURN = sa.select(sa.func.coalesce(sa.func.max(_turns.c.last_lead_turn), 0) + 1)
_TAKE_TURN = (
    sa.update(User.__table__)
    # Active again here: an account disabled since the SELECT above is not given the lead.
    .where(_u.id == _NEXT_IN_TURN, _u.active.is_(True))
    .values(
        last_lead_turn=_NEW_TURN.scalar_subquery(),
        last_lead_assigned_at=sa.bindparam("now", type_=_u.last_lead_assigned_at.type),
        # Kept: a lead handed out is not an edit of the account.
        updated_at=_u.updated_at,
    )
    .returning(_u.id)
)
_ASSIGN = (
    sa.update(Contact.__table__)
    .where(Contact.__table__.c.id == sa.bindparam("contact_id"))
    .values(assigned_user_id=sa.bindparam("user_id"))
)


def assign_new_lead(contact_id: int, submission_id: int, now: datetime) -> dict | None:
    """Give a new contact to the next advocate on shift; return its timeline row, or None."""
    connection = db.session.connection()
    team = organisation_working_time()
    at_work = [row.id for row in connection.execute(_ADVOCATES) if _on_shift(row, now, team)]
    if not at_work:
        return None
    try:
        with db.session.begin_nested():
            if connection.dialect.name == "postgresql":
                connection.execute(_TURN_LOCK)
            user_id = connection.scalar(_TAKE_TURN, {"on_shift": at_work, "now": now})
            if user_id is not None:
                connection.execute(_ASSIGN, {"contact_id": contact_id, "user_id": user_id})
    except SQLAlchemyError:
        # A lock or statement timeout, say: the lead matters more than who owns it.
        log.exception("left new contact %s unassigned: the round robin failed", contact_id)
        return None
    if user_id is None:
        return None
    return events.row(
        contact_id,
        TimelineKind.assigned,
        SYSTEM,
        submission_id=submission_id,
        detail={"from_user_id": None, "to_user_id": user_id, "round_robin": True},
        at=now,
    )


def _on_shift(advocate: sa.Row, now: datetime, team: WorkingTime) -> bool:
    try:
        return on_shift(advocate, now, team)
    except ValueError:
        # Hours stored before the admin form checked them: not a reason to lose a submit.
        return False
