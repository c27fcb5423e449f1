"""The chat services on both backends: start, write, read back by id, accept once, close."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from crm.extensions import db
from crm.models import (
    Chat,
    ChatMessage,
    StaffSession,
)
from crm.models.base import AppendOnlyError
from crm.models.chat import MESSAGE_MAX_CHARS
from crm.models.enums import (
    ChatOutcome,
    ChatSender,
    ChatStatus,
    Role,
)
from crm.services import chat, staff_sessions
from crm.services.leads import RequestMeta
from tests.factories import make_user

NOW = datetime(2026, 12, 2, 17, 0, tzinfo=UTC)  # noon in New York, on a Wednesday


def started(name: str = "Maria", address: str = "203.0.113.7", **kwargs) -> Chat:
    meta = RequestMeta(ip_address=address, user_agent="pytest", page_url="https://x.test/chat")
    return chat.start_chat(name, meta, NOW, **kwargs)


def test_a_started_chat_waits_with_a_private_token(app_ctx):
    first, second = started(), started("José")

    assert first.status == ChatStatus.waiting
    assert first.contact_id is None
    assert len(first.public_token) >= 40 and first.public_token != second.public_token
    assert chat.open_chat_for_token(first.public_token).id == first.id
    assert chat.open_chat_for_token("not-a-token") is None
    assert chat.open_chat_for_token("x" * 500) is None
    assert [w.visitor_name for w in chat.waiting_chats()] == ["Maria", "José"]


def test_messages_read_back_in_order_and_after_the_last_id_seen(app_ctx):
    conversation = started()
    ids = [
        chat.post_visitor_message(conversation, f"line {n}", NOW + timedelta(seconds=n))
        for n in range(5)
    ]

    assert ids == sorted(ids)
    assert [m.body for m in chat.messages(conversation.id)] == [f"line {n}" for n in range(5)]
    resumed = chat.messages(conversation.id, after_id=ids[2])
    assert [m.id for m in resumed] == ids[3:]
    assert [m.id for m in chat.messages(conversation.id, limit=2)] == ids[3:]
    assert chat.messages(conversation.id, after_id=ids[-1]) == []


def test_a_message_is_stored_as_typed_text_without_control_characters(app_ctx):
    conversation = started()
    chat.post_visitor_message(conversation, "  <b>hi</b>\r\nsecond\x00 line\x07  ", NOW)

    (line,) = chat.messages(conversation.id)
    assert line.body == "<b>hi</b>\nsecond line"
    assert line.sender == ChatSender.visitor and line.author is None


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "Please type a message."),
        (" \n\t ", "Please type a message."),
        ("x" * (MESSAGE_MAX_CHARS + 1), "under 2,000 characters"),
    ],
)
def test_empty_and_oversized_messages_are_refused_with_a_reason(app_ctx, text, says):
    conversation = started()
    with pytest.raises(chat.ChatRefused, match=says) as refused:
        chat.post_visitor_message(conversation, text, NOW)
    assert refused.value.status == 422
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ChatMessage)) == 0


def test_a_message_of_the_largest_size_is_kept_whole(app_ctx):
    conversation = started()
    chat.post_visitor_message(conversation, "é" * MESSAGE_MAX_CHARS, NOW)
    assert chat.messages(conversation.id)[0].body == "é" * MESSAGE_MAX_CHARS


def test_a_visitor_writing_too_fast_is_slowed_down(app_ctx, config_override):
    config_override(CHAT_MESSAGE_LIMIT="3/minute")
    conversation, other = started(), started("Ann")
    for n in range(3):
        chat.post_visitor_message(conversation, f"m{n}", NOW)

    with pytest.raises(chat.ChatRefused, match="very quickly") as refused:
        chat.post_visitor_message(conversation, "one more", NOW)
    assert refused.value.status == 429
    # Counted per chat: another visitor is not slowed by this one.
    chat.post_visitor_message(other, "hello", NOW)
    assert len(chat.messages(conversation.id)) == 3


def test_chats_started_from_one_address_are_bounded(app_ctx, config_override):
    config_override(CHAT_START_LIMIT="2/hour")
    started(address="198.51.100.1")
    started(address="198.51.100.1")
    with pytest.raises(chat.ChatRefused, match="Too many chats") as refused:
        started(address="198.51.100.1")
    assert refused.value.status == 429
    started(address="198.51.100.2")
    assert len(chat.waiting_chats()) == 3


def test_accepting_takes_a_waiting_chat_once(app_ctx):
    conversation = started()
    ada, ben = make_user(Role.advocate, name="Ada Lovelace"), make_user(Role.advocate)

    assert chat.accept_chat(conversation.id, ada, NOW) is True
    assert chat.accept_chat(conversation.id, ben, NOW) is False
    db.session.commit()

    db.session.refresh(conversation)
    assert conversation.status == ChatStatus.active
    assert conversation.claimed_by_user_id == ada.id
    assert chat.waiting_chats() == []
    assert [c.id for c in chat.chats_held_by(ada.id)] == [conversation.id]
    assert chat.chats_held_by(ben.id) == []
    assert chat.messages(conversation.id)[-1].body == "Ada Lovelace joined the chat."


def test_only_the_holder_or_a_manager_opens_an_accepted_chat(app_ctx):
    conversation = started()
    ada, ben = make_user(Role.advocate), make_user(Role.advocate)
    boss = make_user(Role.manager)
    with pytest.raises(chat.ChatRefused, match="Accept this chat first"):
        chat.chat_for_staff(conversation.id, ada)
    chat.accept_chat(conversation.id, ada, NOW)
    db.session.commit()

    assert chat.chat_for_staff(conversation.id, ada).id == conversation.id
    assert chat.chat_for_staff(conversation.id, boss).id == conversation.id
    with pytest.raises(chat.ChatRefused) as refused:
        chat.chat_for_staff(conversation.id, ben)
    assert refused.value.status == 403
    with pytest.raises(chat.ChatRefused) as missing:
        chat.chat_for_staff(conversation.id + 100, ada)
    assert missing.value.status == 404


def test_the_advocate_replies_under_their_name_and_closes_with_an_outcome(app_ctx):
    conversation = started()
    ada = make_user(Role.advocate, name="Ada Lovelace")
    chat.accept_chat(conversation.id, ada, NOW)
    chat.post_advocate_message(conversation, ada, "How can I help?", NOW)
    db.session.commit()
    chat.post_visitor_message(conversation, "Thank you", NOW)

    chat.close_chat(conversation, ada, ChatOutcome.helped, NOW)
    db.session.commit()

    assert conversation.status == ChatStatus.closed
    assert conversation.outcome == ChatOutcome.helped and conversation.closed_at == NOW
    lines = chat.messages(conversation.id)
    assert [(m.sender, m.author) for m in lines[1:3]] == [
        (ChatSender.advocate, "Ada Lovelace"),
        (ChatSender.visitor, None),
    ]
    assert lines[-1].body == "Ada Lovelace closed the chat."
    with pytest.raises(chat.ChatRefused, match="has ended"):
        chat.post_visitor_message(conversation, "hello?", NOW)
    with pytest.raises(chat.ChatRefused, match="has ended"):
        chat.post_advocate_message(conversation, ada, "bye", NOW)
    with pytest.raises(chat.ChatRefused, match="ended already"):
        chat.close_chat(conversation, ada, ChatOutcome.helped, NOW)


def test_messages_are_append_only(app_ctx):
    conversation = started()
    chat.post_visitor_message(conversation, "kept", NOW)
    message = db.session.scalar(sa.select(ChatMessage))
    message.body = "changed"
    with pytest.raises(AppendOnlyError):
        db.session.flush()
    db.session.rollback()
    with pytest.raises(sa.exc.DatabaseError):
        db.session.execute(sa.text("UPDATE chat_messages SET body = 'changed'"))
    db.session.rollback()


def _signed_in(role: Role, at: datetime = NOW) -> str:
    """A live session for a new user, as if they had signed in a minute before `at`."""
    token = staff_sessions.start(make_user(role), None)
    db.session.execute(
        sa.update(StaffSession)
        .where(StaffSession.token_hash == staff_sessions._hash(token))
        .values(created_at=at - timedelta(minutes=1), last_seen_at=at - timedelta(minutes=1))
    )
    db.session.commit()
    return token


def test_advocates_are_available_inside_working_hours_while_one_is_signed_in(app_ctx):
    assert chat.advocates_available(NOW) is False  # nobody signed in
    _signed_in(Role.admin)
    assert chat.advocates_available(NOW) is False  # admins do not answer chats

    token = _signed_in(Role.advocate)
    assert chat.advocates_available(NOW) is True
    staff_sessions.end(token)
    db.session.commit()
    assert chat.advocates_available(NOW) is False

    evening = NOW + timedelta(hours=10)  # 22:00 in New York
    saturday = datetime(2026, 12, 5, 17, 0, tzinfo=UTC)
    _signed_in(Role.advocate, at=evening)
    _signed_in(Role.advocate, at=saturday)
    assert chat.advocates_available(evening) is False
    assert chat.advocates_available(saturday) is False


def test_chat_logs_name_chats_and_messages_by_id_only(app_ctx, caplog):
    caplog.set_level("INFO", logger="crm.services.chat")
    conversation = started("Maria Lopez")
    message_id = chat.post_visitor_message(conversation, "my pleural mesothelioma stage 3", NOW)
    ada = make_user(Role.advocate, name="Ada Lovelace")
    chat.accept_chat(conversation.id, ada, NOW)
    chat.post_advocate_message(conversation, ada, "We can help with that.", NOW)
    chat.close_chat(conversation, ada, ChatOutcome.helped, NOW)

    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert f"chat {conversation.id}: visitor message id {message_id} stored" in logged
    for private in ("Maria", "Lopez", "mesothelioma", "stage 3", "We can help", "Ada"):
        assert private not in logged
