"""The chat pages without JavaScript: a visitor and an advocate, each with a real client."""

import pytest
import sqlalchemy as sa

from crm.extensions import db
from crm.models import AuditEvent, Chat, ChatMessage
from crm.models.chat import MESSAGE_MAX_CHARS
from crm.models.enums import AuditAction, ChatStatus, Role
from tests.chats import open_around_the_clock
from tests.factories import make_contact, make_user
from tests.staff import StaffClient


@pytest.fixture
def visitor(app):
    return StaffClient(app.test_client())


@pytest.fixture
def advocate(app, app_ctx, config_override):
    """An advocate signed in (so chats are offered), at work around the clock."""
    open_around_the_clock(config_override)
    user = make_user(Role.advocate, name="Ada Lovelace")
    client = StaffClient(app.test_client())
    assert client.sign_in(user.email).status_code == 302
    return client


def start_chat(visitor: StaffClient, name: str = "Maria"):
    return visitor.submit("/chat", {"first_name": name}, action="/chat/start")


def send(visitor: StaffClient, text: str):
    return visitor.submit("/chat", {"body": text}, action="/chat/messages")


def page_text(response) -> str:
    return response.get_data(as_text=True)


def test_nobody_online_offers_a_callback_instead_of_a_chat(app_ctx, visitor, config_override):
    open_around_the_clock(config_override)  # at work, but nobody signed in
    page = page_text(visitor.get("/chat"))

    assert "No patient advocate is online to chat right now." in page
    assert 'href="/callback"' in page and "chat-start" not in page


def test_a_chat_started_as_the_last_advocate_signs_out_is_not_left_waiting(
    app_ctx, visitor, advocate
):
    form = visitor.form("/chat", action="/chat/start")
    advocate.sign_out()

    response = visitor.post(form.action, data={**form.values, "first_name": "Maria"})
    assert response.status_code == 200
    assert "just gone offline" in page_text(response)
    assert 'href="/callback"' in page_text(response)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Chat)) == 0


def test_a_visitor_chats_and_the_advocate_accepts_replies_and_closes(app_ctx, visitor, advocate):
    assert start_chat(visitor).status_code == 303
    conversation = visitor.get("/chat")
    assert "An advocate will be with you" in page_text(conversation)
    assert send(visitor, "<script>alert(1)</script> Is surgery possible?").status_code == 303
    (chat,) = db.session.scalars(sa.select(Chat)).all()

    waiting = page_text(advocate.get("/advocate/chats"))
    assert "Maria" in waiting and f'data-chat-id="{chat.id}"' in waiting
    accepted = advocate.submit("/advocate/chats", {}, action=f"/advocate/chats/{chat.id}/accept")
    assert accepted.status_code == 302
    shown = page_text(advocate.get(f"/advocate/chats/{chat.id}"))
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Is surgery possible?" in shown
    assert "<script>alert(1)" not in shown
    page = f"/advocate/chats/{chat.id}"
    action = f"/advocate/chats/{chat.id}/messages"
    assert advocate.submit(page, {"body": "Yes, often."}, action=action).status_code == 302

    seen_by_visitor = page_text(visitor.get("/chat"))
    assert "Ada Lovelace" in seen_by_visitor and "Yes, often." in seen_by_visitor
    assert '<span class="avatar" aria-hidden="true">AL</span>' in seen_by_visitor

    closed = advocate.submit(page, {"outcome": "helped"}, action=f"/advocate/chats/{chat.id}/close")
    assert closed.status_code == 302
    # The page's own live fragment (chat.js) leaves the notice for the page shown next.
    fragment = advocate.get(f"{page}/lines?after=0")
    assert 'data-ended="true"' in page_text(fragment)
    assert "The chat is closed." not in page_text(fragment)
    assert "The chat is closed." in page_text(advocate.get(page))
    after = page_text(visitor.get("/chat"))
    assert "Your chat has ended" in after and "Ada Lovelace closed the chat." in after
    assert "Start a new chat" in after
    db.session.refresh(chat)
    assert chat.status == ChatStatus.closed
    actions = db.session.scalars(
        sa.select(AuditEvent.action).where(AuditEvent.detail["chat_id"].as_integer() == chat.id)
    ).all()
    assert {
        AuditAction.chat_accepted,
        AuditAction.chat_viewed,
        AuditAction.chat_replied,
        AuditAction.chat_closed,
    } <= set(actions)


def test_reloading_resumes_the_same_chat_and_a_second_start_opens_no_other(
    app_ctx, visitor, advocate
):
    form = visitor.form("/chat", action="/chat/start")
    body = {**form.values, "first_name": "Maria"}
    assert visitor.post(form.action, data=body).status_code == 303
    send(visitor, "first")
    # The same page sent again (a double click, a second tab) resumes the chat.
    assert visitor.post(form.action, data=body).status_code == 303

    assert db.session.scalar(sa.select(sa.func.count()).select_from(Chat)) == 1
    assert "first" in page_text(visitor.get("/chat"))


