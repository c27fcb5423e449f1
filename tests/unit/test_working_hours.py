"""Response targets count working minutes only; a missed callback is escalated once."""

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from crm.extensions import db
from crm.models import CallTask, OutboxMessage, TimelineEvent
from crm.models.enums import (
    CallTaskStatus,
    ConsentChannel,
    FormKind,
    OutboxKind,
    TimelineKind,
)
from crm.services import capture, delivery, escalation
from crm.services.leads import LeadInput, RequestMeta
from crm.services.working_hours import WorkingTime, organisation_working_time

NEW_YORK = ZoneInfo("America/New_York")
OFFICE = WorkingTime(zone=NEW_YORK, opens=time(8), closes=time(20), weekdays=frozenset(range(5)))


def at(*fields: int, zone: ZoneInfo = NEW_YORK) -> datetime:
    """A wall-clock time in a zone, as the aware UTC instant the app works with."""
    return datetime(*fields, tzinfo=zone).astimezone(UTC)


def minutes(seconds: float) -> float:
    return seconds / 60


# --- working time ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        pytest.param(at(2026, 3, 10, 10, 0), at(2026, 3, 10, 10, 15), 15, id="inside-one-day"),
        pytest.param(at(2026, 3, 10, 20, 30), at(2026, 3, 10, 23, 0), 0, id="after-closing"),
        pytest.param(at(2026, 3, 10, 5, 0), at(2026, 3, 10, 7, 59), 0, id="before-opening"),
        pytest.param(at(2026, 3, 10, 7, 0), at(2026, 3, 10, 8, 10), 10, id="from-before-opening"),
        pytest.param(at(2026, 3, 10, 19, 55), at(2026, 3, 11, 8, 10), 15, id="overnight"),
        pytest.param(at(2026, 3, 13, 19, 55), at(2026, 3, 14, 10, 0), 5, id="into-saturday"),
        pytest.param(at(2026, 3, 13, 19, 55), at(2026, 3, 16, 8, 10), 15, id="over-a-weekend"),
        pytest.param(at(2026, 3, 14, 9, 0), at(2026, 3, 15, 19, 0), 0, id="all-weekend"),
        pytest.param(at(2026, 3, 6, 19, 0), at(2026, 3, 9, 9, 0), 120, id="over-dst-change"),
        pytest.param(at(2026, 11, 25, 19, 55), at(2026, 11, 27, 8, 10), 15, id="thanksgiving"),
        pytest.param(at(2026, 12, 24, 19, 55), at(2026, 12, 28, 8, 10), 15, id="christmas"),
        pytest.param(at(2026, 7, 2, 19, 55), at(2026, 7, 6, 8, 10), 15, id="july-4-observed"),
        pytest.param(at(2026, 12, 31, 19, 55), at(2027, 1, 4, 8, 10), 15, id="new-year"),
        pytest.param(at(2026, 3, 10, 10, 15), at(2026, 3, 10, 10, 0), 0, id="end-before-start"),
    ],
)
def test_working_minutes_between_two_instants(start, end, expected):
    assert minutes(OFFICE.seconds_between(start, end)) == expected


def test_a_week_of_working_time_is_five_twelve_hour_days():
    assert minutes(OFFICE.seconds_between(at(2026, 3, 9, 0, 0), at(2026, 3, 16, 0, 0))) == 5 * 720


def test_instants_in_other_zones_are_counted_in_the_office_zone():
    start = at(2026, 3, 10, 16, 0, zone=ZoneInfo("America/Los_Angeles"))  # 19:00 in New York

    assert minutes(OFFICE.seconds_between(start, at(2026, 3, 10, 21, 0))) == 60


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (datetime(2026, 11, 25).date(), True),
        (datetime(2026, 11, 26).date(), False),  # Thanksgiving
        (datetime(2026, 11, 27).date(), True),  # the day after is not a federal holiday
        (datetime(2026, 11, 28).date(), False),  # Saturday
        (datetime(2026, 1, 19).date(), False),  # Martin Luther King Jr. Day
    ],
)
def test_weekends_and_federal_holidays_are_not_working_days(day, working):
    assert OFFICE.is_working_day(day) is working


def test_working_time_comes_from_the_configuration(app_ctx, config_override):
    config_override(
        ORG_TIME_ZONE="America/Chicago", WORKING_HOURS="09:00-17:30", WORKING_DAYS="Mon, Tue,sat"
    )

    assert organisation_working_time() == WorkingTime(
        zone=ZoneInfo("America/Chicago"),
        opens=time(9),
        closes=time(17, 30),
        weekdays=frozenset({0, 1, 5}),
    )


# --- escalating missed callbacks ----------------------------------------------------------

META = RequestMeta("203.0.113.9", "pytest", None)


def request_callback(received_at: datetime, phone: str = "+13125550187") -> CallTask:
    """A callback asked for "as soon as possible" at `received_at` by a New York visitor."""
    lead = LeadInput(
        form=FormKind.callback,
        first_name="James",
        last_name="O'Brien",
        email=None,
        phone_e164=phone,
        time_zone="America/New_York",
        consents={ConsentChannel.calls_texts: True, ConsentChannel.email: False},
        details={"best_time": "asap"},
    )
    result = capture.submit_lead(lead, META, None, received_at=received_at)
    return db.session.scalar(sa.select(CallTask).where(CallTask.contact_id == result.contact_id))


