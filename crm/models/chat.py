"""Live chats between a visitor and an advocate, and their append-only messages."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from crm.crypto import EncryptedText
from crm.models.base import (
    Base,
    UTCDateTime,
    append_only,
    created_at_column,
    enum_type,
    utcnow,
)
from crm.models.enums import ChatOutcome, ChatSender, ChatStatus

# A message is a chat line, not a letter: long pastes are refused with a clear message.
MESSAGE_MAX_CHARS = 2000


class Chat(Base):
    __tablename__ = "chats"
    __table_args__ = (
        # Only a waiting or missed chat may be nobody's: one an advocate took names them.
        sa.CheckConstraint(
            "status = 'waiting' OR status = 'missed' OR claimed_by_user_id IS NOT NULL",
            name="claimed_has_advocate",
        ),
        sa.CheckConstraint(
            "(status <> 'closed' AND status <> 'missed') OR closed_at IS NOT NULL",
            name="ended_has_time",
        ),
        # "Waiting chats, oldest first" for the advocates' list and the accept statement.
        sa.Index(
            "ix_chats_waiting",
            "created_at",
            "id",
            postgresql_where=sa.text("status = 'waiting'"),
            sqlite_where=sa.text("status = 'waiting'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The visitor's bearer token (in a signed cookie): whoever holds it may read the chat.
    public_token: Mapped[str] = mapped_column(sa.String(64), unique=True)
    status: Mapped[ChatStatus] = mapped_column(
        enum_type(ChatStatus, "status"), default=ChatStatus.waiting
    )
    # What the visitor called themselves in this chat; shown to the advocate, never matched.
    visitor_name: Mapped[str] = mapped_column(sa.String(80))
    # Set once the visitor is identified through the capture service; None until then.
    contact_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("contacts.id", ondelete="SET NULL"), index=True
    )
    # The pre-chat step's submission (email, phone, consent boxes as the visitor typed them).
    submission_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("submissions.id", ondelete="SET NULL")
    )
    claimed_by_user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="RESTRICT"), index=True
    )
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    outcome: Mapped[ChatOutcome | None] = mapped_column(enum_type(ChatOutcome, "outcome"))
    created_at: Mapped[datetime] = created_at_column()


@append_only
class ChatMessage(Base):
    __tablename__ = "chat_messages"
    __table_args__ = (
        sa.CheckConstraint("sender <> 'advocate' OR user_id IS NOT NULL", name="advocate_has_user"),
        # A transfer line names the advocate the chat went to.
        sa.CheckConstraint("sender <> 'transfer' OR user_id IS NOT NULL", name="transfer_has_user"),
        # "Messages of chat C after id N": the resume read, one index range.
        sa.Index("ix_chat_messages_chat_id_id", "chat_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[int] = mapped_column(sa.ForeignKey("chats.id", ondelete="CASCADE"))
    sender: Mapped[ChatSender] = mapped_column(enum_type(ChatSender, "sender"))
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    # Sealed (crm/crypto.py): the services bound its length (MESSAGE_MAX_CHARS), since the
    # database sees only ciphertext.
    body: Mapped[str] = mapped_column(EncryptedText("chat_messages.body"))
    created_at: Mapped[datetime] = created_at_column()


# Short enough to read in a drop-down.
CANNED_TITLE_MAX_CHARS = 80


class CannedReply(Base):
    """A reply managers keep ready for advocates to start from (edited before it is sent)."""

    __tablename__ = "chat_canned_replies"
    __table_args__ = (
        sa.CheckConstraint(
            f"length(title) >= 1 AND length(title) <= {CANNED_TITLE_MAX_CHARS}",
            name="title_length",
        ),
        # It goes into the reply box, which takes one message.
        sa.CheckConstraint(
            f"length(body) >= 1 AND length(body) <= {MESSAGE_MAX_CHARS}", name="body_length"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(CANNED_TITLE_MAX_CHARS))
    body: Mapped[str] = mapped_column(sa.Text)
    # Lower first in the advocates' list; ties by title.
    position: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
