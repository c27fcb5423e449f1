"""The managers' live board: the queue and the team right now, in bounded, indexed reads.

Every count walks an index (ix_call_tasks_claim_order, ix_call_tasks_breached) and stops at
BOARD_COUNT_CAP, and every list stops at BOARD_LIST_SIZE, so the work does not grow with the
number of contacts.
It shows contacts by id only: no names, so a wall screen shows no one's data.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

import sqlalchemy as sa
from flask import current_app

from crm.extensions import db
from crm.models import CallTask, User
from crm.models.base import UTCDateTime
from crm.models.call_task import BREACHED_SQL
from crm.models.enums import Role
from crm.services import staff_sessions
from crm.services.queue import rules
from crm.services.queue.overview import BANDS, band_conditions

BOARD_LIST_SIZE = 10


@dataclass(frozen=True)
class Waiting:
    contact_id: int
    due_at: datetime


@dataclass(frozen=True)
class TeamMember:
    name: str
    role: Role
    on_call_with: int | None  # the contact id of the call they hold


@dataclass(frozen=True)
class LiveBoard:
    now: datetime
    depth: dict[str, int]
    oldest_callback: Waiting | None
    breach_count: int
    breaches: list[Waiting]
    team: list[TeamMember]
    cap: int


def live_board(now: datetime) -> LiveBoard:
    """Queue depth by band, the oldest waiting callback, breaches now and who is at work."""
    cap = current_app.config["BOARD_COUNT_CAP"]
    parameters = _count_parameters(now)
    counts = queue_counts(now)
    waiting: dict[str, list[Waiting]] = {"oldest": [], "breach": []}
    for which, contact_id, due_at in db.session.execute(
        _lists_statement(), parameters | {"list_size": BOARD_LIST_SIZE}
    ):
        waiting[which].append(Waiting(contact_id, due_at))
    return LiveBoard(
        now=now,
        depth={band: counts[band] for band in BANDS},
        oldest_callback=next(iter(waiting["oldest"]), None),
        breach_count=counts["breaches"],
        breaches=sorted(waiting["breach"], key=lambda row: (row.due_at, row.contact_id)),
        team=_team(now),
        cap=cap,
    )


def queue_counts(now: datetime) -> dict[str, int]:
    """Due calls by band, and breaches now, each counted no further than BOARD_COUNT_CAP + 1."""
    return db.session.execute(_counts_statement(), _count_parameters(now)).one()._asdict()


def _count_parameters(now: datetime) -> dict:
    target = timedelta(minutes=current_app.config["RESPONSE_TARGET_MINUTES"])
    cap = current_app.config["BOARD_COUNT_CAP"]
    return {"now": now, "overdue_before": now - target, "cap": cap + 1}


# The breaches' index (ix_call_tasks_breached) holds them by due time.
BREACH_ORDER = (CallTask.due_at, CallTask.id)


def _due() -> sa.ColumnElement:
    # Calls owed and due, read from the tasks alone: whether each contact may still be called
    # is checked when someone claims it (a refusal cancels its calls at once anyway).
    moment = rules.now_parameter()
    return sa.and_(rules.waiting(moment), CallTask.due_at <= moment)


def _breached() -> sa.ColumnElement:
    # Escalated and still never attempted: the promise of a quick callback is broken now.
    # Written as ix_call_tasks_breached's own predicate, so the index serves it.
    return sa.text(BREACHED_SQL)


def _capped(condition: sa.ColumnElement, order=rules.CLAIM_ORDER) -> sa.ScalarSelect:
    """How many tasks match, counting no further than :cap, in the order an index holds."""
    first = (
        sa.select(CallTask.id)
        .where(condition)
        .order_by(*order)
        .limit(sa.bindparam("cap", type_=sa.Integer))
        .subquery()
    )
    return sa.select(sa.func.count()).select_from(first).scalar_subquery()


@cache
def _counts_statement() -> sa.Select:
    """Every count of the board in one statement (one round trip), built once."""
    overdue_before = sa.bindparam("overdue_before", type_=UTCDateTime())
    bands = band_conditions(overdue_before)
    return sa.select(
        *(_capped(sa.and_(_due(), bands[band])).label(band) for band in BANDS),
        _capped(_breached(), order=BREACH_ORDER).label("breaches"),
    )


@cache
def _lists_statement() -> sa.CompoundSelect:
    """The oldest waiting callback and the first breaches, in one statement, built once."""

    def first(which: str, condition, order, limit) -> sa.Select:
        rows = sa.select(
            sa.literal_column(f"'{which}'").label("which"), CallTask.contact_id, CallTask.due_at
        )
        chosen = rows.where(condition).order_by(*order).limit(limit).subquery()
        return sa.select(chosen.c.which, chosen.c.contact_id, chosen.c.due_at)

    return sa.union_all(
        first("oldest", sa.and_(_due(), CallTask.queue_rank == 0), rules.CLAIM_ORDER, 1),
        first("breach", _breached(), BREACH_ORDER, sa.bindparam("list_size", type_=sa.Integer)),
    )


def _team(now: datetime) -> list[TeamMember]:
    """Staff with a live session (seen within the idle limit), and the call each one holds."""
    live = staff_sessions.live_user_ids(now)
    holding = (
        sa.select(CallTask.contact_id)
        .where(
            CallTask.claimed_by_user_id == User.id,
            CallTask.lease_expires_at > now,
            rules.is_open(),
        )
        .order_by(CallTask.lease_expires_at.desc())
        .limit(1)
        .scalar_subquery()
    )
    rows = db.session.execute(
        sa.select(User.name, User.role, holding.label("on_call_with"))
        .where(User.id.in_(live), User.active.is_(True), User.role.in_(_CALLERS))
        .order_by(User.name)
        .limit(200)
    ).all()
    return [TeamMember(row.name, row.role, row.on_call_with) for row in rows]


_CALLERS = (Role.advocate, Role.manager)
__all__ = ["BANDS", "LiveBoard", "live_board", "queue_counts"]
