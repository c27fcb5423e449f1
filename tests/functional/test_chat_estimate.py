"""The waiting visitor's estimate: place in the queue, advocates signed in, recent waits."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from crm.extensions import db
from crm.models import Chat, utcnow
from crm.models.enums import ChatStatus, Role
from crm.services import staff_sessions
from crm.services.chat.estimate import WaitEstimate, median_wait_seconds, wait_estimate
from tests.factories import make_user


@pytest.fixture
def now(app_ctx, config_override):
    config_override(CHAT_ESTIMATE_DEFAULT_MINUTES=2, CHAT_ESTIMATE_WINDOW_MINUTES=60)
    return utcnow()


def chat(opened, *, accepted=None, by=None) -> Chat:
    """A chat opened at `opened`, accepted at `accepted` (by `by`) or still waiting."""
    row = Chat(
        public_token=f"token-{db.session.scalar(sa.select(sa.func.count(Chat.id)))}",
        visitor_name="Maria",
        status=ChatStatus.active if accepted else ChatStatus.waiting,
        claimed_by_user_id=by.id if by else None,
        claimed_at=accepted,
        created_at=opened,
    )
    db.session.add(row)
    db.session.commit()
    return row


def advocates_signed_in(count: int) -> list:
    users = [make_user(Role.advocate) for _ in range(count)]
    for user in users:
        staff_sessions.start(user, "127.0.0.1")
    db.session.commit()
    return users


def test_with_no_history_the_first_in_line_waits_the_default(now):
    waiting = chat(now)
    assert wait_estimate(waiting, now) == WaitEstimate(position=1, minutes=2)


def test_the_median_of_the_last_hours_waits_per_place_in_line(now):
    (ada,) = advocates_signed_in(1)
    for minutes in (1, 3, 5, 40):  # the median is 4 minutes: one slow chat does not skew it
        chat(now - timedelta(minutes=50), accepted=now - timedelta(minutes=50 - minutes), by=ada)
    chat(now - timedelta(hours=3), accepted=now - timedelta(hours=2), by=ada)  # too old
    first, second = chat(now - timedelta(seconds=30)), chat(now)

    assert median_wait_seconds(now) == 4 * 60
    assert wait_estimate(first, now) == WaitEstimate(1, 4)  # 3.5 minutes to go, rounded up
    assert wait_estimate(second, now) == WaitEstimate(2, 8)


def test_more_advocates_take_the_line_in_parallel(now):
    advocates_signed_in(2)
    chat(now - timedelta(seconds=2))
    second = chat(now - timedelta(seconds=1))
    third = chat(now)
    assert wait_estimate(second, now) == WaitEstimate(2, 2)
    assert wait_estimate(third, now) == WaitEstimate(3, 4)


def test_a_minute_or_less_to_go_is_shortly_never_zero_minutes(now):
    almost = chat(now - timedelta(seconds=61))  # 59 seconds of the default 2 minutes left
    assert wait_estimate(almost, now) == WaitEstimate(1, None)
    overdue = chat(now - timedelta(minutes=30))
    assert wait_estimate(overdue, now).shortly
    # Third in line: 3 x 2 minutes, less the 59 seconds waited, is 5 minutes 1 second: 6.
    assert wait_estimate(chat(now - timedelta(seconds=59)), now) == WaitEstimate(3, 6)


def test_only_a_waiting_chat_has_an_estimate(now):
    (ada,) = advocates_signed_in(1)
    assert wait_estimate(chat(now, accepted=now, by=ada), now) is None
