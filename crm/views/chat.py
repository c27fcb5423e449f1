"""The visitor's chat pages: the pre-chat step and the conversation, without JavaScript.

The chat is found by the random token kept in the visitor's (signed) session cookie, so a
reload or a return later resumes it; nothing about the visitor is in the address.
"""

from flask import (
    Blueprint,
    Response,
    current_app,
    redirect,
    render_template,
    request,
    session,
    stream_with_context,
    url_for,
)

from crm.forms.chat import ChatMessageForm, ChatStartForm, ChatTypingForm
from crm.models import Chat, utcnow
from crm.models.enums import ChatStatus
from crm.services import chat as chats
from crm.services.chat import streams
from crm.services.chat.conversations import OPEN_STATUSES, answering_advocate
from crm.services.chat.estimate import wait_estimate
from crm.services.chat.typing import announce_typing
from crm.services.form_tokens import issue_token, read_token
from crm.views.submit_guard import bot_reason, request_meta, token_expired

bp = Blueprint("chat", __name__)

_SESSION_KEY = "chat_token"
NOT_STARTED = "We could not start the chat from this page. Please press Start chat again."


@bp.get("/chat")
def chat_page():
    """Show this visitor's chat, or the pre-chat step, or say honestly that nobody is online."""
    chat = visitors_chat()
    if chat is not None and chat.status in OPEN_STATUSES:
        return conversation(chat, ChatMessageForm())
    return start_page(ChatStartForm(), ended=chat)


@bp.get("/chat/stream")
def stream():
    """The visitor's chat as Server-Sent Events: the id of each new message."""
    chat = visitors_chat()
    if chat is None:
        return "", 204  # EventSource stops reconnecting on 204
    return event_stream(chat.id, viewer="visitor")


@bp.get("/chat/lines")
def lines():
    """The visitor's new lines after ?after=N and where the chat stands, for chat.js."""
    chat = visitors_chat()
    if chat is None:
        return "", 204
    return visitor_update(chat, streams.resume_point(None, request.args.get("after")))


@bp.post("/chat/typing")
def typing():
    """Tell the advocate the visitor is typing (a fan-out notice only, never stored)."""
    chat = visitors_chat()
    if chat is None or not ChatTypingForm().validate():
        return "", 400
    return "", 204 if announce_typing(chat, "visitor") else 429


@bp.post("/chat/start")
def start():
    """Open a chat from the pre-chat step and go to the conversation."""
    form = ChatStartForm()
    chat = visitors_chat()
    if chat is not None and chat.status in OPEN_STATUSES:
        # One open chat per visitor: a second press (or a second tab) resumes the first.
        return redirect(url_for("chat.chat_page"), code=303)
    opened = open_chat(form)
    if not isinstance(opened, Chat):
        return opened
    session[_SESSION_KEY] = opened.public_token
    return redirect(url_for("chat.chat_page"), code=303)


def open_chat(form: ChatStartForm, embed: bool = False):
    """The chat the pre-chat step opens, or the page saying why it did not."""
    token = read_token(form.form_token.data)
    if bot_reason(form.website.data, token) or token_expired(token):
        return start_page(form, notice=NOT_STARTED, status=400, embed=embed)
    if not form.validate():
        return start_page(form, status=422, embed=embed)
    if not chats.advocates_available(utcnow()):
        return start_page(form, notice=GONE_OFFLINE, embed=embed)
    try:
        return chats.start_chat(
            form.first_name.data,
            request_meta(),
            utcnow(),
            lead=form.to_lead(),
            # The page's signed nonce: the same page sent twice stores one submission.
            idempotency_key="chat:" + token.nonce,
        )
    except chats.ChatRefused as refused:
        return start_page(form, notice=refused.message, status=refused.status, embed=embed)


