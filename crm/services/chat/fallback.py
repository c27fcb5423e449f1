"""When nobody answers: the callback form, filled from what this visitor sent in their chat.

Only from the visitor's own chat (found by their token) and only what they typed there: the
name they gave, the email and phone of the pre-chat step's own submission (never the contact
it matched, DESIGN.md rule 7), and their messages as the callback's "message". The consent
boxes are never ticked for them: agreeing to calls must be their own act.
"""

from dataclasses import dataclass

import sqlalchemy as sa

from crm.extensions import db
from crm.models import Chat, ChatMessage, Submission
from crm.models.enums import ChatSender

# The callback form's message holds at most this much (CallbackForm.message).
_MESSAGE_MAX = 2000


@dataclass(frozen=True)
class CallbackPrefill:
    first_name: str
    email: str | None
    phone: str | None
    message: str


def callback_prefill(chat: Chat) -> CallbackPrefill:
    """The callback form's answers from this chat: its visitor's name, contacts and text."""
    fields: dict = {}
    if chat.submission_id is not None:
        fields = (
            db.session.scalar(
                sa.select(Submission.fields).where(Submission.id == chat.submission_id)
            )
            or {}
        )
    bodies = db.session.scalars(
        sa.select(ChatMessage.body)
        .where(ChatMessage.chat_id == chat.id, ChatMessage.sender == ChatSender.visitor)
        .order_by(ChatMessage.id)
        .limit(50)
    ).all()
    message = "\n\n".join(bodies)
    if len(message) > _MESSAGE_MAX:
        # Kept whole in the chat itself; the form takes what fits, ending with a mark.
        message = message[: _MESSAGE_MAX - 1] + "…"
    return CallbackPrefill(
        first_name=chat.visitor_name,
        email=fields.get("email") or None,
        phone=fields.get("phone") or None,
        message=message,
    )
