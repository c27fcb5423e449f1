"""Canned chat replies on both backends: managers keep them, advocates start a reply from one."""

import pytest
import sqlalchemy as sa

from crm.extensions import db
from crm.models import AuditEvent, CannedReply, Chat, ChatMessage
from crm.models.chat import MESSAGE_MAX_CHARS
from crm.models.enums import AuditAction, ChatSender, Role
from crm.services.chat import canned_replies
from crm.services.chat.canned_replies import CannedReplyInput, CannedReplyRefused
from tests.chats import open_around_the_clock
from tests.factories import make_user
from tests.staff import StaffClient


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def manager(app, app_ctx):
    client = StaffClient(app.test_client())
    assert client.sign_in(make_user(Role.manager, name="Priya Raman").email).status_code == 302
    return client


def add(manager: StaffClient, title: str, body: str, position: str = "0", **fields):
    data = {"title": title, "body": body, "position": position, **fields}
    return manager.submit("/manager/chat-replies/new", data, form_id="canned-reply-form")


def test_a_manager_adds_and_changes_replies_and_each_change_is_audited(manager):
    assert add(manager, "Greeting", "Hello, I'm here to help.", "2").status_code == 302
    assert add(manager, "Guide", "Would you like our free guide?", "1").status_code == 302
    listed = text(manager.get("/manager/chat-replies"))
    assert listed.index("Guide") < listed.index("Greeting")  # by their order
    greeting = db.session.scalar(sa.select(CannedReply).where(CannedReply.title == "Greeting"))

    page = f"/manager/chat-replies/{greeting.id}"
    changed = manager.submit(
        page, {"body": "Hello, how can I help today?", "active": None}, form_id="canned-reply-form"
    )
    assert changed.status_code == 302
    db.session.refresh(greeting)
    assert greeting.body == "Hello, how can I help today?" and greeting.active is False
    assert [reply.title for reply in canned_replies.active_replies()] == ["Guide"]
    assert "Retired" in text(manager.get("/manager/chat-replies"))
    events = db.session.scalars(
        sa.select(AuditEvent)
        .where(AuditEvent.action.in_([AuditAction.canned_reply_created,
                                      AuditAction.canned_reply_updated]))
        .order_by(AuditEvent.id)
    ).all()  # fmt: skip
    assert [event.action for event in events] == [
        AuditAction.canned_reply_created,
        AuditAction.canned_reply_created,
        AuditAction.canned_reply_updated,
    ]
    # Field names only, never the text.
    assert events[-1].detail == {"canned_reply_id": greeting.id, "changed": ["body", "active"]}


def test_a_bad_reply_is_explained_with_what_was_typed_kept(manager):
    empty = add(manager, "Greeting", "   ")
    assert empty.status_code == 422 and "Please type the reply" in text(empty)
    too_long = add(manager, "Long one", "x" * (MESSAGE_MAX_CHARS + 1))
    assert too_long.status_code == 422 and "under 2,000 characters" in text(too_long)
    assert "Long one" in text(too_long)
    bad_order = add(manager, "Greeting", "Hello", "-4")
    assert bad_order.status_code == 422 and "from 0 to 999" in text(bad_order)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CannedReply)) == 0


def test_admins_keep_replies_too_but_advocates_may_not(app, app_ctx):
    admin = StaffClient(app.test_client())
    admin.sign_in(make_user(Role.admin).email)
    assert add(admin, "Greeting", "Hello").status_code == 302
    advocate = StaffClient(app.test_client())
    advocate.sign_in(make_user(Role.advocate).email)
    assert advocate.get("/manager/chat-replies").status_code == 403
    assert advocate.post("/manager/chat-replies/new", data={}).status_code in (400, 403)


def test_replies_are_bounded_and_their_text_renders_as_text(app_ctx):
    reply = canned_replies.create_reply(CannedReplyInput("  Warm   hello ", "<b>Hi</b>\r\nthere"))
    assert (reply.title, reply.body) == ("Warm hello", "<b>Hi</b>\nthere")
    with pytest.raises(CannedReplyRefused, match="title"):
        canned_replies.create_reply(CannedReplyInput("   ", "Hello"))
    with pytest.raises(CannedReplyRefused, match="under 80"):
        canned_replies.create_reply(CannedReplyInput("x" * 81, "Hello"))
    for number in range(canned_replies.MAX_REPLIES - 1):
        canned_replies.create_reply(CannedReplyInput(f"Reply {number}", "Hello"))
    with pytest.raises(CannedReplyRefused, match="Retire or change one"):
        canned_replies.create_reply(CannedReplyInput("One too many", "Hello"))


def test_an_advocate_fills_the_reply_box_from_a_canned_reply_and_edits_it(
    app, app_ctx, config_override
):
    open_around_the_clock(config_override)
    canned_replies.create_reply(CannedReplyInput("Guide", "Would you <b>like</b> our guide?"))
    retired = canned_replies.create_reply(CannedReplyInput("Old", "Old text", active=False))
    db.session.commit()
    advocate = StaffClient(app.test_client())
    advocate.sign_in(make_user(Role.advocate, name="Ada Lovelace").email)
    visitor = StaffClient(app.test_client())
    visitor.submit("/chat", {"first_name": "Maria"}, action="/chat/start")
    chat_id = db.session.scalar(sa.select(Chat.id))
    advocate.submit("/advocate/chats", {}, action=f"/advocate/chats/{chat_id}/accept")
    page, action = f"/advocate/chats/{chat_id}", f"/advocate/chats/{chat_id}/messages"
    guide = db.session.scalar(sa.select(CannedReply.id).where(CannedReply.title == "Guide"))
    offered = text(advocate.get(page))
    assert ">Guide</option>" in offered and "Old text" not in offered

    filled = advocate.submit(
        page, {"body": "Hi Maria.", "canned_reply": str(guide), "use_canned": "1"}, action=action
    )
    assert filled.status_code == 200
    # In the box to edit, as text: what was typed, then the reply.
    assert "Hi Maria.\n\nWould you &lt;b&gt;like&lt;/b&gt; our guide?</textarea>" in text(filled)
    assert db.session.scalar(
        sa.select(sa.func.count()).where(ChatMessage.sender == ChatSender.advocate)
    ) == 0  # fmt: skip

    refused = advocate.submit(
        page, {"body": "kept", "canned_reply": str(retired.id), "use_canned": "1"}, action=action
    )
    assert refused.status_code == 422
    assert "Please choose a canned reply" in text(refused) and "kept</textarea>" in text(refused)

    sent = advocate.submit(page, {"body": "Would you like our printed guide?"}, action=action)
    assert sent.status_code == 302
    assert "Would you like our printed guide?" in text(visitor.get("/chat"))
