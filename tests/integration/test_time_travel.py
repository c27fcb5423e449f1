"""Eleven simulated days, hour by hour: every scheduled email and callback fires once, on time.

The clock is a parameter of the services the relay, the worker and beat run, so the test
drives them in-process with a simulated `now` instead of waiting for the real one.
"""

import math
from collections import Counter, defaultdict
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from crm.extensions import db
from crm.models import CallTask, OutboxMessage, Submission, TimelineEvent
from crm.models.enums import (
    BestTime,
    ConsentChannel,
    FormKind,
    OutboxKind,
    OutboxStatus,
    Role,
    TimelineKind,
)
from crm.services import capture, delivery, escalation, outbox, sequences, users
from crm.services.leads import LeadInput, RequestMeta
from crm.services.working_hours import organisation_working_time

# A Thursday: visitors arrive until Sunday, so callbacks wait for Monday's working hours and
# emails cross the start of US daylight saving time (9 March).
START = datetime(2025, 3, 6, tzinfo=UTC)
STEP = timedelta(hours=1)
ARRIVALS_OVER = timedelta(hours=72)
# Past the last day-7 offer (arrivals + 7 days) and its wait for the send window (< 12 h).
DAYS = 11
# Enough for every zone x best time x arrival hour to occur several times (28 combinations),
# few enough that the suite stays quick.
GUIDES = CALLBACKS = 100
TIME_ZONES = (
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
    "America/Anchorage",
    "Pacific/Honolulu",
)
BEST_TIMES = (BestTime.asap, BestTime.morning, BestTime.afternoon, BestTime.evening)
# The rules as the issue states them, independent of the code that implements them: nobody is
# called outside 8:00-21:00 local; slots are local hours; commercial email 8:00-20:00 local.
CALLING_HOURS = (8, 21)
SLOT_HOURS = {BestTime.morning: (8, 12), BestTime.afternoon: (12, 17), BestTime.evening: (17, 21)}
SEND_HOURS = (8, 20)
META = RequestMeta(ip_address="203.0.113.9", user_agent="time-travel", page_url=None)


def with_time_zone(rows):
    """Rows ending in a submission's answers, with the zone the visitor's page sent instead."""
    return [(*row[:-1], (row[-1] or {}).get("time_zone")) for row in rows]


