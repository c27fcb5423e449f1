"""The managers' live board: queue depth, the oldest callback, breaches and the team, now."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from crm.extensions import db
from crm.models import CallTask, utcnow
from crm.models.enums import CallReason, Role
from crm.services.escalation import escalate_missed_callbacks
from crm.services.live_board import live_board
from tests.calls import due_call, zone_at_midday
from tests.factories import make_user
from tests.staff import signed_in

HOUR = timedelta(hours=1)


def test_the_board_counts_the_queue_by_band_and_names_the_oldest_callback(app_ctx):
    now = utcnow()
    zone = zone_at_midday(now)
    oldest, _ = due_call(now - 3 * HOUR, zone=zone, first_name="Olga")
    due_call(now - 2 * HOUR, zone=zone)
    due_call(now - HOUR, reason=CallReason.new_lead, zone=zone)
    due_call(now + HOUR, zone=zone)  # not due yet

    board = live_board(now)

    assert board.depth == {"overdue": 2, "callback": 0, "new_lead": 1, "retry": 0}
    assert board.oldest_callback.contact_id == oldest


def test_the_board_counts_stop_at_the_cap(app_ctx, config_override):
    config_override(BOARD_COUNT_CAP=2)
    now = utcnow()
    for hours in (2, 3, 4):
        due_call(now - hours * HOUR)

    html = signed_in(app_ctx, Role.manager).get("/manager/board").get_data(as_text=True)

    assert '<dd data-band="overdue">2+</dd>' in html


def test_breaches_are_escalated_callbacks_nobody_has_tried_yet(app_ctx):
    now = utcnow()
    # Two days back, so the response target has passed in working time whatever today is.
    missed, _ = due_call(now - 48 * HOUR)
    _, tried_task = due_call(now - 49 * HOUR)
    escalate_missed_callbacks(now)
    db.session.execute(sa.update(CallTask).where(CallTask.id == tried_task).values(attempts=1))
    db.session.commit()

    board = live_board(now)

    assert board.breach_count == 1
    assert [waiting.contact_id for waiting in board.breaches] == [missed]


def test_the_team_shows_who_is_signed_in_and_on_a_call(app_ctx):
    now = utcnow()
    contact_id, _ = due_call(now - HOUR, zone=zone_at_midday(now))
    signed_in(app_ctx, Role.advocate, name="Ada Vocate")
    caller = signed_in(app_ctx, Role.advocate, name="Ben Caller")
    caller.post("/advocate/queue/next", data={"csrf_token": caller.csrf_token()})
    make_user(Role.advocate, name="Cy Away")  # never signed in

    team = {member.name: member.on_call_with for member in live_board(utcnow()).team}

    assert team == {"Ada Vocate": None, "Ben Caller": contact_id}


def test_the_board_shows_contacts_by_id_never_by_name(app_ctx):
    now = utcnow()
    due_call(now - 3 * HOUR, zone=zone_at_midday(now), first_name="Philippa")

    html = signed_in(app_ctx, Role.manager).get("/manager/board").get_data(as_text=True)

    assert "Philippa" not in html and "Oldest waiting callback" in html


def test_the_live_fragment_is_the_board_alone(app_ctx):
    staff = signed_in(app_ctx, Role.manager)

    fragment = staff.get("/manager/board/live")

    assert fragment.status_code == 200
    text = fragment.get_data(as_text=True)
    assert "Waiting now" in text and "<html" not in text
    assert fragment.headers["Cache-Control"].startswith("no-store")


@pytest.mark.parametrize("path", ["/manager/board", "/manager/board/live"])
def test_managers_and_admins_may_read_the_board_and_advocates_may_not(app_ctx, path):
    assert signed_in(app_ctx, Role.manager).get(path).status_code == 200
    assert signed_in(app_ctx, Role.admin).get(path).status_code == 200
    assert signed_in(app_ctx, Role.advocate).get(path).status_code == 403