def test_a_second_advocate_is_told_the_chat_was_taken(app, app_ctx, visitor, advocate):
    start_chat(visitor)
    chat_id = db.session.scalar(sa.select(Chat.id))
    other = StaffClient(app.test_client())
    other.sign_in(make_user(Role.advocate).email)
    form = other.form("/advocate/chats", action=f"/advocate/chats/{chat_id}/accept")
    advocate.submit("/advocate/chats", {}, action=f"/advocate/chats/{chat_id}/accept")

    late = other.post(form.action, data=form.values, follow_redirects=True)
    assert "Another advocate has already accepted this chat." in page_text(late)
    refused = other.get(f"/advocate/chats/{chat_id}")
    assert refused.status_code == 403
    assert "Another advocate is answering this chat." in page_text(refused)


def test_oversized_and_empty_messages_are_refused_with_the_text_kept(app_ctx, visitor, advocate):
    start_chat(visitor)
    long_text = "x" * (MESSAGE_MAX_CHARS + 1)

    too_long = send(visitor, long_text)
    assert too_long.status_code == 422
    assert "under 2,000 characters" in page_text(too_long)
    assert long_text in page_text(too_long)
    empty = send(visitor, "   ")
    assert empty.status_code == 422 and "Please type a message." in page_text(empty)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ChatMessage)) == 0


def test_a_visitor_over_the_message_limit_is_asked_to_wait(
    app_ctx, visitor, advocate, config_override
):
    config_override(CHAT_MESSAGE_LIMIT="2/minute")
    start_chat(visitor)
    send(visitor, "one")
    send(visitor, "two")

    third = send(visitor, "three")
    assert third.status_code == 429
    assert "sending messages very quickly" in page_text(third) and "three" in page_text(third)


def test_bots_and_stale_pages_start_no_chat(app_ctx, visitor, advocate):
    honeypot = visitor.submit(
        "/chat", {"first_name": "Bot", "website": "spam.example"}, action="/chat/start"
    )
    assert honeypot.status_code == 400
    forged = visitor.post(
        "/chat/start", data={"first_name": "Bot", "form_token": "forged", "csrf_token": "x"}
    )
    assert forged.status_code == 400
    assert "Please press Start chat again." in page_text(forged)
    no_csrf = visitor.submit(
        "/chat", {"first_name": "Maria", "csrf_token": None}, action="/chat/start"
    )
    assert no_csrf.status_code == 422
    bad_name = visitor.submit("/chat", {"first_name": "1234"}, action="/chat/start")
    assert bad_name.status_code == 422 and "letters only" in page_text(bad_name)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Chat)) == 0


def test_a_visitors_message_without_its_csrf_token_is_kept_in_the_box(app_ctx, visitor, advocate):
    start_chat(visitor)
    response = visitor.submit(
        "/chat", {"body": "still here", "csrf_token": None}, action="/chat/messages"
    )
    assert response.status_code == 400
    assert "your message was not sent" in page_text(response)
    assert "still here" in page_text(response)


def test_admins_may_not_answer_chats(app, app_ctx, visitor, advocate):
    admin = StaffClient(app.test_client())
    admin.sign_in(make_user(Role.admin).email)
    assert admin.get("/advocate/chats").status_code == 403


def test_a_visitor_giving_a_known_email_joins_that_contact_and_its_timeline(
    app_ctx, visitor, advocate
):
    known = make_contact(first_name="Maria", last_name="Hidalgo", email="maria@example.com")
    started = visitor.submit(
        "/chat",
        {"first_name": "Maria", "email": "Maria@Example.com", "consent_email": "y"},
        action="/chat/start",
    )
    assert started.status_code == 303
    send(visitor, "Is surgery possible?")
    chat = db.session.scalar(sa.select(Chat))
    assert chat.contact_id == known.id
    # One person never sees another: the visitor's page holds only what they typed.
    assert "Hidalgo" not in page_text(visitor.get("/chat"))

    advocate.submit("/advocate/chats", {}, action=f"/advocate/chats/{chat.id}/accept")
    page = f"/advocate/chats/{chat.id}"
    assert f'href="/contacts/{known.id}"' in page_text(advocate.get(page))
    advocate.submit(page, {"body": "Often, yes."}, action=f"{page}/messages")
    advocate.submit(page, {"outcome": "helped"}, action=f"{page}/close")

    contact_page = page_text(advocate.get(f"/contacts/{known.id}"))
    assert f"Chat #{chat.id} (Helped)" in contact_page
    assert "Visitor: Is surgery possible?" in contact_page
    assert "Ada Lovelace: Often, yes." in contact_page


def test_a_bad_email_on_the_pre_chat_step_is_explained(app_ctx, visitor, advocate):
    response = visitor.submit(
        "/chat", {"first_name": "Maria", "email": "maria@"}, action="/chat/start"
    )
    assert response.status_code == 422
    assert "Please enter a valid email address" in page_text(response)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Chat)) == 0


def test_chats_are_not_taken_through_the_api(api_client):
    assert api_client.post("/api/v1/submissions/chat", json={}).status_code == 404


def test_a_waiting_chat_says_so_when_the_advocates_have_gone(app_ctx, visitor, advocate):
    start_chat(visitor)
    send(visitor, "Is anyone there?")
    assert "An advocate will be with you" in page_text(visitor.get("/chat"))

    advocate.sign_out()

    page = page_text(visitor.get("/chat"))
    assert "No patient advocate is online right now" in page
    assert "An advocate will be with you" not in page
    assert 'href="/callback?from=chat"' in page and "Is anyone there?" in page
