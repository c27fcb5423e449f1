"""The advocate's side of a chat: the waiting list, accept (atomic), reply and close.

Staff services flush; the request commits once (crm/views/staff.py), so a reply is durable
before the page that shows it as sent is returned.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from crm.extensions import db
from crm.models import Chat, User
from crm.models.enums import ChatOutcome, ChatSender, ChatStatus, Role, TimelineKind
from crm.services import events
from crm.services.actors import Actor
from crm.services.chat.conversations import ChatRefused, add_message, clean_message

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WaitingChat:
    id: int
    visitor_name: str
    created_at: datetime

    def waited_minutes(self, now: datetime) -> int:
        return max(int((now - self.created_at).total_seconds() // 60), 0)


def waiting_chats(limit: int = 50) -> list[WaitingChat]:
    """The waiting chats, oldest first (along ix_chats_waiting)."""
    rows = db.session.execute(
        sa.select(Chat.id, Chat.visitor_name, Chat.created_at)
        .where(Chat.status == ChatStatus.waiting)
        .order_by(Chat.created_at, Chat.id)
        .limit(limit)
    ).all()
    return [WaitingChat(*row) for row in rows]


def chats_held_by(user_id: int, limit: int = 50) -> list[WaitingChat]:
    """The open chats this advocate holds, the longest-held first."""
    rows = db.session.execute(
        sa.select(Chat.id, Chat.visitor_name, Chat.created_at)
        .where(Chat.status == ChatStatus.active, Chat.claimed_by_user_id == user_id)
        .order_by(Chat.claimed_at, Chat.id)
        .limit(limit)
    ).all()
    return [WaitingChat(*row) for row in rows]


def accept_chat(chat_id: int, user: User, now: datetime) -> bool:
    """Take a waiting chat for this advocate; False when someone else took it first.

    One conditional UPDATE: on PostgreSQL a second advocate's statement waits on the row lock
    and, re-reading the row once the first commits, finds it no longer waiting; SQLite lets one
    writer at a time. Either way exactly one advocate gets the chat.
    """
    taken = db.session.execute(
        sa.update(Chat)
        .where(Chat.id == chat_id, Chat.status == ChatStatus.waiting)
        .values(status=ChatStatus.active, claimed_by_user_id=user.id, claimed_at=now)
        .returning(Chat.id)
    ).scalar_one_or_none()
    if taken is None:
        return False
    add_message(chat_id, ChatSender.system, None, f"{user.name} joined the chat.", now)
    log.info("chat %s accepted by user %s", chat_id, user.id)
    return True


def chat_for_staff(chat_id: int, user: User) -> Chat:
    """The chat if this user may open it (its advocate or a manager; anyone once it ended)."""
    chat = db.session.get(Chat, chat_id)
    if chat is None:
        raise ChatRefused("There is no such chat.", status=404)
    if chat.status == ChatStatus.waiting:
        raise ChatRefused("Accept this chat first.", status=409)
    # An ended chat is part of the contact's record, which every advocate may read (audited).
    ended = chat.status in (ChatStatus.closed, ChatStatus.missed)
    if not ended and chat.claimed_by_user_id != user.id and user.role != Role.manager:
        raise ChatRefused("Another advocate is answering this chat.", status=403)
    return chat


def post_advocate_message(chat: Chat, user: User, text: str | None, now: datetime) -> int:
    """Store the advocate's reply (flushed, the request commits); return its id."""
    body = clean_message(text)
    if chat.status != ChatStatus.active:
        raise ChatRefused("This chat has ended.", status=409)
    return add_message(chat.id, ChatSender.advocate, user.id, body, now)


def close_chat(chat: Chat, user: User, outcome: ChatOutcome, now: datetime) -> None:
    """End an active chat with an outcome; the visitor sees that it ended.

    Only while the advocate the page showed still holds it: a close racing a transfer
    (crm/services/chat/transfer.py) is decided once, by whichever commits first.
    """
    closed = db.session.execute(
        sa.update(Chat)
        .where(
            Chat.id == chat.id,
            Chat.status == ChatStatus.active,
            Chat.claimed_by_user_id == chat.claimed_by_user_id,
        )
        .values(status=ChatStatus.closed, closed_at=now, outcome=outcome)
        .returning(Chat.id)
    ).scalar_one_or_none()
    if closed is None:
        raise ChatRefused(not_yours_any_more(chat.id), status=409)
    add_message(chat.id, ChatSender.system, None, f"{user.name} closed the chat.", now)
    if chat.contact_id is not None:
        # The transcript joins the contact's timeline: the event names the chat by id only.
        events.record(
            chat.contact_id,
            TimelineKind.chat_closed,
            Actor.user(user.id),
            detail={"chat_id": chat.id, "outcome": outcome.value},
            at=now,
        )
    log.info("chat %s closed by user %s (%s)", chat.id, user.id, outcome.value)


def not_yours_any_more(chat_id: int) -> str:
    """Why a conditional UPDATE of an active chat found nothing: it ended, or it moved."""
    status = db.session.scalar(sa.select(Chat.status).where(Chat.id == chat_id))
    if status == ChatStatus.active:
        return "This chat has just moved to another advocate."
    return "This chat has ended already."


MISSED_NOTE = "Nobody could answer this chat in time. We are sorry."


def mark_missed(now: datetime) -> int:
    """Mark missed the chats still waiting CHAT_MISSED_MINUTES after they opened; commit.

    One conditional UPDATE, so an advocate accepting at the same moment either gets the chat
    first or finds it gone (accept_chat's UPDATE wants it waiting). A chat whose visitor
    gave an email or phone already is a lead with its call (start_chat), and the missed chat
    joins that contact's timeline; the messages stay for staff to read.
    """
    cutoff = now - timedelta(minutes=current_app.config["CHAT_MISSED_MINUTES"])
    missed = db.session.execute(
        sa.update(Chat)
        .where(Chat.status == ChatStatus.waiting, Chat.created_at < cutoff)
        .values(status=ChatStatus.missed, closed_at=now)
        .returning(Chat.id, Chat.contact_id)
        .execution_options(synchronize_session=False)
    ).all()
    for chat_id, contact_id in missed:
        add_message(chat_id, ChatSender.system, None, MISSED_NOTE, now)
        if contact_id is not None:
            events.record(
                contact_id,
                TimelineKind.chat_closed,
                Actor.system(),
                detail={"chat_id": chat_id, "outcome": "missed"},
                at=now,
            )
        log.info("chat %s missed", chat_id)
    db.session.commit()
    return len(missed)
