"""The advocate's chats: the waiting list, Accept, the conversation, replies, Transfer, Close."""

from flask import flash, jsonify, redirect, render_template, request, session, url_for
from flask_login import current_user

from crm.forms.chat import (
    AdvocateReplyForm,
    ChatAcceptForm,
    ChatCloseForm,
    ChatTransferForm,
    ChatTypingForm,
)
from crm.models import Chat, utcnow
from crm.models.enums import AuditAction, ChatOutcome, ChatStatus, Role
from crm.services import chat as chat_service
from crm.services.chat import canned_replies, streams
from crm.services.chat.typing import announce_typing
from crm.views.chat import event_stream
from crm.views.staff import ADVOCATES, audit_view, role_required, staff_blueprint

bp = staff_blueprint("chats", __name__, url_prefix="/advocate")


@bp.get("/chats")
@role_required(*ADVOCATES)
def chats():
    """List the waiting chats, oldest first, and the chats this advocate holds."""
    waiting, mine = chat_service.waiting_chats(), chat_service.chats_held_by(current_user.id)
    # The list shows what visitors called themselves: a look at personal data, audited.
    audit_view(
        AuditAction.chat_viewed,
        detail={"waiting": [c.id for c in waiting], "held": [c.id for c in mine]},
    )
    return render_template(
        "advocate/chats.html",
        waiting=waiting,
        mine=mine,
        now=utcnow(),
        form=ChatAcceptForm(),
        chat_waiting=chat_service.chat_notice(current_user.id, utcnow()),
    )


@bp.post("/chats/<int:chat_id>/accept")
@role_required(*ADVOCATES)
def accept(chat_id: int):
    """Take a waiting chat, unless another advocate took it first."""
    if not ChatAcceptForm().validate():
        flash("This page timed out. Please press Accept again.")
        return redirect(url_for("chats.chats"))
    if not chat_service.accept_chat(chat_id, current_user, utcnow()):
        flash("Another advocate has already accepted this chat.")
        return redirect(url_for("chats.chats"))
    audit_view(AuditAction.chat_accepted, detail={"chat_id": chat_id})
    return redirect(url_for("chats.conversation", chat_id=chat_id))


@bp.get("/chats/<int:chat_id>")
@role_required(*ADVOCATES)
def conversation(chat_id: int):
    """Show one chat to the advocate holding it (or a manager), with reply and close forms."""
    return _conversation(chat_id, AdvocateReplyForm())


@bp.get("/chats/<int:chat_id>/stream")
@role_required(*ADVOCATES)
def stream(chat_id: int):
    """The chat as Server-Sent Events (ids only) for the advocate who may open it."""
    try:
        chat = chat_service.chat_for_staff(chat_id, current_user)
    except chat_service.ChatRefused as refused:
        return "", refused.status
    return event_stream(chat.id, viewer="advocate")


@bp.get("/chats/<int:chat_id>/lines")
@role_required(*ADVOCATES)
def lines(chat_id: int):
    """The chat's new lines after ?after=N, for the open page's chat.js to append."""
    try:
        chat = chat_service.chat_for_staff(chat_id, current_user)
    except chat_service.ChatRefused as refused:
        return "", refused.status
    _audit_look(chat, fragment=True)
    after_id = streams.resume_point(None, request.args.get("after"))
    return render_template(
        "public/_chat_update.html",
        lines=chat_service.messages(chat.id, after_id, for_staff=True),
        me="advocate",
        ended=chat.status != ChatStatus.active,
        typing_text=f"{chat.visitor_name} is typing…",
    )


@bp.post("/chats/<int:chat_id>/typing")
@role_required(*ADVOCATES)
def typing(chat_id: int):
    """Tell the visitor the advocate is typing (a fan-out notice only, never stored)."""
    try:
        chat = chat_service.chat_for_staff(chat_id, current_user)
    except chat_service.ChatRefused as refused:
        return "", refused.status
    if not ChatTypingForm().validate():
        return "", 400
    return "", 204 if announce_typing(chat, "advocate") else 429


@bp.post("/chats/<int:chat_id>/messages")
@role_required(*ADVOCATES)
def reply(chat_id: int):
    """Store the advocate's reply and show the conversation again."""
    form = AdvocateReplyForm()
    if "use_canned" in request.form:
        return _use_canned_reply(chat_id, form)
    try:
        chat = chat_service.chat_for_staff(chat_id, current_user)
        if not form.validate():
            raise chat_service.ChatRefused("This page timed out. Please press Send again.", 400)
        message_id = chat_service.post_advocate_message(
            chat, current_user, form.body.data, utcnow()
        )
    except chat_service.ChatRefused as refused:
        return _conversation(chat_id, form, notice=refused.message, status=refused.status)
    audit_view(
        AuditAction.chat_replied,
        contact_id=chat.contact_id,
        detail={"chat_id": chat_id, "message_id": message_id},
    )
    return redirect(url_for("chats.conversation", chat_id=chat_id, _anchor=f"m{message_id}"))


