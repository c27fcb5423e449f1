"""The visitor's side of a chat: start one, write in it, read it back by id.

Like capture, these commit themselves: a message the visitor sees as sent must be durable on
its own. Logs name chats and messages by id only; what a visitor typed never reaches them.
"""

import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import current_app

from crm.extensions import db
from crm.models import Chat, ChatMessage, Submission, User
from crm.models.chat import MESSAGE_MAX_CHARS
from crm.models.enums import ChatSender, ChatStatus
from crm.services import capture, rate_limits
from crm.services.chat import fanout
from crm.services.leads import LeadInput, RequestMeta

log = logging.getLogger(__name__)

# Control characters other than line breaks and tabs are dropped, not refused: a pasted
# paragraph from a word processor should arrive, not fail.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
OPEN_STATUSES = (ChatStatus.waiting, ChatStatus.active)
# Who a transcript line names when no advocate wrote it: a transfer is a system line.
_LINE_LABELS = {
    ChatSender.visitor: ChatSender.visitor.label,
    ChatSender.system: ChatSender.system.label,
    ChatSender.transfer: ChatSender.system.label,
}


class ChatRefused(Exception):
    """A chat action that cannot be done, with the sentence to show and an HTTP status."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class MessageLine:
    id: int
    sender: ChatSender
    author: str | None
    body: str
    created_at: datetime


def start_chat(
    visitor_name: str,
    meta: RequestMeta,
    now: datetime,
    *,
    lead: LeadInput | None = None,
    idempotency_key: str | None = None,
) -> Chat:
    """Open a waiting chat for a visitor and commit; refused over the per-address limit, or
    the per-email or per-phone one.

    With a `lead` (the visitor gave an email or phone) the pre-chat step is first stored
    through the capture service, like any form: the contact found by the same identity
    rules, one consent record per channel, committed before the chat opens. The chat then
    joins that contact; what the visitor sees is still only what they typed here.
    """
    counters = _start_counters(meta, lead)
    full = rate_limits.acquire(counters)
    if full is not None:
        raise ChatRefused(_START_REFUSALS[full.scope], status=429)
    try:
        contact_id = submission_id = None
        if lead is not None:
            captured = capture.submit_lead(lead, meta, idempotency_key, now)
            contact_id = captured.contact_id
            submission_id = db.session.scalar(
                sa.select(Submission.id).where(
                    Submission.public_id == captured.submission_public_id
                )
            )
        chat = Chat(
            public_token=secrets.token_urlsafe(32),
            visitor_name=visitor_name[:80],
            status=ChatStatus.waiting,
            contact_id=contact_id,
            submission_id=submission_id,
            created_at=now,
        )
        db.session.add(chat)
        db.session.commit()
    except BaseException:
        rate_limits.release(counters)
        raise
    log.info("chat %s started", chat.id)
    return chat


_START_REFUSALS = {
    "chat-start": "Too many chats were started from your connection just now. Please call us, "
    "or try again later.",
    "chat-start-email": "Too many chats were started with this email address just now. "
    "Please call us, or try again later.",
    "chat-start-phone": "Too many chats were started with this phone number just now. "
    "Please call us, or try again later.",
}


def _start_counters(meta: RequestMeta, lead: LeadInput | None) -> list[rate_limits.Counter]:
    """The address's counter, and the email's and phone's when given (all HMACed)."""
    config = current_app.config
    counters = [
        rate_limits.counter("chat-start", meta.ip_address or "", config["CHAT_START_LIMIT"])
    ]
    per_identity = config["CHAT_START_PER_IDENTITY_LIMIT"]
    if lead is not None and lead.email:
        email = lead.email.strip().lower()
        counters.append(rate_limits.counter("chat-start-email", email, per_identity))
    if lead is not None and lead.phone_e164:
        # E.164 already: "(555) 201-4567" and "555.201.4567" are one number here.
        counters.append(rate_limits.counter("chat-start-phone", lead.phone_e164, per_identity))
    return counters


def open_chat_for_token(token: str | None) -> Chat | None:
    """The chat this visitor's token names, whatever its status, or None."""
    if not token or len(token) > 64:
        return None
    return db.session.scalar(sa.select(Chat).where(Chat.public_token == token))


def answering_advocate(chat: Chat) -> str | None:
    """The name of the advocate answering an active chat (shown to its visitor), or None."""
    if chat.status != ChatStatus.active or chat.claimed_by_user_id is None:
        return None
    return db.session.scalar(sa.select(User.name).where(User.id == chat.claimed_by_user_id))