def lead(n: int) -> tuple[LeadInput, datetime]:
    """The n-th visitor and when they submit: guides and callbacks alternate, zones rotate."""
    form = FormKind.guide if n % 2 == 0 else FormKind.callback
    details = {"interests": ["treatment"], "printed_guide": False}
    if form == FormKind.callback:
        details = {"best_time": BEST_TIMES[(n // 2) % len(BEST_TIMES)].value, "message": None}
    visitor = LeadInput(
        form=form,
        first_name="Visitor",
        last_name=str(n),
        email=f"visitor{n}@example.com",
        phone_e164=f"+1617555{n:04d}" if form == FormKind.callback else None,
        time_zone=TIME_ZONES[n % len(TIME_ZONES)],
        consents={ConsentChannel.email: True, ConsentChannel.calls_texts: True},
        details=details,
    )
    return visitor, START + ARRIVALS_OVER * n / (GUIDES + CALLBACKS)


def first_step_at_or_after(moment: datetime) -> datetime:
    hours = math.ceil((moment - START) / STEP)
    return START + STEP * max(hours, 0)


def first_instant_in_slot(received: datetime, zone: ZoneInfo, hours: tuple[int, int]) -> datetime:
    """The earliest moment from `received` on whose local hour lies in [start, end)."""
    start, end = hours
    local_day = received.astimezone(zone).date()
    openings = [
        datetime.combine(local_day + timedelta(days=days), time(start), tzinfo=zone)
        for days in range(3)
    ]
    candidates = [received, *(opening.astimezone(UTC) for opening in openings)]
    return min(
        moment
        for moment in candidates
        if moment >= received and start <= moment.astimezone(zone).hour < end
    )


def first_step_in_send_window(due: datetime, zone: ZoneInfo) -> datetime:
    opens, closes = SEND_HOURS
    step = first_step_at_or_after(due)
    while not opens <= step.astimezone(zone).hour < closes:
        step += STEP
    return step


class SimulatedDays:
    """What the test saw while it ran the relay, the worker and beat's checks hour by hour."""

    def __init__(self):
        self.arrivals = sorted((lead(n) for n in range(GUIDES + CALLBACKS)), key=lambda a: a[1])
        self.planned_due: dict[int, datetime] = {}
        self.sent_at: dict[int, list[datetime]] = defaultdict(list)
        self.outcomes: Counter = Counter()
        self.first_due: dict[int, datetime] = {}
        self.escalated: dict[int, list[datetime]] = defaultdict(list)
        self._last_outbox_id = 0

    def run(self, until: datetime) -> None:
        now = START
        while now <= until:
            self.step(now)
            now += STEP

    def step(self, now: datetime) -> None:
        while self.arrivals and self.arrivals[0][1] <= now:
            visitor, received = self.arrivals.pop(0)
            capture.submit_lead(visitor, META, idempotency_key=None, received_at=received)
        self._note_due_calls(now)
        for task_id in escalation.escalate_missed_callbacks(now):
            self.escalated[task_id].append(now)
        self._note_planned_emails()
        # The relay and one worker: claim what is due, deliver each, until nothing is left.
        for _ in range(100):
            claimed = outbox.claim_due(now, 500)
            if not claimed:
                break
            for message_id in claimed:
                outcome = delivery.deliver_outbox_message(message_id, now)
                self.outcomes[outcome] += 1
                if outcome == "sent":
                    self.sent_at[message_id].append(now)
        db.session.remove()

    def _note_due_calls(self, now: datetime) -> None:
        due = db.session.scalars(sa.select(CallTask.id).where(CallTask.due_at <= now))
        for task_id in due:
            self.first_due.setdefault(task_id, now)

    def _note_planned_emails(self) -> None:
        planned = db.session.execute(
            sa.select(OutboxMessage.id, OutboxMessage.due_at).where(
                OutboxMessage.id > self._last_outbox_id
            )
        ).all()
        for message_id, due_at in planned:
            self.planned_due[message_id] = due_at
            self._last_outbox_id = max(self._last_outbox_id, message_id)


def test_hundreds_of_scheduled_emails_and_callbacks_each_fire_once_and_on_time(app_ctx, smtp_sink):
    users.create_user(
        "manager@example.org", "Morgan Manager", Role.manager, "correct horse battery"
    )
    days = SimulatedDays()

    days.run(until=START + timedelta(days=DAYS))

    assert not days.arrivals
    rows = db.session.execute(
        sa.select(
            OutboxMessage.id,
            OutboxMessage.kind,
            OutboxMessage.status,
            OutboxMessage.sent_at,
            Submission.fields,
        ).outerjoin(Submission, Submission.id == OutboxMessage.submission_id)
    ).all()
    rows = with_time_zone(rows)
    kinds = Counter(kind for _, kind, *_ in rows)
    assert kinds == {
        OutboxKind.guide_email: GUIDES,
        OutboxKind.guide_check_in: GUIDES,
        OutboxKind.specialist_offer: GUIDES,
        OutboxKind.callback_confirmation: CALLBACKS,
        OutboxKind.callback_escalation: CALLBACKS,
    }
    assert set(days.outcomes) <= {"sent", "postponed"}, days.outcomes

    # Exactly once: one "sent" per row, one email per Message-ID.
    assert {message_id: len(times) for message_id, times in days.sent_at.items()} == {
        row_id: 1 for row_id, *_ in rows
    }
    received = Counter(smtp_sink.message_ids())
    assert set(received.values()) == {1}
    assert received.keys() == {
        f"<outbox-{row_id}.{kind.value}@example.org>" for row_id, kind, *_ in rows
    }

    # On time: never before it was due; transactional at once, commercial in the send window.
    opens, closes = SEND_HOURS
    late_or_early, outside_the_window = [], []
    for row_id, kind, status, sent_at, time_zone in rows:
        due = days.planned_due[row_id]
        (fired,) = days.sent_at[row_id]
        assert status == OutboxStatus.sent and sent_at == fired
        if sequences.is_commercial(kind):
            expected = first_step_in_send_window(due, ZoneInfo(time_zone))
            if not opens <= fired.astimezone(ZoneInfo(time_zone)).hour < closes:
                outside_the_window.append((row_id, kind.value, time_zone, fired))
        else:
            expected = first_step_at_or_after(due)
        if fired != expected or fired < due:
            late_or_early.append((row_id, kind.value, due, expected, fired))
    assert late_or_early == []
    assert outside_the_window == []

    # Each callback became due at the first moment of the slot the visitor chose.
    tasks = db.session.execute(
        sa.select(
            CallTask.id,
            CallTask.best_time,
            CallTask.due_at,
            CallTask.escalated_at,
            Submission.created_at,
            Submission.fields,
        ).join(Submission, Submission.id == CallTask.submission_id)
    ).all()
    tasks = with_time_zone(tasks)
    assert len(tasks) == CALLBACKS
    working_time = organisation_working_time()
    target = timedelta(minutes=app_ctx.config["RESPONSE_TARGET_MINUTES"])
    wrong = []
    for task_id, best_time, due_at, escalated_at, received, time_zone in tasks:
        slot = SLOT_HOURS.get(best_time, CALLING_HOURS)
        expected_due = first_instant_in_slot(received, ZoneInfo(time_zone), slot)
        if due_at != expected_due or days.first_due[task_id] != first_step_at_or_after(due_at):
            wrong.append(("due", task_id, best_time.value, received, expected_due, due_at))
        # Nobody called, so each is escalated once: at the first check past the target.
        checks = days.escalated[task_id]
        first_late = first_step_at_or_after(due_at + target)
        while working_time.seconds_between(due_at, first_late) < target.total_seconds():
            first_late += STEP
        if checks != [first_late] or escalated_at != first_late:
            wrong.append(("escalated", task_id, due_at, first_late, checks, escalated_at))
    assert wrong == []
    escalation_events = db.session.scalar(
        sa.select(sa.func.count()).where(TimelineEvent.kind == TimelineKind.callback_escalated)
    )
    assert escalation_events == CALLBACKS
