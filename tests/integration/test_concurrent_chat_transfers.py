"""A transfer racing a close or another transfer on PostgreSQL: decided once, every time."""

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from crm.extensions import db
from crm.models import Chat, ChatMessage, StaffSession, User
from crm.models.enums import ChatOutcome, ChatSender, ChatStatus, Role
from crm.services import chat, staff_sessions
from crm.services.leads import RequestMeta
from tests.factories import make_user

pytestmark = pytest.mark.postgres_only

JOIN_TIMEOUT = 60
ROUNDS = 6
NOW = datetime(2026, 12, 2, 17, 0, tzinfo=UTC)


def signed_in(role: Role, name: str) -> int:
    user = make_user(role, name=name)
    token = staff_sessions.start(user, None)
    db.session.execute(
        sa.update(StaffSession)
        .where(StaffSession.token_hash == staff_sessions._hash(token))
        .values(created_at=NOW - timedelta(minutes=1), last_seen_at=NOW - timedelta(minutes=1))
    )
    db.session.commit()
    return user.id


def together(
    app, chat_id: int, actions: list[tuple[int, Callable]], first: int | None = None
) -> list[bool]:
    """Each (user id, action) in its own thread and request: all read the chat, then act at once.

    With `first`, that action's statements run (its row lock taken, not yet committed) before
    the others start theirs: they then wait on the lock and, once it commits, must find the
    chat moved or ended although the page they read showed it theirs.
    """
    barrier = threading.Barrier(len(actions), timeout=JOIN_TIMEOUT)
    went = threading.Event()
    results: list[bool | None] = [None] * len(actions)
    errors: list[BaseException] = []

    def run(index: int) -> None:
        user_id, action = actions[index]
        try:
            with app.app_context():
                user = db.session.get(User, user_id)
                seen = chat.chat_for_staff(chat_id, user)  # what the page showed
                barrier.wait()
                if first is not None and index != first:
                    assert went.wait(JOIN_TIMEOUT), "the first action never ran"
                try:
                    try:
                        action(seen, user)
                    finally:
                        if index == first:
                            went.set()
                    db.session.commit()
                    results[index] = True
                except chat.ChatRefused:
                    db.session.rollback()
                    results[index] = False
        except BaseException as error:  # re-raised in the test thread below
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(len(actions))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(JOIN_TIMEOUT)
    assert not any(thread.is_alive() for thread in threads), "a transfer or close hung"
    if errors:
        raise errors[0]
    return results


def accepted_chat(holder_id: int) -> int:
    meta = RequestMeta(ip_address="203.0.113.9", user_agent=None, page_url=None)
    chat_id = chat.start_chat("Maria", meta, NOW).id
    assert chat.accept_chat(chat_id, db.session.get(User, holder_id), NOW)
    db.session.commit()
    return chat_id


def lines(chat_id: int, sender: ChatSender) -> list[str]:
    return list(
        db.session.scalars(
            sa.select(ChatMessage.body).where(
                ChatMessage.chat_id == chat_id, ChatMessage.sender == sender
            )
        )
    )


def transfer_to(user_id: int):
    return lambda seen, user: chat.transfer_chat(seen, user, user_id, NOW)


def close(seen, user):
    chat.close_chat(seen, user, ChatOutcome.helped, NOW)


def test_the_holder_closing_while_a_manager_transfers_is_decided_once(app):
    with app.app_context():
        ada = signed_in(Role.advocate, "Ada Lovelace")
        ben = signed_in(Role.advocate, "Ben Franklin")
        boss = signed_in(Role.manager, "Cora Manager")
        chat_ids = [accepted_chat(ada) for _ in range(ROUNDS)]

    # At once, then each order forced: the close first, then the transfer first.
    for round_number, chat_id in enumerate(chat_ids):
        first = (None, 0, 1)[round_number % 3]
        closed, moved = together(app, chat_id, [(ada, close), (boss, transfer_to(ben))], first)
        if first is not None:
            assert (closed, moved) == ((True, False) if first == 0 else (False, True))

        assert [closed, moved].count(True) == 1
        with app.app_context():
            conversation = db.session.get(Chat, chat_id)
            if closed:
                assert conversation.status == ChatStatus.closed
                assert conversation.claimed_by_user_id == ada
                assert lines(chat_id, ChatSender.transfer) == []
            else:
                assert conversation.status == ChatStatus.active
                assert conversation.claimed_by_user_id == ben
                assert "Ada Lovelace closed the chat." not in lines(chat_id, ChatSender.system)
                assert len(lines(chat_id, ChatSender.transfer)) == 1


def test_two_transfers_of_one_chat_at_once_give_it_to_exactly_one(app):
    with app.app_context():
        ada = signed_in(Role.advocate, "Ada Lovelace")
        ben = signed_in(Role.advocate, "Ben Franklin")
        cy = signed_in(Role.advocate, "Cy Young")
        boss = signed_in(Role.manager, "Cora Manager")
        chat_ids = [accepted_chat(ada) for _ in range(ROUNDS)]

    for round_number, chat_id in enumerate(chat_ids):
        first = (None, 0, 1)[round_number % 3]
        pair = [(ada, transfer_to(ben)), (boss, transfer_to(cy))]
        to_ben, to_cy = together(app, chat_id, pair, first)
        if first is not None:
            assert (to_ben, to_cy) == ((True, False) if first == 0 else (False, True))

        assert [to_ben, to_cy].count(True) == 1
        with app.app_context():
            conversation = db.session.get(Chat, chat_id)
            assert conversation.claimed_by_user_id == (ben if to_ben else cy)
            (line,) = lines(chat_id, ChatSender.transfer)
            assert (
                line
                == f"Transferred from Ada Lovelace to {'Ben Franklin' if to_ben else 'Cy Young'}."
            )
