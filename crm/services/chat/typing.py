"""'The other side is typing': a fan-out notice only, never stored, never in the database."""

from flask import current_app

from crm.models import Chat
from crm.models.enums import ChatStatus
from crm.services import rate_limits
from crm.services.chat import fanout


def announce_typing(chat: Chat, side: str) -> bool:
    """Tell the other side's streams that `side` is typing; False when it was not sent.

    Only in an active chat (someone is there to see it), and at most CHAT_TYPING_LIMIT per
    side per chat: one counter in the rate-limit storage, keyed by an HMAC of the chat id,
    so a script posting in a loop costs one Redis round trip a time and fans out nothing.
    """
    if chat.status != ChatStatus.active:
        return False
    counter = rate_limits.counter(
        "chat-typing", f"{chat.id}:{side}", current_app.config["CHAT_TYPING_LIMIT"]
    )
    if rate_limits.acquire([counter]) is not None:
        return False
    fanout.publish(chat.id, fanout.typing_notice(side))
    return True
