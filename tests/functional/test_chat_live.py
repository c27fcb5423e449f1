"""The live chat's fragment, typing notices and per-identity start limits, with real clients."""

import threading

import pytest
import redis
import sqlalchemy as sa

from crm.extensions import db
from crm.models import AuditEvent, Chat, ChatMessage
from crm.models.enums import AuditAction, Role
from crm.services.chat import fanout, streams
from tests.chats import open_around_the_clock
from tests.factories import make_user
from tests.staff import StaffClient


@pytest.fixture
def visitor(app):
    return StaffClient(app.test_client())


@pytest.fixture
def advocate(app, app_ctx, config_override):
    open_around_the_clock(config_override)
    client = StaffClient(app.test_client())
    client.sign_in(make_user(Role.advocate, name="Ada Lovelace").email)
    return client


def start_and_send(visitor, *texts, **fields) -> Chat:
    started = visitor.submit("/chat", {"first_name": "Maria", **fields}, action="/chat/start")
    assert started.status_code == 303, started.get_data(as_text=True)
    for text in texts:
        visitor.submit("/chat", {"body": text}, action="/chat/messages")
    return db.session.scalars(sa.select(Chat).order_by(Chat.id.desc())).first()


def accept(advocate, chat: Chat) -> None:
    response = advocate.submit("/advocate/chats", {}, action=f"/advocate/chats/{chat.id}/accept")
    assert response.status_code == 302


def text(response) -> str:
    return response.get_data(as_text=True)


def message_ids(chat_id: int) -> list[int]:
    return list(
        db.session.scalars(
            sa.select(ChatMessage.id).where(ChatMessage.chat_id == chat_id).order_by(ChatMessage.id)
        )
    )


def test_the_fragment_holds_only_the_lines_after_the_last_id_drawn_like_the_page(
    app_ctx, visitor, advocate
):
    chat = start_and_send(visitor, "first", "<b>second</b>")
    first, second = message_ids(chat.id)

    fragment = text(visitor.get(f"/chat/lines?after={first}"))

    assert f'id="m{second}"' in fragment and f'id="m{first}"' not in fragment
    assert "&lt;b&gt;second&lt;/b&gt;" in fragment and "<b>second" not in fragment
    page = text(visitor.get("/chat"))
    line = fragment[fragment.index(f'<li id="m{second}"') : fragment.index("</li>") + 5]
    assert line in page  # one template for a line
    assert 'data-ended="false"' in fragment and 'id="chat-status"' in fragment
    no_chat = StaffClient(visitor.client.application.test_client())
    assert no_chat.get("/chat/lines").status_code == 204


def test_the_advocates_fragment_is_audited_once_per_look_not_per_fetch(
    app, app_ctx, visitor, advocate
):
    chat = start_and_send(visitor, "hello")
    accept(advocate, chat)
    page = f"/advocate/chats/{chat.id}"
    advocate.get(page)
    for _ in range(3):
        assert "hello" in text(advocate.get(f"{page}/lines?after=0"))

    def looks() -> int:
        return db.session.scalar(
            sa.select(sa.func.count())
            .select_from(AuditEvent)
            .where(
                AuditEvent.action == AuditAction.chat_viewed,
                AuditEvent.detail["chat_id"].as_integer() == chat.id,
            )
        )

    assert looks() == 1
    manager = StaffClient(app.test_client())
    manager.sign_in(make_user(Role.manager).email)
    manager.get(f"{page}/lines?after=0")  # a fetch without the page: a look of its own
    manager.get(f"{page}/lines?after=0")
    assert looks() == 2
    other = StaffClient(app.test_client())
    other.sign_in(make_user(Role.advocate).email)
    assert other.get(f"{page}/lines?after=0").status_code == 403


def typing_form(client, page: str, form_id: str) -> dict:
    return {"csrf_token": client.form(page, form_id=form_id).values["csrf_token"]}


@pytest.mark.parametrize("through_redis", [True, False])
def test_typing_is_announced_to_the_other_side_only_and_never_stored(
    app_ctx, visitor, advocate, config_override, through_redis
):
    if not through_redis:
        config_override(REDIS_URL="")
    chat = start_and_send(visitor, "hello")
    accept(advocate, chat)
    stored = message_ids(chat.id)
    with fanout.listen(chat.id) as wait:
        response = visitor.post("/chat/typing", data=typing_form(visitor, "/chat", "chat-form"))
        assert response.status_code == 204
        assert wait(5) == ["typing:visitor"]
        page = f"/advocate/chats/{chat.id}"
        form = typing_form(advocate, page, "reply-form")
        assert advocate.post(f"{page}/typing", data=form).status_code == 204
        assert wait(5) == ["typing:advocate"]
    assert message_ids(chat.id) == stored
    assert visitor.post("/chat/typing", data={}).status_code == 400  # no CSRF token


