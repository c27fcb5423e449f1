"""/embed/chat in the marketing site's iframe: no session cookie, the chat's token posted."""

import re

import pytest
import sqlalchemy as sa

from crm.extensions import db
from crm.models import Chat, ChatMessage
from crm.models.enums import Role
from tests.chats import open_around_the_clock
from tests.factories import make_user
from tests.staff import StaffClient, forms_on


@pytest.fixture
def iframe(app):
    """A browser inside a third-party iframe: the site's cookies never come back."""
    return StaffClient(app.test_client(use_cookies=False))


@pytest.fixture
def advocate(app, app_ctx, config_override):
    open_around_the_clock(config_override)
    client = StaffClient(app.test_client())
    client.sign_in(make_user(Role.advocate, name="Ada Lovelace").email)
    return client


def form_of(response, form_id: str):
    forms = forms_on("/embed/chat", response.get_data(as_text=True))
    (form,) = [form for form in forms if form.form_id == form_id]
    return form


def test_the_embed_is_framed_only_by_the_marketing_site(app_ctx, iframe, advocate):
    response = iframe.get("/embed/chat")
    assert response.status_code == 200
    policy = response.headers["Content-Security-Policy"]
    assert policy.endswith("; frame-ancestors 'self' https://www.example-advocacy.org")
    assert "X-Frame-Options" not in response.headers
    assert "site-header" not in response.get_data(as_text=True)  # the embedded layout
    assert "csrf_token" not in form_of(response, "chat-start").values


def test_a_chat_in_the_iframe_works_without_the_session_cookie(app_ctx, iframe, advocate):
    start = form_of(iframe.get("/embed/chat"), "chat-start")
    opened = iframe.post(start.action, data={**start.values, "first_name": "Maria"})
    assert opened.status_code == 200
    assert "Set-Cookie" in opened.headers  # sent, and dropped by this "browser"
    message_form = form_of(opened, "chat-form")
    assert message_form.action == "/embed/chat/messages"
    token = message_form.values["chat_token"]
    chat = db.session.scalar(sa.select(Chat))
    assert token == chat.public_token and "csrf_token" not in message_form.values

    sent = iframe.post(message_form.action, data={**message_form.values, "body": "Hello?"})
    assert sent.status_code == 200 and "Hello?" in sent.get_data(as_text=True)
    assert db.session.scalar(sa.select(ChatMessage.body)) == "Hello?"
    lines = iframe.post("/embed/chat/lines", data={"chat_token": token, "after": "0"})
    assert "Hello?" in lines.get_data(as_text=True)
    assert iframe.post("/embed/chat/typing", data={"chat_token": token}).status_code == 429

    # The stream's address names the chat by a signed ticket only: ids go down it, no text.
    stream = re.search(r'data-stream="([^"]+)"', sent.get_data(as_text=True)).group(1)
    assert token not in stream and "ticket=" in stream


def test_the_embeds_posts_need_the_chats_token(app_ctx, iframe, advocate):
    assert iframe.post("/embed/chat/messages", data={"body": "x"}).status_code == 404
    assert iframe.post("/embed/chat/lines", data={"chat_token": "guess"}).status_code == 404
    assert iframe.get("/embed/chat/stream?ticket=forged").status_code == 204
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ChatMessage)) == 0


def test_the_embeds_stream_sends_ids(app_ctx, iframe, advocate, config_override):
    config_override(CHAT_STREAM_SECONDS=0)
    start = form_of(iframe.get("/embed/chat"), "chat-start")
    opened = iframe.post(start.action, data={**start.values, "first_name": "Maria"})
    message_form = form_of(opened, "chat-form")
    sent = iframe.post(message_form.action, data={**message_form.values, "body": "Hello?"})
    stream = re.search(r'data-stream="([^"]+)"', sent.get_data(as_text=True)).group(1)
    body = iframe.get(stream.replace("&amp;", "&")).get_data(as_text=True)
    message_id = db.session.scalar(sa.select(ChatMessage.id))
    assert f"data: {message_id}" in body and "Hello?" not in body
