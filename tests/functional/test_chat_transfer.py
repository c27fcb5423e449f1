"""Transferring a chat to another signed-in advocate, on both backends: services and pages."""

import time
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from crm.extensions import db
from crm.models import AuditEvent, Chat, StaffSession, User
from crm.models.enums import AuditAction, ChatOutcome, ChatSender, ChatStatus, Role
from crm.services import chat, staff_sessions
from crm.services.chat import fanout
from crm.services.leads import RequestMeta
from tests.chats import open_around_the_clock
from tests.factories import make_user
from tests.staff import StaffClient

NOW = datetime(2026, 12, 2, 17, 0, tzinfo=UTC)


def started(name: str = "Maria") -> Chat:
    meta = RequestMeta(ip_address="203.0.113.7", user_agent="pytest", page_url=None)
    return chat.start_chat(name, meta, NOW)


def signed_in(role: Role = Role.advocate, name: str | None = None, at: datetime = NOW) -> User:
    """A new user with a live session, as if they had signed in a minute before `at`."""
    user = make_user(role, name=name)
    token = staff_sessions.start(user, None)
    db.session.execute(
        sa.update(StaffSession)
        .where(StaffSession.token_hash == staff_sessions._hash(token))
        .values(created_at=at - timedelta(minutes=1), last_seen_at=at - timedelta(minutes=1))
    )
    db.session.commit()
    return user


def held_chat(holder: User) -> Chat:
    conversation = started()
    assert chat.accept_chat(conversation.id, holder, NOW)
    db.session.commit()
    return conversation


def test_the_holder_transfers_to_a_signed_in_advocate_who_then_holds_it(app_ctx):
    ada = signed_in(name="Ada Lovelace")
    ben = signed_in(name="Ben Franklin")
    conversation = held_chat(ada)

    with fanout.listen(conversation.id) as wait:
        assert chat.transfer_chat(conversation, ada, ben.id, NOW).id == ben.id
        db.session.commit()
        # Every page showing the chat (both advocates', the visitor's) hears of it. (A first
        # wait may return early on Redis's subscribe confirmation: wait again, to a deadline.)
        deadline = time.monotonic() + 10
        while not wait(1):
            assert time.monotonic() < deadline, "the transfer was not announced"

    db.session.refresh(conversation)
    assert conversation.claimed_by_user_id == ben.id
    assert conversation.status == ChatStatus.active
    assert [c.id for c in chat.chats_held_by(ben.id)] == [conversation.id]
    assert chat.chats_held_by(ada.id) == []
    assert chat.chat_for_staff(conversation.id, ben).id == conversation.id
    with pytest.raises(chat.ChatRefused) as refused:
        chat.chat_for_staff(conversation.id, ada)
    assert refused.value.status == 403
    staff_line = chat.messages(conversation.id, for_staff=True)[-1]
    assert (staff_line.sender, staff_line.body) == (
        ChatSender.system,
        "Transferred from Ada Lovelace to Ben Franklin.",
    )
    visitor_line = chat.messages(conversation.id)[-1]
    assert (visitor_line.sender, visitor_line.body) == (
        ChatSender.system,
        "You are now chatting with Ben.",
    )
    assert visitor_line.author is None
    transcript = chat.transcripts({conversation.id})[conversation.id]
    assert "System: Transferred from Ada Lovelace to Ben Franklin." in transcript


def test_only_signed_in_advocates_and_managers_other_than_the_holder_are_offered(app_ctx):
    ada = signed_in(name="Ada Lovelace")
    ben = signed_in(name="Ben Franklin")
    boss = signed_in(Role.manager, name="Cora Manager")
    signed_in(Role.admin, name="Dan Admin")
    away = make_user(Role.advocate, name="Eve Away")  # never signed in
    gone = signed_in(name="Fay Gone")
    gone.active = False
    db.session.commit()
    conversation = held_chat(ada)

    offered = [target.name for target in chat.transfer_targets(conversation, NOW)]
    assert offered == ["Ben Franklin", "Cora Manager"]
    for user in (away, gone, ada):
        with pytest.raises(chat.ChatRefused):
            chat.transfer_chat(conversation, ada, user.id, NOW)
    db.session.rollback()
    db.session.refresh(conversation)
    assert conversation.claimed_by_user_id == ada.id
    assert chat.transfer_chat(conversation, ada, boss.id, NOW).id == boss.id
    assert ben.id != conversation.claimed_by_user_id


def test_another_advocate_may_not_transfer_but_a_manager_may(app_ctx):
    ada, ben, cy = (signed_in(name=n) for n in ("Ada Lovelace", "Ben Franklin", "Cy Young"))
    boss = signed_in(Role.manager, name="Cora Manager")
    conversation = held_chat(ada)

    with pytest.raises(chat.ChatRefused) as refused:
        chat.transfer_chat(conversation, ben, cy.id, NOW)
    assert refused.value.status == 403
    chat.transfer_chat(conversation, boss, cy.id, NOW)
    db.session.commit()
    assert db.session.get(Chat, conversation.id).claimed_by_user_id == cy.id
    assert chat.messages(conversation.id, for_staff=True)[-1].body == (
        "Transferred from Ada Lovelace to Cy Young."
    )


def test_a_close_from_a_page_read_before_a_transfer_is_refused(app, app_ctx):
    ada, ben = signed_in(name="Ada Lovelace"), signed_in(name="Ben Franklin")
    boss_id = signed_in(Role.manager).id
    conversation = held_chat(ada)
    # Ada's request reads the chat while she holds it ...
    seen_by_ada = chat.chat_for_staff(conversation.id, ada)
    # ... and a manager's request moves it to Ben before her Close runs.
    with app.app_context():
        boss = db.session.get(User, boss_id)
        chat.transfer_chat(chat.chat_for_staff(conversation.id, boss), boss, ben.id, NOW)
        db.session.commit()

    with pytest.raises(chat.ChatRefused, match="moved to another advocate"):
        chat.close_chat(seen_by_ada, ada, ChatOutcome.helped, NOW)
    db.session.rollback()
    assert db.session.get(Chat, conversation.id).status == ChatStatus.active