def post_visitor_message(chat: Chat, text: str | None, now: datetime) -> int:
    """Store the visitor's message and commit; return its id. Bounded in size and rate."""
    body = clean_message(text)
    if chat.status not in OPEN_STATUSES:
        raise ChatRefused("This chat has ended. You can start a new one.", status=409)
    counter = rate_limits.counter(
        "chat-message", str(chat.id), current_app.config["CHAT_MESSAGE_LIMIT"]
    )
    if rate_limits.acquire([counter]) is not None:
        raise ChatRefused(
            "You are sending messages very quickly. Please wait a moment and send it again: "
            "your message is still in the box.",
            status=429,
        )
    try:
        message_id = add_message(chat.id, ChatSender.visitor, None, body, now)
        db.session.commit()
    except BaseException:
        rate_limits.release([counter])
        raise
    # Ids only (DESIGN.md rule 6): what a visitor writes is health data and stays in the table.
    log.info("chat %s: visitor message id %s stored", chat.id, message_id)
    return message_id


def clean_message(text: str | None) -> str:
    """The message as it will be stored, or ChatRefused when it is empty or too long."""
    body = _CONTROL.sub("", (text or "").replace("\r\n", "\n")).strip()
    if not body:
        raise ChatRefused("Please type a message.")
    if len(body) > MESSAGE_MAX_CHARS:
        raise ChatRefused(
            f"Please keep each message under {MESSAGE_MAX_CHARS:,} characters "
            f"(this one has {len(body):,}); send the rest in another message."
        )
    return body


def add_message(
    chat_id: int, sender: ChatSender, user_id: int | None, body: str, now: datetime
) -> int:
    """Insert one message row in the current transaction and return its id.

    Its id is announced to the chat's streams once the transaction commits, never before.
    """
    message_id = db.session.execute(
        sa.insert(ChatMessage)
        .values(chat_id=chat_id, sender=sender, user_id=user_id, body=body, created_at=now)
        .returning(ChatMessage.id)
    ).scalar_one()
    fanout.notify_after_commit(chat_id, message_id)
    return message_id


def messages(
    chat_id: int, after_id: int | None = None, limit: int = 200, *, for_staff: bool = False
) -> list[MessageLine]:
    """The chat's messages in order: the first `limit` after `after_id`, or the newest `limit`.

    A transfer line reads as a system line: "Transferred from A to B" for staff, and for the
    visitor (the default) "You are now chatting with B", with B's first name only.
    """
    query = (
        sa.select(
            ChatMessage.id,
            ChatMessage.sender,
            User.name,
            ChatMessage.body,
            ChatMessage.created_at,
        )
        .outerjoin(User, User.id == ChatMessage.user_id)
        .where(ChatMessage.chat_id == chat_id)
        .limit(limit)
    )
    if after_id is not None:
        rows = db.session.execute(
            query.where(ChatMessage.id > after_id).order_by(ChatMessage.id)
        ).all()
    else:
        rows = list(reversed(db.session.execute(query.order_by(ChatMessage.id.desc())).all()))
    return [_as_read(MessageLine(*row), for_staff) for row in rows]


def _as_read(line: MessageLine, for_staff: bool) -> MessageLine:
    if line.sender != ChatSender.transfer:
        return line
    body = line.body if for_staff else f"You are now chatting with {first_name(line.author)}."
    return MessageLine(line.id, ChatSender.system, None, body, line.created_at)


def first_name(name: str | None) -> str:
    """The first word of a staff name: what a visitor is told of who answers them."""
    return (name or "").split(" ", 1)[0] or "another advocate"


def transcripts(chat_ids: set[int], per_chat: int = 200) -> dict[int, str]:
    """Each chat's transcript as plain text, who said what and when (for the timeline)."""
    if not chat_ids:
        return {}
    rows = db.session.execute(
        sa.select(
            ChatMessage.chat_id,
            ChatMessage.sender,
            User.name,
            ChatMessage.body,
            ChatMessage.created_at,
        )
        .outerjoin(User, User.id == ChatMessage.user_id)
        .where(ChatMessage.chat_id.in_(chat_ids))
        .order_by(ChatMessage.chat_id, ChatMessage.id)
        .limit(per_chat * len(chat_ids))
    ).all()
    lines: dict[int, list[str]] = {}
    for chat_id, sender, author, body, at in rows:
        chat_lines = lines.setdefault(chat_id, [])
        if len(chat_lines) < per_chat:
            who = author if sender == ChatSender.advocate else _LINE_LABELS[sender]
            chat_lines.append(f"{at:%H:%M} {who}: {body}")
    return {chat_id: "\n".join(chat_lines) for chat_id, chat_lines in lines.items()}
