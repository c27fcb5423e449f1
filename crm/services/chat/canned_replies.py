"""Canned chat replies: managers keep a short list; advocates start a reply from one.

A canned reply only fills the advocate's reply box: it is edited there and sent as the
advocate's own message, so nothing reaches a visitor that an advocate did not send.
"""

from dataclasses import dataclass

import sqlalchemy as sa

from crm.extensions import db
from crm.models import CannedReply
from crm.models.chat import CANNED_TITLE_MAX_CHARS
from crm.services.chat.conversations import ChatRefused, clean_message

EDITABLE = ("title", "body", "position", "active")
# A short list to pick from, not a library: the manager page says so when it is full.
MAX_REPLIES = 50
MAX_POSITION = 999


class CannedReplyRefused(ValueError):
    """The reply cannot be stored as given; says why."""


@dataclass(frozen=True)
class CannedReplyInput:
    title: str
    body: str
    position: int = 0
    active: bool = True


def all_replies() -> list[CannedReply]:
    """Every canned reply for the manager page: active ones first, in the advocates' order."""
    return list(
        db.session.scalars(
            sa.select(CannedReply).order_by(
                CannedReply.active.desc(),
                CannedReply.position,
                CannedReply.title,
                CannedReply.id,
            )
        )
    )


def active_replies() -> list[CannedReply]:
    """The replies advocates may pick, in the managers' order."""
    return list(
        db.session.scalars(
            sa.select(CannedReply)
            .where(CannedReply.active.is_(True))
            .order_by(CannedReply.position, CannedReply.title, CannedReply.id)
            .limit(MAX_REPLIES)
        )
    )


def active_reply(reply_id: int | None) -> CannedReply | None:
    """One active reply by id, or None (an unknown, retired or missing id)."""
    if reply_id is None:
        return None
    reply = db.session.get(CannedReply, reply_id)
    return reply if reply is not None and reply.active else None


def create_reply(entry: CannedReplyInput) -> CannedReply:
    """Add a canned reply (flushed) after checking it."""
    count = db.session.scalar(sa.select(sa.func.count()).select_from(CannedReply))
    if count >= MAX_REPLIES:
        raise CannedReplyRefused(
            f"There are {MAX_REPLIES} canned replies already. Retire or change one instead."
        )
    reply = CannedReply(**_checked(entry))
    db.session.add(reply)
    db.session.flush()
    return reply


def update_reply(reply: CannedReply, entry: CannedReplyInput) -> list[str]:
    """Change a reply; return the names of the fields that changed (flushed)."""
    wanted = _checked(entry)
    changed = [field for field in EDITABLE if getattr(reply, field) != wanted[field]]
    for field in changed:
        setattr(reply, field, wanted[field])
    db.session.flush()
    return changed


def filled_reply_box(typed: str | None, reply: CannedReply) -> str:
    """The reply box after picking a canned reply: what was typed, then the reply."""
    typed = (typed or "").rstrip()
    return f"{typed}\n\n{reply.body}" if typed else reply.body


def _checked(entry: CannedReplyInput) -> dict:
    title = " ".join(entry.title.split())
    if not title:
        raise CannedReplyRefused("Please give the reply a short title.")
    if len(title) > CANNED_TITLE_MAX_CHARS:
        raise CannedReplyRefused(
            f"Please keep the title under {CANNED_TITLE_MAX_CHARS} characters."
        )
    if not (entry.body or "").strip():
        raise CannedReplyRefused("Please type the reply's text.")
    try:
        body = clean_message(entry.body)
    except ChatRefused as refused:  # longer than one message
        raise CannedReplyRefused(refused.message) from refused
    if not 0 <= entry.position <= MAX_POSITION:
        raise CannedReplyRefused(f"The order is a number from 0 to {MAX_POSITION}.")
    return {"title": title, "body": body, "position": entry.position, "active": entry.active}