@bp.post("/chats/<int:chat_id>/close")
@role_required(*ADVOCATES)
def close(chat_id: int):
    """End a chat with the outcome the advocate chose."""
    form = ChatCloseForm()
    try:
        chat = chat_service.chat_for_staff(chat_id, current_user)
        if not form.validate():
            raise chat_service.ChatRefused(form.first_error() or "Please choose an outcome.", 400)
        chat_service.close_chat(chat, current_user, ChatOutcome(form.outcome.data), utcnow())
    except chat_service.ChatRefused as refused:
        return _conversation(
            chat_id, AdvocateReplyForm(), notice=refused.message, status=refused.status
        )
    audit_view(
        AuditAction.chat_closed,
        contact_id=chat.contact_id,
        detail={"chat_id": chat_id, "outcome": chat.outcome.value},
    )
    flash("The chat is closed.")
    return redirect(url_for("chats.chats"))


@bp.post("/chats/<int:chat_id>/transfer")
@role_required(*ADVOCATES)
def transfer(chat_id: int):
    """Hand the chat to another signed-in advocate, unless it ended or moved meanwhile."""
    form = ChatTransferForm()
    try:
        chat = chat_service.chat_for_staff(chat_id, current_user)
        if not form.validate():
            raise chat_service.ChatRefused(form.first_error() or "Please choose someone.", 400)
        from_user_id = chat.claimed_by_user_id
        target = chat_service.transfer_chat(chat, current_user, form.to_user_id.data, utcnow())
    except chat_service.ChatRefused as refused:
        return _conversation(
            chat_id, AdvocateReplyForm(), notice=refused.message, status=refused.status
        )
    audit_view(
        AuditAction.chat_transferred,
        contact_id=chat.contact_id,
        target_user_id=target.id,
        detail={"chat_id": chat_id, "from_user_id": from_user_id, "to_user_id": target.id},
    )
    flash(f"The chat is now with {target.name}.")
    if current_user.role == Role.manager:
        return redirect(url_for("chats.conversation", chat_id=chat_id))
    return redirect(url_for("chats.chats"))


@bp.get("/chats/notice")
@role_required(*ADVOCATES)
def notice():
    """Counts and ids for the pages' new-chat notice (chat_notice.js); no visitor's data."""
    return jsonify(chat_service.chat_notice(current_user.id, utcnow()).as_json())


def _use_canned_reply(chat_id: int, form: AdvocateReplyForm):
    """Without JavaScript: draw the page again with the canned reply in the box, to edit."""
    chosen = form.canned_reply.data
    reply = canned_replies.active_reply(int(chosen) if chosen and chosen.isdigit() else None)
    if reply is None:
        notice = "Please choose a canned reply from the list."
        return _conversation(chat_id, form, notice=notice, status=422)
    form.body.data = canned_replies.filled_reply_box(form.body.data, reply)
    return _conversation(chat_id, form, keep_typed=True)


def _conversation(
    chat_id: int,
    form: AdvocateReplyForm,
    notice: str | None = None,
    status=200,
    keep_typed: bool = False,
):
    try:
        chat = chat_service.chat_for_staff(chat_id, current_user)
    except chat_service.ChatRefused as refused:
        page = render_template("advocate/chat_refused.html", message=refused.message)
        return page, refused.status
    _audit_look(chat)
    if status == 200 and not keep_typed:
        form.body.data = ""
    is_open = chat.status == ChatStatus.active
    form.set_canned_choices(canned_replies.active_replies() if is_open else [])
    transfer_form = ChatTransferForm()
    transfer_form.set_targets(chat_service.transfer_targets(chat, utcnow()) if is_open else [])
    page = render_template(
        "advocate/chat.html",
        chat=chat,
        lines=chat_service.messages(chat.id, for_staff=True),
        form=form,
        close_form=ChatCloseForm(),
        transfer_form=transfer_form,
        notice=notice,
        is_open=is_open,
    )
    return page, status


# The chats this staff session has looked at (their ids), newest last, so many at most.
_LOOKS_KEY = "chat_looks"
_LOOKS_KEPT = 50


def _audit_look(chat: Chat, fragment: bool = False) -> None:
    """Audit a look at a chat: every page, but a live fragment only as a session's first look.

    The open page's script fetches the new lines of the same chat on every message; each
    such fetch is part of the look its page load already audited (same user, same session,
    same chat, the right to see it checked again on each fetch), and one audit row per
    message would bury the trail. A fragment fetched without that page in this session (a
    hand-made request) is a look of its own and is audited.
    """
    looks = session.get(_LOOKS_KEY, [])
    if fragment and chat.id in looks:
        return
    audit_view(AuditAction.chat_viewed, contact_id=chat.contact_id, detail={"chat_id": chat.id})
    if chat.id not in looks:
        session[_LOOKS_KEY] = [*looks, chat.id][-_LOOKS_KEPT:]
