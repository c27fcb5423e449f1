"""Logging a call from the call panel, and the next step each outcome sets off."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from crm.extensions import db
from crm.models import (
    AuditEvent,
    Call,
    CallTask,
    ConsentRecord,
    Contact,
    OutboxMessage,
    Submission,
    utcnow,
)
from crm.models.enums import (
    AuditAction,
    BestTime,
    CallOutcome,
    CallReason,
    CallTaskStatus,
    CloseOutcome,
    ConsentChannel,
    FormKind,
    OutboxKind,
    OutboxStatus,
    Role,
    Stage,
)
from crm.services.calls import CallRefused, log_call
from crm.services.do_not_contact import mark_do_not_contact
from crm.services.email_content import compose
from crm.services.escalation import escalate_missed_callbacks
from crm.services.queue import claim_next_call
from crm.services.sequences import stop_reason
from tests.calls import due_call, zone_at_midday
from tests.factories import make_contact, make_user
from tests.staff import StaffClient

HOUR = timedelta(hours=1)


def user_row(role=Role.advocate):
    user = make_user(role)
    user_id = user.id
    return db.session.get(type(user), user_id)


def on_the_phone(app_ctx, **call_values):
    """A due callback an advocate took with Next call: (contact id, task id, user id, client)."""
    now = utcnow()
    contact_id, task_id = due_call(now - HOUR, zone=zone_at_midday(now), **call_values)
    user = make_user(Role.advocate)
    user_id, email = user.id, user.email
    staff = StaffClient(app_ctx.test_client())
    staff.sign_in(email)
    staff.submit("/advocate/queue", {}, form_id="next-call")
    return contact_id, task_id, user_id, staff


def log(staff, contact_id, outcome, **fields):
    data = {"outcome": outcome.value, "minutes": "3", "note": "Spoke briefly.", **fields}
    return staff.submit(f"/contacts/{contact_id}", data, form_id="call-log-form")


def flashed(staff) -> str:
    return staff.get("/advocate/queue").get_data(as_text=True)


def open_tasks(contact_id):
    db.session.expire_all()
    return db.session.scalars(
        sa.select(CallTask).where(
            CallTask.contact_id == contact_id, CallTask.status == CallTaskStatus.open
        )
    ).all()


def contact(contact_id) -> Contact:
    db.session.expire_all()
    return db.session.get(Contact, contact_id)


def emails(contact_id, kind=None):
    query = sa.select(OutboxMessage).where(OutboxMessage.contact_id == contact_id)
    if kind is not None:
        query = query.where(OutboxMessage.kind == kind)
    return db.session.scalars(query.order_by(OutboxMessage.id)).all()


def test_no_answer_is_logged_counted_and_retried_in_two_hours(app_ctx):
    contact_id, task_id, user_id, staff = on_the_phone(app_ctx)
    before = utcnow()

    response = log(staff, contact_id, CallOutcome.no_answer)

    assert response.status_code == 302
    assert response.headers["Location"] == "/advocate/queue"
    assert "No answer. Next try" in flashed(staff)
    db.session.expire_all()
    call = db.session.scalar(sa.select(Call))
    assert (call.user_id, call.call_task_id, call.outcome) == (
        user_id,
        task_id,
        CallOutcome.no_answer,
    )
    assert (call.duration_seconds, call.note) == (180, "Spoke briefly.")
    task = db.session.get(CallTask, task_id)
    assert (task.status, task.attempts, task.claimed_by_user_id) == (CallTaskStatus.done, 1, None)
    assert task.first_attempt_at is not None
    [retry] = open_tasks(contact_id)
    assert retry.reason == CallReason.retry
    # Midday in their zone: two hours on is still inside calling hours.
    assert before + 2 * HOUR <= retry.due_at <= utcnow() + 2 * HOUR
    assert contact(contact_id).stage == Stage.attempting
    audit = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == AuditAction.call_logged)
    )
    assert (audit.actor_user_id, audit.contact_id) == (user_id, contact_id)


def claim_directly(task_id, user, now):
    db.session.execute(
        sa.update(CallTask)
        .where(CallTask.id == task_id)
        .values(claimed_by_user_id=user.id, lease_expires_at=now + HOUR)
    )


@pytest.mark.parametrize(
    ("zone", "best_time", "logged_at", "retry_at"),
    [
        # 20:30 HST: two hours on is 22:30, so 08:00 HST the next morning.
        (
            "Pacific/Honolulu",
            BestTime.asap,
            datetime(2026, 12, 3, 6, 30, tzinfo=UTC),
            datetime(2026, 12, 3, 18, 0, tzinfo=UTC),
        ),
        # 20:30 EST: 08:00 EST the next morning.
        (
            "America/New_York",
            BestTime.asap,
            datetime(2026, 12, 3, 1, 30, tzinfo=UTC),
            datetime(2026, 12, 3, 13, 0, tzinfo=UTC),
        ),
        # 10:00 EST: noon EST is still calling hours.
        (
            "America/New_York",
            BestTime.asap,
            datetime(2026, 12, 2, 15, 0, tzinfo=UTC),
            datetime(2026, 12, 2, 17, 0, tzinfo=UTC),
        ),
        # They asked for mornings: 11:30 + 2 h is afternoon, so the next morning at 08:00.
        (
            "America/New_York",
            BestTime.morning,
            datetime(2026, 12, 2, 16, 30, tzinfo=UTC),
            datetime(2026, 12, 3, 13, 0, tzinfo=UTC),
        ),
    ],
)
def test_retries_land_inside_calling_hours_in_the_contacts_zone(
    app_ctx, zone, best_time, logged_at, retry_at
):
    contact_id, task_id = due_call(logged_at - HOUR, zone=zone, best_time=best_time)
    user = user_row()
    claim_directly(task_id, user, logged_at)

    result = log_call(task_id, user, CallOutcome.busy, duration_seconds=0, note=None, now=logged_at)
    db.session.commit()

    [retry] = open_tasks(contact_id)
    assert (retry.due_at, retry.best_time) == (retry_at, best_time)
    assert result.next_due_at == retry_at


def test_the_retry_cap_closes_the_contact_as_unreachable_with_one_email(app_ctx, config_override):
    config_override(CALL_RETRY_OFFSETS="2h,1d")
    now = datetime(2026, 12, 2, 17, 0, tzinfo=UTC)
    contact_id, task_id = due_call(now - HOUR, zone="America/New_York")
    user = user_row()
    outcomes = [CallOutcome.no_answer, CallOutcome.voicemail, CallOutcome.busy]
    for outcome in outcomes:
        claim_directly(task_id, user, now)
        log_call(task_id, user, outcome, duration_seconds=0, note=None, now=now)
        db.session.commit()
        now += 4 * 24 * HOUR
        task_id = next((task.id for task in open_tasks(contact_id)), None)

    assert task_id is None
    person = contact(contact_id)
    assert (person.stage, person.close_outcome) == (Stage.closed, CloseOutcome.unreachable)
    [email] = emails(contact_id, OutboxKind.tried_to_reach)
    assert email.status == OutboxStatus.pending
    # Closed as unreachable stops commercial email, but not the email that says so.
    assert stop_reason(email, person, None) is None
    composed = compose(email)
    assert composed.subject == "We tried to reach you"
    assert composed.to_address == db.session.get(Submission, email.submission_id).fields["email"]
    assert app_ctx.config["ORG_POSTAL_ADDRESS"] in composed.text
    assert "List-Unsubscribe" in composed.headers
    assert "/callback" in composed.html


def test_no_tried_to_reach_email_without_email_consent(app_ctx, config_override):
    config_override(CALL_RETRY_OFFSETS="2h")
    now = datetime(2026, 12, 2, 17, 0, tzinfo=UTC)
    contact_id, task_id = due_call(now - HOUR, zone="America/New_York")
    user = user_row()
    # They told staff not to email them.
    mark_do_not_contact(contact_id, ConsentChannel.email, user.id, None)
    for _ in range(2):
        claim_directly(task_id, user, now)
        result = log_call(
            task_id, user, CallOutcome.no_answer, duration_seconds=0, note=None, now=now
        )
        db.session.commit()
        now += 2 * 24 * HOUR
        task_id = next((task.id for task in open_tasks(contact_id)), None)

    assert contact(contact_id).close_outcome == CloseOutcome.unreachable
    assert emails(contact_id, OutboxKind.tried_to_reach) == []
    assert "no email consent" in result.next_step


def guide_lead_on_the_phone(app_ctx):
    """A guide lead with a phone (its nurture emails pending) taken with Next call."""
    now = utcnow()
    contact_id = make_contact(FormKind.guide, phone="+16175550123").id
    db.session.execute(
        sa.update(Contact).where(Contact.id == contact_id).values(time_zone=zone_at_midday(now))
    )
    db.session.execute(
        sa.update(CallTask).where(CallTask.contact_id == contact_id).values(due_at=now - HOUR)
    )
    db.session.commit()
    user = make_user(Role.advocate)
    staff = StaffClient(app_ctx.test_client())
    staff.sign_in(user.email)
    staff.submit("/advocate/queue", {}, form_id="next-call")
    return contact_id, staff


def test_reached_moves_the_stage_to_contacted_and_stops_the_nurture_emails(app_ctx):
    contact_id, staff = guide_lead_on_the_phone(app_ctx)

    log(staff, contact_id, CallOutcome.reached)

    assert contact(contact_id).stage == Stage.contacted
    statuses = {email.kind: email.status for email in emails(contact_id)}
    assert statuses[OutboxKind.guide_check_in] == OutboxStatus.cancelled
    assert statuses[OutboxKind.specialist_offer] == OutboxStatus.cancelled
    # The guide they asked for is not nurture.
    assert statuses[OutboxKind.guide_email] != OutboxStatus.cancelled
    assert open_tasks(contact_id) == []


def test_asked_to_call_back_is_a_conversation_contacted_and_nurture_stopped(app_ctx):
    contact_id, staff = guide_lead_on_the_phone(app_ctx)
    zone = ZoneInfo(contact(contact_id).time_zone)
    tomorrow = (utcnow() + 24 * HOUR).astimezone(zone).date()

    log(staff, contact_id, CallOutcome.call_back_at, call_back_at=f"{tomorrow}T10:30")

    assert contact(contact_id).stage == Stage.contacted
    statuses = {email.kind: email.status for email in emails(contact_id)}
    assert statuses[OutboxKind.guide_check_in] == OutboxStatus.cancelled
    assert statuses[OutboxKind.specialist_offer] == OutboxStatus.cancelled
    assert statuses[OutboxKind.guide_email] != OutboxStatus.cancelled
    [callback] = open_tasks(contact_id)
    local = callback.due_at.astimezone(zone)
    assert (callback.reason, local.date(), local.hour) == (CallReason.call_back_at, tomorrow, 10)
    assert "Stage is Contacted; 2 nurture email(s) stopped." in flashed(staff)


def test_call_back_at_books_a_call_at_that_time_in_their_zone(app_ctx):
    contact_id, _, _, staff = on_the_phone(app_ctx)
    zone = contact(contact_id).time_zone
    tomorrow = (utcnow() + 24 * HOUR).astimezone(ZoneInfo(zone)).date()

    log(staff, contact_id, CallOutcome.call_back_at, call_back_at=f"{tomorrow}T10:30")

    [callback] = open_tasks(contact_id)
    assert callback.reason == CallReason.call_back_at
    local = callback.due_at.astimezone(ZoneInfo(zone))
    assert (local.date(), local.hour, local.minute) == (tomorrow, 10, 30)
    assert "Call back" in flashed(staff)


@pytest.mark.parametrize(
    ("when", "message"),
    [("2020-01-01T10:00", "has passed"), ("tomorrow-T22:00", "We only call between")],
)
def test_call_back_at_must_be_in_the_future_and_inside_calling_hours(app_ctx, when, message):
    contact_id, task_id, user_id, staff = on_the_phone(app_ctx)
    tomorrow = (utcnow() + 24 * HOUR).date()
    when = when.replace("tomorrow-", f"{tomorrow}")

    response = log(staff, contact_id, CallOutcome.call_back_at, call_back_at=when)

    assert response.headers["Location"] == f"/contacts/{contact_id}#call"
    assert message in staff.get(f"/contacts/{contact_id}").get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(Call.id))) == 0
    [task] = open_tasks(contact_id)
    assert (task.id, task.claimed_by_user_id, task.attempts) == (task_id, user_id, 0)


def test_wrong_number_suppresses_the_phone_and_follows_up_by_email(app_ctx):
    contact_id, _, _, staff = on_the_phone(app_ctx)

    log(staff, contact_id, CallOutcome.wrong_number)

    assert contact(contact_id).phone_wrong_at is not None
    assert open_tasks(contact_id) == []
    assert len(emails(contact_id, OutboxKind.tried_to_reach)) == 1
    # A new call for this contact is never offered again.
    db.session.add(
        CallTask(
            contact_id=contact_id,
            reason=CallReason.retry,
            best_time=BestTime.asap,
            due_at=utcnow() - HOUR,
        )
    )
    db.session.commit()
    assert claim_next_call(user_row(), utcnow()) is None


def test_do_not_call_revokes_consent_and_cancels_every_open_call_at_once(app_ctx):
    contact_id, _, user_id, staff = on_the_phone(app_ctx)
    for hours in (5, 30):
        db.session.add(
            CallTask(
                contact_id=contact_id,
                reason=CallReason.retry,
                best_time=BestTime.asap,
                due_at=utcnow() + hours * HOUR,
            )
        )
    db.session.commit()

    log(staff, contact_id, CallOutcome.do_not_call)

    assert open_tasks(contact_id) == []
    revocation = db.session.scalar(sa.select(ConsentRecord).where(ConsentRecord.granted.is_(False)))
    assert (revocation.channel, revocation.recorded_by_user_id) == (
        ConsentChannel.calls_texts,
        user_id,
    )


def test_deceased_closes_the_record_and_stops_every_call_and_email(app_ctx):
    contact_id, staff = guide_lead_on_the_phone(app_ctx)

    log(staff, contact_id, CallOutcome.deceased)

    person = contact(contact_id)
    assert (person.stage, person.close_outcome) == (Stage.closed, CloseOutcome.deceased)
    assert open_tasks(contact_id) == []
    pending = [
        e for e in emails(contact_id) if e.status in (OutboxStatus.pending, OutboxStatus.dispatched)
    ]
    assert pending == []
    page = staff.get(f"/contacts/{contact_id}").get_data(as_text=True)
    assert 'id="condolence"' in page


def test_only_the_advocate_holding_the_call_may_log_it(app_ctx):
    contact_id, task_id, _, holder = on_the_phone(app_ctx)
    form = holder.form(f"/contacts/{contact_id}", form_id="call-log-form")
    other = StaffClient(app_ctx.test_client())
    other.sign_in(make_user(Role.advocate).email)

    response = other.post(
        form.action, data={"csrf_token": other.csrf_token(), "outcome": "no_answer", "minutes": "1"}
    )

    assert response.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count(Call.id))) == 0
    assert 'id="call-log-form"' not in other.get(f"/contacts/{contact_id}").get_data(as_text=True)
    with pytest.raises(CallRefused):
        log_call(task_id, user_row(), CallOutcome.busy, duration_seconds=0, note=None, now=utcnow())


def test_a_manager_may_log_any_open_call(app_ctx):
    contact_id, task_id, _, _ = on_the_phone(app_ctx)
    manager = StaffClient(app_ctx.test_client())
    manager.sign_in(make_user(Role.manager).email)

    log(manager, contact_id, CallOutcome.reached)

    assert db.session.scalar(sa.select(Call.call_task_id)) == task_id


def test_a_logged_attempt_stops_the_missed_callback_escalation(app_ctx, managers):
    now = datetime(2026, 12, 2, 17, 0, tzinfo=UTC)
    _, escalated = due_call(now - 2 * HOUR, zone="America/New_York")
    _, attempted = due_call(now - 2 * HOUR, zone="America/New_York")
    user = user_row()
    claim_directly(attempted, user, now - HOUR)
    log_call(attempted, user, CallOutcome.no_answer, duration_seconds=0, note=None, now=now - HOUR)
    db.session.commit()

    assert escalate_missed_callbacks(now) == [escalated]
    db.session.expire_all()
    task = db.session.get(CallTask, attempted)
    assert (task.attempts, task.first_attempt_at, task.escalated_at) == (1, now - HOUR, None)


def test_the_contact_page_lists_each_call_with_its_note_as_text(app_ctx):
    contact_id, _, _, staff = on_the_phone(app_ctx)

    log(staff, contact_id, CallOutcome.voicemail, note="Left <b>a message</b>", minutes="2")

    page = staff.get(f"/contacts/{contact_id}").get_data(as_text=True)
    assert "Left voicemail, 2 min" in page
    assert "Left &lt;b&gt;a message&lt;/b&gt;" in page
    assert "Call: Left voicemail (2 min)" in page
