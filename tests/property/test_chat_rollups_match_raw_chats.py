"""For random chats and steps, chat_daily holds what a direct count over the chats says.

Chats start around New York's midnights (the second night is the one clocks go forward),
are accepted after any wait by one of two advocates, then closed with any outcome after
any time, missed, or left waiting or open; visitors write in between. The steps are taken
in a shuffled order (each chat's own steps in order), the roll-ups refreshed in small
batches part way through and again at the end. chat_daily must then equal a direct count
over the chats table; refreshing again changes nothing; a rebuild by the fold, and on
PostgreSQL the set-based one, give the same table and stages.
"""

import secrets
from collections import Counter
from datetime import timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm.extensions import db
from crm.models import Chat, ChatDaily, ReportSlice, RollupChat, User
from crm.models.enums import ChatOutcome, ChatSender, ChatStatus
from crm.services import rollups
from crm.services.chat.conversations import add_message
from crm.services.chat.handling import MISSED_NOTE, accept_chat, close_chat
from crm.services.rollups import chat_reports
from crm.services.rollups.buckets import bucket_of
from crm.services.rollups.chat_fold import HANDLING_BOUNDS, WAIT_BOUNDS
from tests.conftest import empty_all_tables
from tests.factories import make_contact
from tests.rollup_data import add_advocate, rollup_rows
from tests.rollup_strategies import START, minutes

PROPERTY = settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
ENDS = ("waiting", "open", "missed", *ChatOutcome)
chats = st.lists(
    st.fixed_dictionaries(
        {
            "at": minutes,
            "lead": st.booleans(),
            "advocate": st.integers(0, 1),
            "wait": st.one_of(st.integers(0, 1200), st.sampled_from([0, 4, 5, 59, 60, 61])),
            "end": st.sampled_from(ENDS),
            "handled": st.integers(0, 9000),
            "lines": st.integers(0, 2),  # visitor messages, for ids the fold passes over
        }
    ),
    max_size=6,
)


def _steps(chat: Chat, plan: dict, advocates: list[User]) -> list:
    """This chat's steps in its own order, each a function that takes it (and its message)."""
    user = advocates[plan["advocate"]]
    accepted = chat.created_at + timedelta(seconds=plan["wait"])
    closed = accepted + timedelta(seconds=plan["handled"])

    def say(at):
        return lambda: add_message(chat.id, ChatSender.visitor, None, "Hello", at)

    def miss():
        chat.status, chat.closed_at = ChatStatus.missed, chat.created_at + timedelta(minutes=15)
        db.session.flush()
        add_message(chat.id, ChatSender.system, None, MISSED_NOTE, chat.closed_at)

    steps = [say(chat.created_at) for _ in range(plan["lines"])]
    if plan["end"] == "missed":
        return [*steps, miss]
    if plan["end"] == "waiting":
        return steps
    steps.append(lambda: accept_chat(chat.id, user, accepted))
    if isinstance(plan["end"], ChatOutcome):

        def close():
            db.session.refresh(chat)
            close_chat(chat, user, plan["end"], closed)

        steps.append(close)
    return steps


def _day_and_hour(moment):
    local = moment.astimezone(ZoneInfo(current_app.config["ORG_TIME_ZONE"]))
    return local.date(), f"{local.hour:02d}"


