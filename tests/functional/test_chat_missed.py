"""Chats nobody accepted in time are marked missed: off the waiting list, ended for the visitor."""

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from crm.extensions import db
from crm.models import Chat, TimelineEvent, utcnow
from crm.models.enums import ChatSender, ChatStatus, ConsentChannel, FormKind, Role, TimelineKind
from crm.services import chat
from crm.services.chat.handling import MISSED_NOTE
from crm.services.leads import LeadInput, RequestMeta
from crm.tasks.chats import mark_missed_chats
from tests.factories import make_user

NOW = datetime(2026, 12, 2, 17, 0, tzinfo=UTC)


def started(at: datetime, name: str = "Maria", **kwargs) -> Chat:
    meta = RequestMeta(ip_address="203.0.113.9", user_agent="pytest", page_url="https://x.test/")
    return chat.start_chat(name, meta, at, **kwargs)


def test_chats_waiting_past_the_limit_are_missed_once_and_the_rest_left_alone(
    app_ctx, config_override
):
    config_override(CHAT_MISSED_MINUTES=15)
    old = started(NOW - timedelta(minutes=16), "Old")
    fresh = started(NOW - timedelta(minutes=14), "Fresh")
    taken = started(NOW - timedelta(minutes=40), "Taken")
    chat.accept_chat(taken.id, make_user(Role.advocate), NOW - timedelta(minutes=39))
    chat.post_visitor_message(old, "Is anyone there?", NOW - timedelta(minutes=15))
    db.session.commit()

    assert chat.mark_missed(NOW) == 1
    assert chat.mark_missed(NOW) == 0  # nothing twice

    statuses = {
        c.visitor_name: (c.status, c.closed_at) for c in db.session.scalars(sa.select(Chat))
    }
    assert statuses == {
        "Old": (ChatStatus.missed, NOW),
        "Fresh": (ChatStatus.waiting, None),
        "Taken": (ChatStatus.active, None),
    }
    assert [w.visitor_name for w in chat.waiting_chats()] == ["Fresh"]
    # What the visitor wrote stays, with the note saying nobody answered in time.
    lines = [(m.sender, m.body) for m in chat.messages(old.id)]
    assert lines == [(ChatSender.visitor, "Is anyone there?"), (ChatSender.system, MISSED_NOTE)]
    # Too late to accept: the advocate is told, as when a colleague took it.
    assert chat.accept_chat(old.id, make_user(Role.advocate), NOW) is False
    assert fresh.status == ChatStatus.waiting


def test_a_missed_chat_from_a_known_person_joins_their_timeline(app_ctx, config_override):
    config_override(CHAT_MISSED_MINUTES=15)
    lead = LeadInput(
        form=FormKind.chat,
        first_name="Maria",
        last_name="",
        email="maria@example.com",
        phone_e164=None,
        consents={ConsentChannel.calls_texts: False, ConsentChannel.email: True},
    )
    # The periodic task reads the clock: this chat opened an hour before it runs.
    known = started(utcnow() - timedelta(hours=1), lead=lead, idempotency_key="chat:missed-1")

    assert mark_missed_chats.apply().get() == 1  # run in this process

    events = db.session.scalars(
        sa.select(TimelineEvent).where(TimelineEvent.kind == TimelineKind.chat_closed)
    ).all()
    assert [(e.contact_id, e.detail) for e in events] == [
        (known.contact_id, {"chat_id": known.id, "outcome": "missed"})
    ]


def test_the_visitor_of_a_missed_chat_sees_it_ended_and_may_start_again(
    app, app_ctx, config_override
):
    config_override(CHAT_MISSED_MINUTES=15)
    visitor = app.test_client()
    old = started(NOW - timedelta(hours=1))
    with visitor.session_transaction() as session:
        session["chat_token"] = old.public_token
    chat.mark_missed(NOW)

    page = visitor.get("/chat").get_data(as_text=True)
    assert "Your chat has ended" in page and MISSED_NOTE in page