def test_a_stream_tells_the_other_sides_typing_as_its_own_event(
    app, app_ctx, visitor, advocate, config_override
):
    config_override(REDIS_URL="", CHAT_HEARTBEAT_SECONDS=30, CHAT_STREAM_SECONDS=30)
    chat = start_and_send(visitor, "hello")
    events = streams.message_events(chat.id, max(message_ids(chat.id)), viewer="advocate")
    assert next(events).startswith("retry:")
    # The advocate's own typing is not sent back to them; the visitor's is.
    own, others = fanout.typing_notice("advocate"), fanout.typing_notice("visitor")

    def type_on_both_sides():
        with app.app_context():
            for notice in (own, others):
                fanout.publish(chat.id, notice)

    timer = threading.Timer(0.2, type_on_both_sides)
    timer.start()
    try:
        assert next(events) == "event: typing\ndata: visitor\n\n"
    finally:
        timer.cancel()
        events.close()


def test_typing_is_bounded_and_only_in_an_answered_chat(
    app_ctx, visitor, advocate, config_override
):
    config_override(CHAT_TYPING_LIMIT="2/minute")
    chat = start_and_send(visitor, "hello")
    form = typing_form(visitor, "/chat", "chat-form")
    assert visitor.post("/chat/typing", data=form).status_code == 429  # nobody there yet
    accept(advocate, chat)
    answers = [visitor.post("/chat/typing", data=form).status_code for _ in range(3)]
    assert answers == [204, 204, 429]


def test_one_email_or_phone_starts_only_so_many_chats(app, app_ctx, advocate, config_override):
    config_override(CHAT_START_PER_IDENTITY_LIMIT="1/hour")
    first = StaffClient(app.test_client())
    start_and_send(first, email="maria@example.com", phone="(617) 555-0134")

    second = StaffClient(app.test_client())
    refused = second.submit(
        "/chat", {"first_name": "Maria", "email": "Maria@Example.com"}, action="/chat/start"
    )
    assert refused.status_code == 429
    assert "Too many chats were started with this email address" in text(refused)
    assert "maria@example.com" in text(refused).lower()
    by_phone = second.submit(
        "/chat", {"first_name": "Maria", "phone": "617.555.0134"}, action="/chat/start"
    )
    assert by_phone.status_code == 429 and "with this phone number" in text(by_phone)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Chat)) == 1
    # Redis holds HMACs only: never the address or the number.
    keys = b" ".join(redis.Redis.from_url(app.config["REDIS_URL"]).keys("*chat-start*"))
    assert b"maria" not in keys.lower() and b"555" not in keys


def callback_values(client) -> dict:
    return client.form("/callback?from=chat").values


def test_an_unanswered_chat_fills_the_callback_form_with_what_its_visitor_typed(
    app, app_ctx, visitor, advocate
):
    start_and_send(
        visitor, "Is surgery possible?", "My father has pleural meso.", phone="(617) 555-0134"
    )
    advocate.sign_out()
    page = text(visitor.get("/chat"))
    assert 'href="/callback?from=chat"' in page

    values = callback_values(visitor)
    assert values["first_name"] == "Maria" and values["phone"] == "+16175550134"
    form = visitor.get("/callback?from=chat")
    assert "Is surgery possible?\n\nMy father has pleural meso." in text(form)
    # Nobody else's chat: another browser's callback form stays empty.
    stranger = StaffClient(app.test_client())
    assert stranger.form("/callback?from=chat").values.get("first_name", "") == ""


def test_an_anonymous_missed_chats_text_is_carried_into_a_callback_submission(
    app, app_ctx, visitor, advocate, config_override
):
    from datetime import timedelta

    from crm.models import Submission, utcnow
    from crm.services.chat import mark_missed

    config_override(CHAT_MISSED_MINUTES=1)
    start_and_send(visitor, "Please call me about my mother.")
    mark_missed(utcnow() + timedelta(minutes=2))
    ended = text(visitor.get("/chat"))
    assert "Your chat has ended" in ended and 'href="/callback?from=chat"' in ended

    response = visitor.submit(
        "/callback?from=chat",
        {"phone": "(617) 555-0134", "consent_calls": "y"},
        action="/callback",
    )
    assert response.status_code == 303
    submission = db.session.scalar(sa.select(Submission).order_by(Submission.id.desc()))
    assert submission.fields["first_name"] == "Maria"
    assert submission.fields["message"] == "Please call me about my mother."


def test_an_answered_chat_fills_nothing(app_ctx, visitor, advocate):
    chat = start_and_send(visitor, "hello")
    accept(advocate, chat)
    assert callback_values(visitor).get("first_name", "") == ""
