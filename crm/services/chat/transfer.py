"""Handing an active chat to another advocate who is signed in, decided once under races.

The holder (or a manager) transfers; one conditional UPDATE wants the chat still active and
still held by the advocate the page showed, so a transfer racing a close or another transfer
is decided once: the first to commit wins, the other is told the chat moved or ended.
"""

import logging
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from crm.extensions import db
from crm.models import Chat, User
from crm.models.enums import ChatSender, ChatStatus, Role
from crm.services.chat.availability import signed_in_answerers
from crm.services.chat.conversations import ChatRefused, add_message
from crm.services.chat.handling import not_yours_any_more

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TransferTarget:
    id: int
    name: str


def transfer_targets(chat: Chat, now: datetime, limit: int = 100) -> list[TransferTarget]:
    """Who could take this chat now: the other active advocates and managers signed in."""
    rows = db.session.execute(
        signed_in_answerers(now).where(User.id != chat.claimed_by_user_id).limit(limit)
    ).all()
    return [TransferTarget(*row) for row in rows]


def transfer_chat(chat: Chat, by: User, to_user_id: int, now: datetime) -> User:
    """Give an active chat to another signed-in advocate (flushed); return the new holder.

    The transcript gets a transfer line (its user is the new holder): staff read "Transferred
    from A to B", the visitor "You are now chatting with B". Its id goes out on the chat's
    fan-out after the commit, so every page showing the chat (both advocates', the
    visitor's) hears of it.
    """
    if chat.status != ChatStatus.active:
        raise ChatRefused("This chat has ended.", status=409)
    holder_id = chat.claimed_by_user_id
    if by.id != holder_id and by.role != Role.manager:
        raise ChatRefused("Only the advocate answering this chat can transfer it.", status=403)
    if to_user_id == holder_id:
        raise ChatRefused("This advocate is answering the chat already.", status=409)
    target = db.session.execute(signed_in_answerers(now).where(User.id == to_user_id)).one_or_none()
    if target is None:
        raise ChatRefused(
            "That advocate is not signed in now. Please choose someone from the list.",
            status=409,
        )
    moved = db.session.execute(
        sa.update(Chat)
        .where(
            Chat.id == chat.id,
            Chat.status == ChatStatus.active,
            Chat.claimed_by_user_id == holder_id,
        )
        .values(claimed_by_user_id=to_user_id)
        .returning(Chat.id)
    ).scalar_one_or_none()
    if moved is None:
        raise ChatRefused(not_yours_any_more(chat.id), status=409)
    holder_name = db.session.scalar(sa.select(User.name).where(User.id == holder_id))
    add_message(
        chat.id,
        ChatSender.transfer,
        to_user_id,
        f"Transferred from {holder_name} to {target.name}.",
        now,
    )
    log.info("chat %s transferred from user %s to user %s", chat.id, holder_id, to_user_id)
    return db.session.get(User, to_user_id)
