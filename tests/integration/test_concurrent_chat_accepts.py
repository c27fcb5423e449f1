"""Advocates pressing Accept at the same moment on PostgreSQL: each chat goes to exactly one."""

import threading
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from crm.extensions import db
from crm.models import Chat, ChatMessage, User
from crm.models.enums import ChatSender, ChatStatus, Role
from crm.services import chat
from crm.services.leads import RequestMeta
from tests.factories import make_user
from tests.staff import signed_in

pytestmark = pytest.mark.postgres_only

ADVOCATES = 8
JOIN_TIMEOUT = 60
NOW = datetime(2026, 12, 2, 17, 0, tzinfo=UTC)
TAKEN = "Another advocate has already accepted this chat."


def together(count: int, press: Callable[[int], object]) -> list:
    """Run press(0..count-1) in threads released at once by a barrier; their results in order."""
    barrier = threading.Barrier(count, timeout=JOIN_TIMEOUT)
    results: list = [None] * count
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait()
            results[index] = press(index)
        except BaseException as error:  # re-raised in the test thread below
            barrier.abort()
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(JOIN_TIMEOUT)
    assert not any(thread.is_alive() for thread in threads), "an accept hung"
    if errors:
        raise errors[0]
    return results


def accept_together(app, chat_id: int, user_ids: list[int]) -> list[bool]:
    """Each advocate accepts in their own thread and app context, all at once."""

    def press(index: int) -> bool:
        with app.app_context():
            taken = chat.accept_chat(chat_id, db.session.get(User, user_ids[index]), NOW)
            db.session.commit()
            return taken

    return together(len(user_ids), press)


def start_chats(count: int) -> list[int]:
    meta = RequestMeta(ip_address="203.0.113.9", user_agent=None, page_url=None)
    return [chat.start_chat(f"Visitor {n}", meta, NOW).id for n in range(count)]


def joined_messages(chat_id: int) -> int:
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(ChatMessage)
        .where(ChatMessage.chat_id == chat_id, ChatMessage.sender == ChatSender.system)
    )


def test_advocates_accepting_one_chat_at_once_give_it_to_exactly_one(app):
    with app.app_context():
        [chat_id] = start_chats(1)
        user_ids = [make_user(Role.advocate).id for _ in range(ADVOCATES)]

    accepted = accept_together(app, chat_id, user_ids)

    assert accepted.count(True) == 1
    winner = user_ids[accepted.index(True)]
    with app.app_context():
        assert db.session.get(Chat, chat_id).claimed_by_user_id == winner
        assert joined_messages(chat_id) == 1


def test_advocates_pressing_accept_at_once_one_opens_the_chat_the_others_are_told(app_ctx):
    [chat_id] = start_chats(1)
    advocates = [signed_in(app_ctx, Role.advocate) for _ in range(ADVOCATES)]
    accept_url = f"/advocate/chats/{chat_id}/accept"
    # Each has the waiting list open, with its Accept button and CSRF token, before anyone presses.
    forms = [advocate.form("/advocate/chats", action=accept_url) for advocate in advocates]

    answers = together(
        ADVOCATES, lambda i: advocates[i].post(accept_url, data=forms[i].values).location
    )

    conversation = f"/advocate/chats/{chat_id}"
    assert answers.count(conversation) == 1
    assert sorted(set(answers)) == sorted({conversation, "/advocate/chats"})
    for advocate, answer in zip(advocates, answers, strict=True):
        page = advocate.get(answer).get_data(as_text=True)
        assert (TAKEN in page) is (answer != conversation)
    db.session.expire_all()
    assert joined_messages(chat_id) == 1


def take_first_waiting(app, user_id: int) -> int | None:
    """Press Accept down the waiting list, oldest first, until one is ours; None if none is left."""
    with app.app_context():
        user = db.session.get(User, user_id)
        for waiting in chat.waiting_chats():
            taken = chat.accept_chat(waiting.id, user, NOW)
            db.session.commit()
            if taken:
                return waiting.id
        return None


@pytest.mark.parametrize(("advocates", "waiting"), [(4, 6), (8, 5)])
def test_advocates_taking_from_the_waiting_list_at_once_get_different_chats(
    app, advocates, waiting
):
    with app.app_context():
        chat_ids = start_chats(waiting)
        user_ids = [make_user(Role.advocate).id for _ in range(advocates)]

    taken = together(advocates, lambda i: take_first_waiting(app, user_ids[i]))

    got = [chat_id for chat_id in taken if chat_id is not None]
    assert len(got) == len(set(got)) == min(advocates, waiting)
    # The oldest first: nobody skipped a chat that was still waiting.
    assert sorted(got) == chat_ids[: len(got)]
    with app.app_context():
        for chat_id, user_id in zip(taken, user_ids, strict=True):
            if chat_id is not None:
                held = db.session.get(Chat, chat_id)
                assert (held.status, held.claimed_by_user_id) == (ChatStatus.active, user_id)
                assert joined_messages(chat_id) == 1
