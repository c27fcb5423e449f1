"""/embed/chat: the visitor's chat inside the marketing site's iframe (framed by EMBED_ORIGINS).

In a cross-site iframe the session cookie (SameSite=Lax) is not sent, and browsers that block
third-party cookies would drop it anyway, so the embed cannot find the chat by the session as
/chat does. Instead each of its pages carries the chat's random token (256 bits) in a hidden
field, and everything that reads or writes the chat is a POST carrying it: the token never
appears in an address (no access log, history or Referer holds it). The token is what proves
the visitor, so it also stands in for the CSRF token (as the lead embeds' signed form token
does): a page on another site cannot forge a post without knowing it. The event stream must be
a GET (EventSource); its address carries a signed ticket naming the chat, which opens nothing
but the stream, and the stream carries ids and "typing" only, never a word of the chat.
See README, Chat.
"""

from flask import Blueprint, abort, request, session, url_for
from itsdangerous import BadSignature

from crm.forms.chat import ChatMessageForm, ChatStartForm
from crm.models import Chat, utcnow
from crm.services import chat as chats
from crm.services import signing
from crm.services.chat import streams
from crm.services.chat.conversations import OPEN_STATUSES
from crm.services.chat.typing import announce_typing
from crm.views.chat import (
    NOT_SENT_EXPIRED,
    conversation,
    event_stream,
    open_chat,
    start_page,
    visitor_update,
    visitors_chat,
)

bp = Blueprint("chat_embed", __name__, url_prefix="/embed/chat")

_TICKET_SALT = "chat-embed-stream"


@bp.get("")
def page():
    """The pre-chat step in the iframe (or the chat, where the session cookie does reach us)."""
    chat = visitors_chat()
    if chat is not None and chat.status in OPEN_STATUSES:
        return conversation(chat, _message_form(), embed_urls=embed_urls(chat))
    # A GET only: the page a resume posts back to must not post again.
    return start_page(_start_form(), embed=True, resumable=True)


@bp.post("")
def resume():
    """The conversation again ("Show new messages", a reload, the page after the chat ended)."""
    chat = chats.open_chat_for_token(request.form.get("chat_token"))
    if chat is None:
        return start_page(_start_form(), embed=True)
    if chat.status in OPEN_STATUSES:
        return conversation(chat, _message_form(), embed_urls=embed_urls(chat))
    return start_page(_start_form(), ended=chat, embed=True)


@bp.post("/start")
def start():
    """Open a chat from the pre-chat step and show the conversation in the same frame."""
    opened = open_chat(_start_form(), embed=True)
    if not isinstance(opened, Chat):
        return opened
    # Kept where the cookie does reach us (the marketing site on the same site), harmless elsewhere.
    session["chat_token"] = opened.public_token
    return conversation(opened, _message_form(), embed_urls=embed_urls(opened))


@bp.post("/messages")
def send():
    """Store the visitor's message and show the conversation again."""
    chat = _posted_chat()
    form = _message_form()
    if not form.validate():
        return conversation(chat, form, NOT_SENT_EXPIRED, 400, embed_urls=embed_urls(chat))
    try:
        chats.post_visitor_message(chat, form.body.data, utcnow())
    except chats.ChatRefused as refused:
        return conversation(
            chat, form, refused.message, refused.status, embed_urls=embed_urls(chat)
        )
    return conversation(chat, _message_form(), embed_urls=embed_urls(chat))


@bp.post("/lines")
def lines():
    """The new lines after `after` and where the chat stands, for chat.js in the iframe."""
    chat = _posted_chat()
    return visitor_update(chat, streams.resume_point(None, request.form.get("after")))


@bp.post("/typing")
def typing():
    """Tell the advocate the visitor is typing."""
    return "", 204 if announce_typing(_posted_chat(), "visitor") else 429


@bp.get("/stream")
def stream():
    """The chat's event stream (ids and typing only), named by the page's signed ticket."""
    try:
        chat_id = signing.serializer(_TICKET_SALT).loads(request.args.get("ticket", ""))
    except BadSignature:
        return "", 204  # EventSource stops reconnecting on 204
    return event_stream(int(chat_id), viewer="visitor")


def embed_urls(chat: Chat) -> dict:
    """Where the embedded conversation sends each request."""
    ticket = signing.serializer(_TICKET_SALT).dumps(chat.id)
    return {
        "page": url_for("chat_embed.resume"),
        "page_method": "post",
        "send": url_for("chat_embed.send"),
        "stream": url_for("chat_embed.stream", ticket=ticket),
        "lines": url_for("chat_embed.lines"),
        "typing": url_for("chat_embed.typing"),
    }


def _posted_chat() -> Chat:
    chat = chats.open_chat_for_token(request.form.get("chat_token"))
    if chat is None:
        abort(404)
    return chat


def _start_form() -> ChatStartForm:
    # The signed, expiring form token and the honeypot stand in for the session's CSRF token.
    return ChatStartForm(meta={"csrf": False})


def _message_form() -> ChatMessageForm:
    return ChatMessageForm(meta={"csrf": False})