def test_an_ended_chat_cannot_be_transferred(app_ctx):
    ada, ben = signed_in(name="Ada Lovelace"), signed_in(name="Ben Franklin")
    conversation = held_chat(ada)
    chat.close_chat(conversation, ada, ChatOutcome.helped, NOW)
    db.session.commit()

    with pytest.raises(chat.ChatRefused, match="has ended") as refused:
        chat.transfer_chat(conversation, ada, ben.id, NOW)
    assert refused.value.status == 409


def test_transfer_logs_ids_only(app_ctx, caplog):
    caplog.set_level("INFO", logger="crm.services.chat")
    ada, ben = signed_in(name="Ada Lovelace"), signed_in(name="Ben Franklin")
    conversation = held_chat(ada)
    chat.transfer_chat(conversation, ada, ben.id, NOW)

    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert f"chat {conversation.id} transferred from user {ada.id} to user {ben.id}" in logged
    for private in ("Maria", "Ada", "Ben"):
        assert private not in logged


# The pages, each client signed in through the real form.


@pytest.fixture
def at_work(app_ctx, config_override):
    open_around_the_clock(config_override)


def client_for(app, user: User) -> StaffClient:
    client = StaffClient(app.test_client())
    assert client.sign_in(user.email).status_code == 302
    return client


def accepted_chat(app, holder: StaffClient) -> int:
    visitor = StaffClient(app.test_client())
    visitor.submit("/chat", {"first_name": "Maria"}, action="/chat/start")
    chat_id = db.session.scalar(sa.select(sa.func.max(Chat.id)))
    holder.submit("/advocate/chats", {}, action=f"/advocate/chats/{chat_id}/accept")
    return chat_id


def test_an_advocate_transfers_a_chat_from_its_page(app, at_work):
    ada = make_user(Role.advocate, name="Ada Lovelace")
    ben = make_user(Role.advocate, name="Ben Franklin")
    ada_client, ben_client = client_for(app, ada), client_for(app, ben)
    chat_id = accepted_chat(app, ada_client)
    page = f"/advocate/chats/{chat_id}"

    response = ada_client.submit(
        page, {"to_user_id": str(ben.id)}, action=f"{page}/transfer", follow_redirects=True
    )
    assert response.status_code == 200
    assert "The chat is now with Ben Franklin." in response.get_data(as_text=True)
    assert ada_client.get(page).status_code == 403
    ben_list = ben_client.get("/advocate/chats").get_data(as_text=True)
    assert f'href="/advocate/chats/{chat_id}"' in ben_list
    assert "Transferred from Ada Lovelace to Ben Franklin." in ben_client.get(page).get_data(
        as_text=True
    )
    audited = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == AuditAction.chat_transferred)
    )
    assert audited.actor_user_id == ada.id and audited.target_user_id == ben.id
    assert audited.detail == {"chat_id": chat_id, "from_user_id": ada.id, "to_user_id": ben.id}


def test_a_transfer_to_someone_who_signed_out_is_refused_with_the_page_again(app, at_work):
    ada = make_user(Role.advocate, name="Ada Lovelace")
    ben = make_user(Role.advocate, name="Ben Franklin")
    ada_client, ben_client = client_for(app, ada), client_for(app, ben)
    chat_id = accepted_chat(app, ada_client)
    page = f"/advocate/chats/{chat_id}"
    form = ada_client.form(page, action=f"{page}/transfer")
    ben_client.sign_out()

    response = ada_client.post(form.action, data={**form.values, "to_user_id": str(ben.id)})
    assert response.status_code == 409
    assert "That advocate is not signed in now." in response.get_data(as_text=True)
    assert db.session.get(Chat, chat_id).claimed_by_user_id == ada.id
    # Nobody else is signed in now: the page says so instead of offering an empty list.
    assert "No other advocate is signed in" in ada_client.get(page).get_data(as_text=True)


def test_the_notice_counts_waiting_chats_without_names_and_is_no_activity(app, at_work):
    ada = make_user(Role.advocate, name="Ada Lovelace")
    ada_client = client_for(app, ada)
    visitor = StaffClient(app.test_client())
    visitor.submit("/chat", {"first_name": "Mariposa"}, action="/chat/start")
    newest = db.session.scalar(sa.select(sa.func.max(Chat.id)))
    before = db.session.scalar(sa.select(StaffSession.last_seen_at))
    db.session.execute(sa.update(StaffSession).values(last_seen_at=before - timedelta(minutes=5)))
    db.session.commit()

    response = ada_client.get("/advocate/chats/notice", headers={"X-Background-Poll": "1"})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    counts = response.get_json()
    assert counts["waiting"] == 1 and counts["newest_waiting_id"] == newest
    assert counts["held"] == 0 and counts["oldest_wait_seconds"] >= 0
    assert "Mariposa" not in response.get_data(as_text=True)
    # A background poll is not activity: the session idles out as if the tab were closed.
    db.session.expire_all()
    assert db.session.scalar(sa.select(StaffSession.last_seen_at)) == before - timedelta(minutes=5)
    queue = ada_client.get("/advocate/queue").get_data(as_text=True)
    assert "1 visitor is waiting to chat" in queue and 'href="/advocate/chats"' in queue