def alerts() -> list[OutboxMessage]:
    return list(
        db.session.scalars(
            sa.select(OutboxMessage)
            .where(OutboxMessage.kind == OutboxKind.callback_escalation)
            .order_by(OutboxMessage.id)
        )
    )


def escalated_events() -> list[TimelineEvent]:
    return list(
        db.session.scalars(
            sa.select(TimelineEvent).where(TimelineEvent.kind == TimelineKind.callback_escalated)
        )
    )


def test_a_callback_nobody_tried_is_escalated_once_to_each_manager_on_duty(app_ctx, managers):
    task = request_callback(at(2026, 3, 10, 10, 0))
    now = at(2026, 3, 10, 10, 20)

    assert escalation.escalate_missed_callbacks(now) == [task.id]
    assert escalation.escalate_missed_callbacks(at(2026, 3, 10, 10, 25)) == []

    db.session.refresh(task)
    assert task.escalated_at == now
    (event,) = escalated_events()
    assert (event.contact_id, event.detail["call_task_id"]) == (task.contact_id, task.id)
    rows = alerts()
    assert sorted(row.payload["user_id"] for row in rows) == sorted(managers)
    for row in rows:
        assert row.due_at == now
        # Ids only (DESIGN.md rule 6): nothing that names the visitor rides in the payload.
        assert set(row.payload) == {"user_id", "call_task_id", "due_at", "target_minutes"}


def test_managers_get_an_alert_email_that_names_no_patient(app_ctx, managers, smtp_sink):
    request_callback(at(2026, 3, 10, 10, 0))
    escalation.escalate_missed_callbacks(at(2026, 3, 10, 10, 20))

    results = [delivery.deliver_outbox_message(row.id, at(2026, 3, 10, 10, 21)) for row in alerts()]

    assert results == ["sent", "sent"]
    received = smtp_sink.received()
    assert sorted(m["To"].addresses[0].addr_spec for m in received) == [
        "dana@example.org",
        "lee@example.org",
    ]
    for message in received:
        assert message["Subject"] == "Missed callback target"
        body = message.get_body(preferencelist=("plain",)).get_content()
        assert "15 working minutes" in body
        assert "James" not in body and "O'Brien" not in body and "312" not in body


def test_callbacks_already_tried_closed_or_not_yet_late_are_left_alone(app_ctx, managers):
    tried = request_callback(at(2026, 3, 10, 10, 0), phone="+13125550101")
    done = request_callback(at(2026, 3, 10, 10, 0), phone="+13125550102")
    recent = request_callback(at(2026, 3, 10, 10, 10), phone="+13125550103")
    tried.attempts = 1
    done.status = CallTaskStatus.done
    db.session.commit()

    assert escalation.escalate_missed_callbacks(at(2026, 3, 10, 10, 24)) == []
    assert escalation.escalate_missed_callbacks(at(2026, 3, 10, 10, 25)) == [recent.id]
    assert len(alerts()) == 2 and len(escalated_events()) == 1


def test_a_callback_due_just_before_closing_friday_waits_for_monday(app_ctx, managers):
    task = request_callback(at(2026, 3, 13, 19, 55))

    assert escalation.escalate_missed_callbacks(at(2026, 3, 14, 10, 0)) == []  # 5 minutes
    assert escalation.escalate_missed_callbacks(at(2026, 3, 16, 8, 9)) == []  # 14 minutes
    assert escalation.escalate_missed_callbacks(at(2026, 3, 16, 8, 10)) == [task.id]


def test_a_callback_asked_for_on_saturday_is_late_fifteen_minutes_into_monday(app_ctx, managers):
    task = request_callback(at(2026, 3, 14, 10, 0))

    assert task.due_at == at(2026, 3, 14, 10, 0)  # we may call on a Saturday
    assert escalation.escalate_missed_callbacks(at(2026, 3, 14, 19, 0)) == []
    assert escalation.escalate_missed_callbacks(at(2026, 3, 16, 8, 15)) == [task.id]


def test_thanksgiving_does_not_count_towards_the_target(app_ctx, managers):
    task = request_callback(at(2026, 11, 25, 19, 55))

    assert escalation.escalate_missed_callbacks(at(2026, 11, 26, 15, 0)) == []
    assert escalation.escalate_missed_callbacks(at(2026, 11, 27, 8, 10)) == [task.id]


def test_the_response_target_comes_from_the_configuration(app_ctx, managers, config_override):
    config_override(RESPONSE_TARGET_MINUTES=60)
    task = request_callback(at(2026, 3, 10, 10, 0))

    assert escalation.escalate_missed_callbacks(at(2026, 3, 10, 10, 59)) == []
    assert escalation.escalate_missed_callbacks(at(2026, 3, 10, 11, 0)) == [task.id]
    assert {row.payload["target_minutes"] for row in alerts()} == {60}
