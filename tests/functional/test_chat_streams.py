"""The chat's event stream and its fan-out: ids only, after the commit, resumable."""

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from crm.extensions import db
from crm.models import Chat
from crm.models.enums import ChatSender, Role
from crm.services.chat import conversations, fanout
from crm.services.leads import RequestMeta
from tests.chats import open_around_the_clock
from tests.factories import make_user
from tests.staff import StaffClient

NOW = datetime(2026, 12, 2, 17, 0, tzinfo=UTC)


@pytest.fixture
def visitor(app):
    return StaffClient(app.test_client())


@pytest.fixture
def advocate(app, app_ctx, config_override):
    open_around_the_clock(config_override)
    user = make_user(Role.advocate, name="Ada Lovelace")
    client = StaffClient(app.test_client())
    client.sign_in(user.email)
    return client


def start_and_send(visitor, *texts) -> int:
    visitor.submit("/chat", {"first_name": "Maria"}, action="/chat/start")
    for text in texts:
        visitor.submit("/chat", {"body": text}, action="/chat/messages")
    return db.session.scalar(sa.select(Chat.id))


def test_the_stream_sends_the_ids_after_the_last_one_seen_then_ends(
    app_ctx, visitor, advocate, config_override
):
    config_override(CHAT_STREAM_SECONDS=0)
    start_and_send(visitor, "one", "two", "three")

    response = visitor.get("/chat/stream", headers={"Last-Event-ID": "1"})

    assert response.status_code == 200
    assert response.mimetype == "text/event-stream"
    assert response.headers["X-Accel-Buffering"] == "no"
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_data(as_text=True)
    assert body == "retry: 1000\n\nid: 2\ndata: 2\n\nid: 3\ndata: 3\n\n"
    # The ids only: what the visitor typed never goes down the stream.
    assert "two" not in body
    assert visitor.get("/chat/stream?after=2").get_data(as_text=True).endswith("data: 3\n\n")


def test_an_idle_stream_sends_heartbeats_until_its_lifetime_ends(
    app_ctx, visitor, advocate, config_override
):
    config_override(CHAT_STREAM_SECONDS=0.3, CHAT_HEARTBEAT_SECONDS=0.05)
    start_and_send(visitor, "one")

    body = visitor.get("/chat/stream?after=1").get_data(as_text=True)
    assert ": keep-alive\n\n" in body and "data:" not in body


def test_no_chat_no_stream_and_only_its_advocate_streams_an_open_chat(
    app, app_ctx, visitor, advocate, config_override
):
    config_override(CHAT_STREAM_SECONDS=0)
    assert visitor.get("/chat/stream").status_code == 204
    chat_id = start_and_send(visitor, "hello")
    advocate.submit("/advocate/chats", {}, action=f"/advocate/chats/{chat_id}/accept")
    assert "data: 2" in advocate.get(f"/advocate/chats/{chat_id}/stream").get_data(as_text=True)

    other = StaffClient(app.test_client())
    other.sign_in(make_user(Role.advocate).email)
    assert other.get(f"/advocate/chats/{chat_id}/stream").status_code == 403


@pytest.mark.parametrize("through_redis", [True, False])
def test_a_committed_message_is_announced_and_a_rolled_back_one_is_not(
    app_ctx, config_override, through_redis
):
    if not through_redis:
        config_override(REDIS_URL="")  # the embedded defaults: in-process fan-out
    meta = RequestMeta(ip_address="203.0.113.5", user_agent=None, page_url=None)
    chat_id = conversations.start_chat("Maria", meta, NOW).id
    with fanout.listen(chat_id) as wait:
        conversations.add_message(chat_id, ChatSender.visitor, None, "never sent", NOW)
        db.session.rollback()
        assert wait(0.2) == []
        message_id = conversations.add_message(chat_id, ChatSender.visitor, None, "kept", NOW)
        db.session.commit()
        assert wait(5) == [str(message_id)]