def expected_daily() -> dict:
    """chat_daily counted straight from the chats table."""
    counts: Counter = Counter()
    seconds: Counter = Counter()
    for chat in db.session.scalars(sa.select(Chat)):
        day, hour = _day_and_hour(chat.created_at)
        found = [((day, "started", 0, hour), 0)]
        if chat.contact_id is not None:
            found.append(((day, "lead", 0, ""), 0))
        if chat.claimed_at is not None:
            wait = int((chat.claimed_at - chat.created_at).total_seconds())
            found.append(((day, "wait", 0, str(bucket_of(wait, WAIT_BOUNDS))), wait))
            found.append(((day, "accepted", chat.claimed_by_user_id, ""), wait))
        if chat.status == ChatStatus.missed:
            found.append(((day, "missed", 0, hour), 0))
        if chat.status == ChatStatus.closed:
            handled = int((chat.closed_at - chat.claimed_at).total_seconds())
            advocate = chat.claimed_by_user_id
            found.append(((day, "closed", advocate, chat.outcome.value), 0))
            bucket = str(bucket_of(handled, HANDLING_BOUNDS))
            found.append(((day, "handled", advocate, bucket), handled))
        for key, spent in found:
            counts[key] += 1
            seconds[key] += spent
    return {key: (n, seconds[key]) for key, n in counts.items()}


def _snapshot() -> dict:
    db.session.expire_all()
    slices = {key: n for key, n in rollup_rows(ReportSlice).items() if key[0] == "chats"}
    return {
        "daily": rollup_rows(ChatDaily),
        "slices": slices,
        "stages": set(db.session.execute(sa.select(RollupChat.__table__)).all()),
    }


def _summed(expected: dict, measure: str, part: int) -> Counter:
    """The expected chats of one measure summed by one part of the key (2: advocate, 3: value)."""
    summed: Counter = Counter()
    for key, (n, _) in expected.items():
        if key[1] == measure:
            summed[key[part]] += n
    return summed


@PROPERTY
@given(plans=chats, order=st.randoms(), split=st.integers(0, 12), batch=st.integers(1, 3))
def test_chat_rollups_equal_a_direct_count_over_the_chats(
    app_ctx, config_override, plans, order, split, batch
):
    empty_all_tables()
    config_override(ORG_TIME_ZONE="America/New_York")
    advocates = [db.session.get(User, add_advocate()) for _ in range(2)]
    contact_id = make_contact().id
    rows = [
        Chat(
            public_token=secrets.token_urlsafe(32),
            visitor_name="Visitor",
            status=ChatStatus.waiting,
            contact_id=contact_id if plan["lead"] else None,
            created_at=START + timedelta(minutes=plan["at"]),
        )
        for plan in plans
    ]
    db.session.add_all(rows)
    db.session.commit()
    queues = [_steps(chat, plan, advocates) for chat, plan in zip(rows, plans, strict=True)]
    # One chat's steps stay in order; different chats' steps interleave at random.
    tickets = [number for number, queue in enumerate(queues) for _ in queue]
    order.shuffle(tickets)
    for taken, number in enumerate(tickets):
        queues[number].pop(0)()
        db.session.commit()
        if taken == split:
            rollups.refresh(batch_size=batch)
    rollups.refresh(batch_size=batch)

    expected = expected_daily()
    assert _snapshot()["daily"] == expected
    start, end = (START - timedelta(days=2)).date(), (START + timedelta(days=6)).date()
    totals = chat_reports.totals(start, end)
    assert totals.count("started") == len(plans)
    assert totals.count("missed") == sum(plan["end"] == "missed" for plan in plans)
    assert Counter(totals.by_hour("started")) == _summed(expected, "started", 3)
    assert Counter(totals.by_value("wait")) == _summed(expected, "wait", 3)
    accepted = {adv: sum(v.values()) for adv, v in totals.by_advocate("accepted").items()}
    assert Counter(accepted) == _summed(expected, "accepted", 2)
    per_day = chat_reports.daily(start, end, ("started", "missed"))
    started_per_day = Counter({day: n["started"] for day, n in per_day.items() if "started" in n})
    assert started_per_day == _summed(expected, "started", 0)

    incremental = _snapshot()
    assert rollups.refresh() == 0
    assert _snapshot() == incremental
    rollups.rebuild(batch_size=2, in_sql=False)
    assert _snapshot() == incremental
    if db.engine.dialect.name == "postgresql":
        rollups.rebuild(in_sql=True)
        assert _snapshot() == incremental
