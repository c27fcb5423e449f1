"""Live chat: visitors start and write, advocates accept, reply and close (see README, Chat)."""

from crm.services.chat.availability import advocates_available
from crm.services.chat.conversations import (
    ChatRefused,
    MessageLine,
    messages,
    open_chat_for_token,
    post_visitor_message,
    start_chat,
    transcripts,
)
from crm.services.chat.handling import (
    WaitingChat,
    accept_chat,
    chat_for_staff,
    chats_held_by,
    close_chat,
    mark_missed,
    post_advocate_message,
    waiting_chats,
)
from crm.services.chat.notices import ChatNotice, chat_notice
from crm.services.chat.transfer import TransferTarget, transfer_chat, transfer_targets

__all__ = [
    "ChatNotice",
    "ChatRefused",
    "MessageLine",
    "TransferTarget",
    "WaitingChat",
    "accept_chat",
    "advocates_available",
    "chat_for_staff",
    "chat_notice",
    "chats_held_by",
    "close_chat",
    "mark_missed",
    "messages",
    "open_chat_for_token",
    "post_advocate_message",
    "post_visitor_message",
    "start_chat",
    "transcripts",
    "transfer_chat",
    "transfer_targets",
    "waiting_chats",
]
