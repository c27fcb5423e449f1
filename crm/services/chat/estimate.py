"""'An advocate will be with you in about N minutes': the waiting visitor's estimate.

From the live queue: the chat's place among the waiting chats, how many advocates are
signed in to take them, and how long recent chats waited to be accepted (their median over
the last CHAT_ESTIMATE_WINDOW_MINUTES; CHAT_ESTIMATE_DEFAULT_MINUTES when there is none).
Each advocate takes the chats in turn, so the chat in place P with A advocates expects about
ceil(P / A) median waits in all; what it has waited already is taken off. Rounded up to
whole minutes, never "0 minutes": a minute or less to go is "shortly".
"""

import math
import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from crm.extensions import db
from crm.models import Chat, User
from crm.models.enums import ChatStatus
from crm.services import staff_sessions
from crm.services.chat.availability import ANSWERERS

# Enough recent waits for a stable median without reading a busy day's every chat.
_SAMPLE = 200
_SHORTLY_SECONDS = 60


@dataclass(frozen=True)
class WaitEstimate:
    position: int  # 1: the next chat to be accepted
    minutes: int | None  # None: shortly

    @property
    def shortly(self) -> bool:
        return self.minutes is None


def wait_estimate(chat: Chat, now: datetime) -> WaitEstimate | None:
    """The estimate for a waiting chat, or None when it is not waiting."""
    if chat.status != ChatStatus.waiting:
        return None
    ahead = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Chat)
        .where(
            Chat.status == ChatStatus.waiting,
            sa.or_(
                Chat.created_at < chat.created_at,
                sa.and_(Chat.created_at == chat.created_at, Chat.id < chat.id),
            ),
        )
    )
    position = ahead + 1
    per_turn = median_wait_seconds(now)
    if per_turn is None:
        per_turn = current_app.config["CHAT_ESTIMATE_DEFAULT_MINUTES"] * 60
    turns = math.ceil(position / max(answerers_signed_in(now), 1))
    remaining = turns * per_turn - (now - chat.created_at).total_seconds()
    if remaining <= _SHORTLY_SECONDS:
        return WaitEstimate(position, None)
    return WaitEstimate(position, math.ceil(remaining / 60))


def median_wait_seconds(now: datetime) -> float | None:
    """The median seconds from opening to accept of chats accepted lately, or None."""
    since = now - timedelta(minutes=current_app.config["CHAT_ESTIMATE_WINDOW_MINUTES"])
    rows = db.session.execute(
        sa.select(Chat.created_at, Chat.claimed_at)
        .where(Chat.claimed_at.is_not(None), Chat.claimed_at >= since, Chat.claimed_at <= now)
        .order_by(Chat.claimed_at.desc())
        .limit(_SAMPLE)
    ).all()
    waits = [max((claimed - created).total_seconds(), 0) for created, claimed in rows]
    return statistics.median(waits) if waits else None


def answerers_signed_in(now: datetime) -> int:
    """How many active advocates and managers have a live session now."""
    return db.session.scalar(
        sa.select(sa.func.count(User.id)).where(
            User.id.in_(staff_sessions.live_user_ids(now)),
            User.active.is_(True),
            User.role.in_(ANSWERERS),
        )
    )
