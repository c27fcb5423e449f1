"""A chat joins a contact through the capture service, and its transcript reaches the timeline."""

from datetime import UTC, datetime

import sqlalchemy as sa

from crm.extensions import db
from crm.models import (
    CallTask,
    ConsentRecord,
    Contact,
    OutboxMessage,
    Submission,
    TimelineEvent,
)
from crm.models.enums import ChatOutcome, ConsentChannel, FormKind, Role, TimelineKind
from crm.services import chat
from crm.services.leads import LeadInput, RequestMeta
from tests.factories import make_contact, make_user

NOW = datetime(2026, 12, 2, 17, 0, tzinfo=UTC)  # noon in New York, on a Wednesday


def started(name: str = "Maria", **kwargs):
    meta = RequestMeta(
        ip_address="203.0.113.7", user_agent="pytest", page_url="https://x.test/chat"
    )
    return chat.start_chat(name, meta, NOW, **kwargs)


def chat_lead(**fields) -> LeadInput:
    """The pre-chat step as ChatStartForm.to_lead() builds it."""
    values = {
        "form": FormKind.chat,
        "first_name": "Maria",
        "last_name": "",
        "email": None,
        "phone_e164": None,
        "consents": {ConsentChannel.calls_texts: True, ConsentChannel.email: False},
    }
    return LeadInput(**{**values, **fields})


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_a_chat_without_email_or_phone_is_no_lead(app_ctx):
    conversation = started()
    assert conversation.contact_id is None
    assert count(Submission) == 0 and count(Contact) == 0


def test_a_chat_from_a_known_email_joins_that_contact_with_its_consent_recorded(app_ctx):
    known = make_contact(first_name="Maria", email="maria@example.com")
    before = count(OutboxMessage)

    conversation = started(
        lead=chat_lead(email="maria@example.com"), idempotency_key="chat:nonce-1"
    )

    assert conversation.contact_id == known.id
    submission = db.session.scalar(sa.select(Submission).where(Submission.form == FormKind.chat))
    assert submission.contact_id == known.id and submission.is_reengagement
    consents = db.session.scalars(
        sa.select(ConsentRecord).where(ConsentRecord.submission_id == submission.id)
    ).all()
    assert {(c.channel, c.granted) for c in consents} == {
        (ConsentChannel.calls_texts, True),
        (ConsentChannel.email, False),
    }
    assert all(c.form == FormKind.chat and c.text for c in consents)
    assert count(OutboxMessage) == before  # a chat answers in the chat: no email


def test_the_same_phone_under_another_name_is_another_person(app_ctx):
    family = make_contact(FormKind.callback, first_name="Walter", phone="+16175550134")

    conversation = started(
        "Maria", lead=chat_lead(phone_e164="+16175550134"), idempotency_key="chat:nonce-2"
    )

    assert conversation.contact_id not in (None, family.id)
    joined = db.session.get(Contact, conversation.contact_id)
    assert joined.possible_duplicate_of_id == family.id
    # A new lead who may be called: a speed-to-lead call, as for the forms.
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(CallTask).where(CallTask.contact_id == joined.id)
        )
        == 1
    )


def test_the_same_pre_chat_page_sent_twice_stores_one_submission(app_ctx):
    first = started(lead=chat_lead(email="ann@example.com"), idempotency_key="chat:same")
    second = started(lead=chat_lead(email="ann@example.com"), idempotency_key="chat:same")
    assert first.contact_id == second.contact_id
    assert count(Submission) == 1


def test_closing_a_chat_of_a_contact_puts_its_transcript_on_the_timeline(app_ctx):
    conversation = started(lead=chat_lead(email="maria@example.com"), idempotency_key="chat:t")
    ada = make_user(Role.advocate, name="Ada Lovelace")
    chat.post_visitor_message(conversation, "Is surgery possible?", NOW)
    chat.accept_chat(conversation.id, ada, NOW)
    chat.post_advocate_message(conversation, ada, "Often, yes.", NOW)
    chat.close_chat(conversation, ada, ChatOutcome.helped, NOW)
    db.session.commit()

    event = db.session.scalar(
        sa.select(TimelineEvent).where(TimelineEvent.kind == TimelineKind.chat_closed)
    )
    assert event.contact_id == conversation.contact_id and event.actor_user_id == ada.id
    # Ids and codes only: the words stay in the chat's own rows.
    assert event.detail == {"chat_id": conversation.id, "outcome": "helped"}
    transcript = chat.transcripts({conversation.id})[conversation.id]
    assert transcript.splitlines() == [
        "17:00 Visitor: Is surgery possible?",
        "17:00 System: Ada Lovelace joined the chat.",
        "17:00 Ada Lovelace: Often, yes.",
        "17:00 System: Ada Lovelace closed the chat.",
    ]


def test_an_ended_chat_is_readable_by_every_advocate(app_ctx):
    conversation = started()
    ada, ben = make_user(Role.advocate), make_user(Role.advocate)
    chat.accept_chat(conversation.id, ada, NOW)
    chat.close_chat(conversation, ada, ChatOutcome.helped, NOW)
    db.session.commit()
    assert chat.chat_for_staff(conversation.id, ben).id == conversation.id
