"""Demo data: canned replies, a few ended chats on demo contacts' timelines and one waiting chat.

So that a new user sees the chat feature at once: the transcripts on two contact pages, a
visitor waiting on the chats page (and the new-chat notice on the call queue), and canned
replies to pick. Run once: a database that has chats or canned replies gets no more.
"""

import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa

from crm.extensions import db
from crm.models import CannedReply, Chat, Contact, User
from crm.models.enums import ChatOutcome, ChatSender, ChatStatus, TimelineKind
from crm.services import events
from crm.services.actors import Actor
from crm.services.chat.canned_replies import CannedReplyInput, create_reply
from crm.services.chat.conversations import add_message

CANNED_REPLIES = (
    ("Greeting", "Hello, and thank you for reaching out. I'm a patient advocate. How can I help?"),
    (
        "Free guide",
        "We have a free guide on mesothelioma treatment options, costs and VA benefits. "
        "Would you like us to email it to you, or mail a printed copy?",
    ),
    (
        "Find a specialist",
        "We can help you find a mesothelioma specialist near you. What is your ZIP code?",
    ),
    (
        "VA benefits",
        "Veterans exposed to asbestos in service may qualify for VA benefits. Did you or your "
        "loved one serve in the military?",
    ),
    (
        "Offer a call",
        "It may be easier to talk this through. May an advocate call you? What number and time "
        "suit you best?",
    ),
    ("Goodbye", "Thank you for chatting with us. We're here whenever you need us."),
)
# Who said what in each ended chat: "v" the visitor, "a" the advocate; minutes apart.
_TRANSCRIPTS = (
    (
        ChatOutcome.guide_requested,
        (
            ("v", "Hi, my dad was just diagnosed with pleural mesothelioma. Where do we start?"),
            (
                "a",
                "I'm so sorry to hear that. We can help. Has his doctor talked about "
                "treatment options yet?",
            ),
            ("v", "Only chemotherapy so far. We'd like to read up before the next visit."),
            (
                "a",
                "Our free guide explains the treatments and the questions to ask. May I "
                "email it to you?",
            ),
            ("v", "Yes please, that would help a lot."),
        ),
    ),
    (
        ChatOutcome.callback_arranged,
        (
            ("v", "My husband served on a Navy ship in the 60s. Can he get VA benefits?"),
            (
                "a",
                "Very likely: Navy veterans often qualify. It's easier to go through on the "
                "phone. May I have an advocate call you?",
            ),
            ("v", "Tomorrow after 4pm is best."),
            ("a", "Done: we'll call you tomorrow after 4pm. Thank you for reaching out."),
        ),
    ),
)


def seed_demo_chats(advocate_ids: list[int], now: datetime) -> tuple[int, int]:
    """Add the canned replies and demo chats once; return (replies, chats) added."""
    replies = _seed_canned_replies()
    if db.session.scalar(sa.select(sa.func.count()).select_from(Chat)) or not advocate_ids:
        return replies, 0
    contacts = db.session.execute(
        sa.select(Contact.id, Contact.first_name)
        .where(Contact.created_at < now - timedelta(days=3))
        .order_by(Contact.id)
        .limit(len(_TRANSCRIPTS))
    ).all()
    for number, ((contact_id, first_name), (outcome, lines)) in enumerate(
        zip(contacts, _TRANSCRIPTS, strict=False)
    ):
        advocate_id = advocate_ids[number % len(advocate_ids)]
        _ended_chat(contact_id, first_name, advocate_id, outcome, lines, now - timedelta(days=2))
    waiting = _chat("Linda", None, ChatStatus.waiting, now)
    add_message(waiting.id, ChatSender.visitor, None, "Hello, is anyone there?", now)
    return replies, len(contacts) + 1


def _seed_canned_replies() -> int:
    if db.session.scalar(sa.select(sa.func.count()).select_from(CannedReply)):
        return 0
    for position, (title, body) in enumerate(CANNED_REPLIES):
        create_reply(CannedReplyInput(title, body, position=position * 10))
    return len(CANNED_REPLIES)


def _chat(visitor_name: str, contact_id: int | None, status: ChatStatus, at: datetime) -> Chat:
    chat = Chat(
        public_token=secrets.token_urlsafe(32),
        visitor_name=visitor_name,
        status=status,
        contact_id=contact_id,
        created_at=at,
    )
    db.session.add(chat)
    db.session.flush()
    return chat


def _ended_chat(contact_id, first_name, advocate_id, outcome, lines, started_at) -> None:
    """A chat accepted a minute after it opened, a few minutes long, closed with an outcome."""
    advocate_name = db.session.scalar(sa.select(User.name).where(User.id == advocate_id))
    chat = _chat(first_name, contact_id, ChatStatus.waiting, started_at)
    at = started_at
    add_message(chat.id, ChatSender.visitor, None, lines[0][1], at)
    at += timedelta(minutes=1)
    chat.status, chat.claimed_by_user_id, chat.claimed_at = ChatStatus.active, advocate_id, at
    add_message(chat.id, ChatSender.system, None, f"{advocate_name} joined the chat.", at)
    for who, body in lines[1:]:
        at += timedelta(minutes=2)
        sender = ChatSender.advocate if who == "a" else ChatSender.visitor
        add_message(chat.id, sender, advocate_id if who == "a" else None, body, at)
    at += timedelta(minutes=1)
    chat.status, chat.closed_at, chat.outcome = ChatStatus.closed, at, outcome
    add_message(chat.id, ChatSender.system, None, f"{advocate_name} closed the chat.", at)
    db.session.flush()
    events.record(
        contact_id,
        TimelineKind.chat_closed,
        Actor.user(advocate_id),
        detail={"chat_id": chat.id, "outcome": outcome.value},
        at=at,
    )