@bp.post("/chat/messages")
def send():
    """Store the visitor's message, then show the conversation again."""
    chat = visitors_chat()
    if chat is None:
        return redirect(url_for("chat.chat_page"), code=303)
    form = ChatMessageForm()
    if not form.validate():
        return conversation(chat, form, notice=NOT_SENT_EXPIRED, status=400)
    try:
        message_id = chats.post_visitor_message(chat, form.body.data, utcnow())
    except chats.ChatRefused as refused:
        return conversation(chat, form, notice=refused.message, status=refused.status)
    return redirect(url_for("chat.chat_page", _anchor=f"m{message_id}"), code=303)


GONE_OFFLINE = (
    "Our patient advocates have just gone offline, so the chat could not start. "
    "Please leave your number below and we will call you."
)
NOT_SENT_EXPIRED = (
    "For your security, this page timed out and your message was not sent. It is still in "
    "the box: please press Send again."
)


def visitors_chat() -> Chat | None:
    """The chat this visitor's session names, whatever its status, or None."""
    return chats.open_chat_for_token(session.get(_SESSION_KEY))


def _standing(chat: Chat) -> dict:
    """Where the chat stands for its visitor: unanswered, the estimate, who may be typing."""
    now = utcnow()
    # A waiting chat nobody can answer now says so, rather than promising someone soon.
    unanswered = chat.status == ChatStatus.waiting and not chats.advocates_available(now)
    advocate = answering_advocate(chat)
    return {
        "chat": chat,
        "unanswered": unanswered,
        "estimate": None if unanswered else wait_estimate(chat, now),
        "typing_text": f"{advocate} is typing…" if advocate else "",
    }


def conversation(chat: Chat, form, notice: str | None = None, status=200, embed_urls=None):
    """The conversation page (with `embed_urls`: in the marketing site's iframe, chat_embed)."""
    embed = embed_urls is not None
    if status == 200:
        form.body.data = ""
    page = render_template(
        "public/chat.html",
        lines=chats.messages(chat.id),
        form=form,
        notice=notice,
        urls=embed_urls or _session_urls(),
        embedded=embed,
        chat_token=chat.public_token if embed else None,
        **_standing(chat),
    )
    return page, status


def visitor_update(chat: Chat, after_id: int):
    """The fragment chat.js appends: the lines after `after_id`, the status, the estimate."""
    return render_template(
        "public/_chat_update.html",
        lines=chats.messages(chat.id, after_id),
        me="visitor",
        ended=chat.status not in OPEN_STATUSES,
        **_standing(chat),
    )


def start_page(
    form, ended: Chat | None = None, notice=None, status=200, embed=False, resumable=False
):
    """The pre-chat step, after the visitor's ended chat if any, or "nobody is online"."""
    form.form_token.data = issue_token()
    available = chats.advocates_available(utcnow())
    page = render_template(
        "public/chat_start.html",
        form=form,
        embedded=embed,
        resumable=resumable,
        start_url=url_for("chat_embed.start" if embed else "chat.start"),
        available=available,
        ended=ended,
        ended_lines=chats.messages(ended.id) if ended is not None else [],
        notice=notice,
        phone=current_app.config["ORG_PHONE"],
    )
    return page, status


def _session_urls() -> dict:
    """Where the session's conversation page sends each request (the embed has its own)."""
    return {
        "page": url_for("chat.chat_page"),
        "page_method": "get",
        "send": url_for("chat.send"),
        "stream": url_for("chat.stream"),
        "lines": url_for("chat.lines"),
        "typing": url_for("chat.typing"),
    }


def event_stream(chat_id: int, viewer: str) -> Response:
    """A bounded event stream of a chat, resumed from the client's last id, unbuffered."""
    last_id = streams.resume_point(request.headers.get("Last-Event-ID"), request.args.get("after"))
    return Response(
        stream_with_context(streams.message_events(chat_id, last_id, viewer)),
        mimetype="text/event-stream",
        # nginx would otherwise hold events back in its buffer.
        headers={"X-Accel-Buffering": "no"},
    )
