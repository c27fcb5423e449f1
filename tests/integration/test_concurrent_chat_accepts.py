"""Advocates pressing Accept on the same chat at the same moment on PostgreSQL: one gets it."""

import threading
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from crm.extensions import db
from crm.models import Chat, ChatMessage, User
from crm.models.enums import ChatSender, Role
from crm.services import chat
from crm.services.leads import RequestMeta
from tests.factories import make_user

pytestmark = pytest.mark.postgres_only

ADVOCATES = 8
JOIN_TIMEOUT = 60
NOW = datetime(2026, 12, 2, 17, 0, tzinfo=UTC)


def accept_together(app, chat_id: int, user_ids: list[int]) -> list[bool]:
    """Each advocate accepts in their own thread and app context, released by a barrier."""
    barrier = threading.Barrier(len(user_ids), timeout=JOIN_TIMEOUT)
    results: list[bool | None] = [None] * len(user_ids)
    errors: list[BaseException] = []

    def press(index: int) -> None:
        try:
            with app.app_context():
                user = db.session.get(User, user_ids[index])
                barrier.wait()
                results[index] = chat.accept_chat(chat_id, user, NOW)
                db.session.commit()
        except BaseException as error:  # re-raised in the test thread below
            errors.append(error)

    threads = [threading.Thread(target=press, args=(i,), daemon=True) for i in range(len(user_ids))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(JOIN_TIMEOUT)
    assert not any(thread.is_alive() for thread in threads), "an accept hung"
    if errors:
        raise errors[0]
    return results


def test_advocates_accepting_one_chat_at_once_give_it_to_exactly_one(app):
    with app.app_context():
        meta = RequestMeta(ip_address="203.0.113.9", user_agent=None, page_url=None)
        chat_id = chat.start_chat("Maria", meta, NOW).id
        user_ids = [make_user(Role.advocate).id for _ in range(ADVOCATES)]

    accepted = accept_together(app, chat_id, user_ids)

    assert accepted.count(True) == 1
    winner = user_ids[accepted.index(True)]
    with app.app_context():
        assert db.session.get(Chat, chat_id).claimed_by_user_id == winner
        joined = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(ChatMessage)
            .where(ChatMessage.chat_id == chat_id, ChatMessage.sender == ChatSender.system)
        )
        assert joined == 1
