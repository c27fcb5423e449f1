"""The managers' live board: the queue and the team right now, in bounded, indexed reads.

Every count walks ix_call_tasks_claim_order and stops at BOARD_COUNT_CAP, and every list
stops at BOARD_LIST_SIZE: the board answers as fast on a million contacts as on a thousand.
It shows contacts by id only: no names, so a wall screen shows no one's data.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from crm.extensions import db
from crm.models import CallTask, Contact, StaffSession, User
from crm.models.enums import CallReason, Role
from crm.services.queue import rules
from crm.services.queue.overview import BANDS, band_conditions, capped_count

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
    target = timedelta(minutes=current_app.config["RESPONSE_TARGET_MINUTES"])
    moment = rules.now_parameter()
    due = sa.and_(rules.waiting(moment), CallTask.due_at <= moment, rules.may_be_called())
    depth = {
        band: capped_count(sa.and_(due, condition), now, cap)
        for band, condition in band_conditions(now - target).items()
    }
    oldest = _first(sa.and_(due, CallTask.queue_rank == 0), now, 1)
    # Escalated and still never attempted: the promise of a quick callback is broken now.
    breached = sa.and_(
        rules.is_open(),
        CallTask.queue_rank == 0,
        CallTask.due_at <= now - target,
        CallTask.reason == CallReason.requested_callback,
        CallTask.escalated_at.is_not(None),
        CallTask.attempts == 0,
        Contact.merged_into_id.is_(None),
    )
    return LiveBoard(
        now=now,
        depth=depth,
        oldest_callback=next(iter(oldest), None),
        breach_count=capped_count(breached, now, cap),
        breaches=_first(breached, now, BOARD_LIST_SIZE),
        team=_team(now),
        cap=cap,
    )


def _first(condition: sa.ColumnElement, now: datetime, limit: int) -> list[Waiting]:
    rows = db.session.execute(
        sa.select(CallTask.contact_id, CallTask.due_at)
        .join(Contact, Contact.id == CallTask.contact_id)
        .where(condition)
        .order_by(*rules.CLAIM_ORDER)
        .limit(limit),
        {"now": now},
    ).all()
    return [Waiting(row.contact_id, row.due_at) for row in rows]


def _team(now: datetime) -> list[TeamMember]:
    """Staff with a live session (seen within the idle limit), and the call each one holds."""
    config = current_app.config
    live = (
        sa.select(StaffSession.user_id)
        .where(
            StaffSession.ended_at.is_(None),
            StaffSession.last_seen_at > now - timedelta(minutes=config["STAFF_IDLE_MINUTES"]),
            StaffSession.created_at > now - timedelta(hours=config["STAFF_SESSION_HOURS"]),
        )
        .distinct()
    )
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
__all__ = ["BANDS", "LiveBoard", "live_board"]
