"""Small fixed chats around New York's midnights for the chat report, and what it must show.

Period 10-11 November 2026 (New York, UTC-5), previous period 8-9 November:

- C1 09:00 on the 10th, a lead: Ann accepts after 20 s, closes it helped 300 s later;
- C2 23:30 on the 10th in New York (the 11th in UTC): Bob accepts after 90 s, closes it
  guide requested 600 s later;
- C3 10:00 on the 11th, a lead: nobody accepts, missed;
- C4 23:59 on the 11th: Ann accepts after 45 s, still open;
- C5 midnight of the 12th: outside (Ann, helped);
- C6 10:00 on the 9th: the previous period, missed;
- C7 11:00 on the 11th: still waiting.

Chats are written as rows and then moved by the chat services, so each step writes its
system message as it does in use.
"""

import secrets
from datetime import UTC, datetime, timedelta

from crm.extensions import db
from crm.models import Chat
from crm.models.enums import ChatOutcome, ChatStatus, Role
from crm.services import rollups
from crm.services.chat.handling import accept_chat, close_chat, mark_missed
from tests.factories import make_contact, make_user

PERIOD = "start=2026-11-10&end=2026-11-11"
SUMMARY = [
    ["Figure", "This period", "Previous period"],
    ["Started", "5", "1"],
    ["Accepted by an advocate", "3", "0"],
    ["Missed (nobody accepted in time)", "1", "1"],
    ["Closed by an advocate", "2", "0"],
    ["Became leads (left an email or phone)", "2", "0"],
    ["Median wait to accept", "45-50 s", "n/a"],
    ["90th percentile wait to accept", "90-95 s", "n/a"],
    ["Accepted within 60 s (of accepted and missed)", "50.0%", "0.0%"],
    ["Median chat duration (accepted to closed)", "300-360 s", "n/a"],
]
DAILY = [
    ["Day", "Started", "Accepted", "Missed"],
    ["2026-11-10", "2", "2", "0"],
    ["2026-11-11", "3", "1", "1"],
]
OUTCOMES = [
    ["Outcome", "Chats", "Share of closed", "Previous period"],
    ["Helped", "1", "50.0%", "0"],
    ["Callback arranged", "0", "0.0%", "0"],
    ["Guide requested", "1", "50.0%", "0"],
    ["Visitor left", "0", "0.0%", "0"],
    ["Not relevant", "0", "0.0%", "0"],
]
ADVOCATES = [
    [
        "Advocate",
        "Accepted",
        "Closed",
        "Median handling time",
        "Helped",
        "Callback arranged",
        "Guide requested",
        "Visitor left",
        "Not relevant",
    ],
    ["Ann Chatter", "2", "1", "300-360 s", "1", "0", "0", "0", "0"],
    ["Bob Chatter", "1", "1", "600-720 s", "0", "0", "1", "0", "0"],
]
_STARTED_PER_HOUR = {9: 1, 10: 1, 11: 1, 23: 2}
HOURS = [
    ["Hour started", "Started", "Missed"],
    *(
        [f"{hour:02d}:00", str(_STARTED_PER_HOUR.get(hour, 0)), "1" if hour == 10 else "0"]
        for hour in range(24)
    ),
]


def utc(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def open_chat(at: datetime, lead: bool = False) -> Chat:
    contact_id = make_contact(received_at=at).id if lead else None
    chat = Chat(
        public_token=secrets.token_urlsafe(32),
        visitor_name="Visitor",
        status=ChatStatus.waiting,
        contact_id=contact_id,
        created_at=at,
    )
    db.session.add(chat)
    db.session.commit()
    return chat


def answer(chat: Chat, user, wait: int, handled: int | None = None, outcome=None) -> None:
    accepted_at = chat.created_at + timedelta(seconds=wait)
    assert accept_chat(chat.id, user, accepted_at)
    db.session.commit()
    if handled is not None:
        db.session.refresh(chat)
        close_chat(chat, user, outcome, accepted_at + timedelta(seconds=handled))
        db.session.commit()


def seed_chat_data(refresh: bool = True) -> dict[str, Chat]:
    """The chats above, moved in time order, then folded into the roll-ups."""
    ann = make_user(Role.advocate, name="Ann Chatter")
    bob = make_user(Role.advocate, name="Bob Chatter")
    chats = {
        "C6": open_chat(utc(9, 15)),
        "C1": open_chat(utc(10, 14), lead=True),
        "C2": open_chat(utc(11, 4, 30)),
        "C3": open_chat(utc(11, 15), lead=True),
        "C7": open_chat(utc(11, 16)),
        "C4": open_chat(utc(12, 4, 59)),
        "C5": open_chat(utc(12, 5)),
    }
    mark_missed(utc(9, 15, 16))
    answer(chats["C1"], ann, 20, 300, ChatOutcome.helped)
    answer(chats["C2"], bob, 90, 600, ChatOutcome.guide_requested)
    mark_missed(utc(11, 15, 16))
    answer(chats["C4"], ann, 45)
    answer(chats["C5"], ann, 10, 60, ChatOutcome.helped)
    if refresh:
        rollups.refresh()
    return chats
