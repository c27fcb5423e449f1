"""What the advocates' pages poll to notice new chats: counts and ids, never a visitor's data."""

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from crm.extensions import db
from crm.models import Chat
from crm.models.enums import ChatStatus


@dataclass(frozen=True)
class ChatNotice:
    waiting: int
    # How long the oldest waiting chat has waited, in whole seconds (None: nobody waits).
    oldest_wait_seconds: int | None
    # The newest waiting chat's id: a rise means a new chat, even if another was taken since.
    newest_waiting_id: int | None
    # The chats this user holds: a rise means one was transferred to them.
    held: int

    def as_json(self) -> dict:
        return {
            "waiting": self.waiting,
            "oldest_wait_seconds": self.oldest_wait_seconds,
            "newest_waiting_id": self.newest_waiting_id,
            "held": self.held,
        }


def chat_notice(user_id: int, now: datetime) -> ChatNotice:
    """The waiting chats (along ix_chats_waiting) and this user's held ones, in one query."""
    waiting = Chat.status == ChatStatus.waiting
    held = sa.and_(Chat.status == ChatStatus.active, Chat.claimed_by_user_id == user_id)
    count, oldest, newest, held_count = db.session.execute(
        sa.select(
            sa.func.count().filter(waiting),
            sa.func.min(Chat.created_at).filter(waiting),
            sa.func.max(Chat.id).filter(waiting),
            sa.func.count().filter(held),
        ).where(sa.or_(waiting, held))
    ).one()
    return ChatNotice(
        waiting=count,
        oldest_wait_seconds=None if oldest is None else max(int((now - oldest).total_seconds()), 0),
        newest_waiting_id=newest,
        held=held_count,
    )
