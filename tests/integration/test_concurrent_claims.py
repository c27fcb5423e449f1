"""Ten advocates press Next call at the same moment on PostgreSQL: ten different calls."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from crm.extensions import db
from crm.models import CallTask, User
from crm.models.enums import Role
from crm.services.queue import claim_next_call
from tests.calls import due_call
from tests.factories import make_user

pytestmark = pytest.mark.postgres_only

ADVOCATES = 10
JOIN_TIMEOUT = 60
NOW = datetime(2026, 12, 2, 17, 0, tzinfo=UTC)  # noon in New York, on a Wednesday


def press_next_call_together(app, user_ids: list[int]) -> list[int | None]:
    """Each advocate claims in their own thread and app context, released by a barrier."""
    barrier = threading.Barrier(len(user_ids), timeout=JOIN_TIMEOUT)
    results: list[int | None] = [None] * len(user_ids)
    errors: list[BaseException] = []

    def press(index: int) -> None:
        try:
            with app.app_context():
                user = db.session.get(User, user_ids[index])
                barrier.wait()
                claim = claim_next_call(user, NOW)
                db.session.commit()
                results[index] = claim.call_task_id if claim else None
        except BaseException as error:  # re-raised in the test thread below
            errors.append(error)

    threads = [threading.Thread(target=press, args=(i,), daemon=True) for i in range(len(user_ids))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(JOIN_TIMEOUT)
    assert not any(thread.is_alive() for thread in threads), "a claim hung"
    if errors:
        raise errors[0]
    return results


def test_ten_advocates_pressing_at_once_get_ten_different_calls(app):
    with app.app_context():
        tasks = [due_call(NOW - timedelta(minutes=minute))[1] for minute in range(1, 13)]
        user_ids = [make_user(Role.advocate).id for _ in range(ADVOCATES)]

    claimed = press_next_call_together(app, user_ids)

    assert None not in claimed
    assert len(set(claimed)) == ADVOCATES
    # The ten oldest: nobody skipped ahead of a call another advocate was taking.
    assert set(claimed) == set(tasks[2:])
    with app.app_context():
        holders = db.session.execute(
            sa.select(CallTask.id, CallTask.claimed_by_user_id).where(
                CallTask.claimed_by_user_id.is_not(None)
            )
        ).all()
    assert sorted(holder for _, holder in holders) == sorted(user_ids)


def test_a_lapsed_lease_goes_to_exactly_one_of_the_advocates_pressing(app):
    with app.app_context():
        (task_id,) = [due_call(NOW - timedelta(hours=1))[1]]
        first = make_user(Role.advocate).id
        user = db.session.get(User, first)
        claim_next_call(user, NOW - timedelta(minutes=30))
        db.session.commit()
        user_ids = [make_user(Role.advocate).id for _ in range(ADVOCATES)]

    claimed = press_next_call_together(app, user_ids)

    assert sorted(claimed, key=lambda x: x is None) == [task_id] + [None] * (ADVOCATES - 1)


def test_one_advocate_pressing_twice_at_once_holds_one_call(app):
    with app.app_context():
        tasks = [due_call(NOW - timedelta(minutes=minute))[1] for minute in range(1, 4)]
        user_id = make_user(Role.advocate).id

    claimed = press_next_call_together(app, [user_id] * ADVOCATES)

    assert set(claimed) == {tasks[-1]}
