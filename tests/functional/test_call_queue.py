"""The call queue: who gets which call when they press Next call, and what the page shows."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from crm.extensions import db
from crm.models import AuditEvent, CallTask, ConsentRecord, Contact, utcnow
from crm.models.enums import (
    AuditAction,
    BestTime,
    CallReason,
    CloseOutcome,
    ConsentChannel,
    Diagnosis,
    FormKind,
    Language,
    Role,
    Stage,
)
from crm.services.escalation import escalate_missed_callbacks
from crm.services.queue import claim_next_call, next_callable_at, queue_overview
from tests.calls import due_call, zone_at_midday
from tests.factories import make_contact, make_user
from tests.staff import StaffClient

# A Wednesday, noon in New York: every advocate with the default working hours is on shift.
NOW = datetime(2026, 12, 2, 17, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def advocate(**fields):
    user = make_user(Role.advocate, **fields)
    user_id = user.id
    return db.session.get(type(user), user_id)


def claimed_task(user, now=NOW) -> int | None:
    claim = claim_next_call(user, now)
    db.session.commit()
    return claim.call_task_id if claim else None


def test_bands_come_in_order_overdue_callbacks_new_callbacks_new_leads_retries(app_ctx):
    retry = due_call(NOW - 5 * HOUR, reason=CallReason.retry)[1]
    new_lead = due_call(NOW - 4 * HOUR, reason=CallReason.new_lead)[1]
    new_callback = due_call(NOW - timedelta(minutes=2))[1]
    overdue_callback = due_call(NOW - 2 * HOUR)[1]

    taken = [claimed_task(advocate()) for _ in range(5)]

    assert taken == [overdue_callback, new_callback, new_lead, retry, None]


def test_oldest_first_within_a_band(app_ctx):
    newer = due_call(NOW - HOUR, reason=CallReason.new_lead)[1]
    older = due_call(NOW - 3 * HOUR, reason=CallReason.new_lead)[1]

    assert [claimed_task(advocate()), claimed_task(advocate())] == [older, newer]


def test_a_call_not_yet_due_is_not_offered(app_ctx):
    due_call(NOW + timedelta(minutes=1))

    assert claimed_task(advocate()) is None


@pytest.mark.parametrize(
    ("zone", "now", "callable"),
    [
        ("Pacific/Honolulu", datetime(2026, 12, 2, 17, 59, tzinfo=UTC), False),  # 07:59 HST
        ("Pacific/Honolulu", datetime(2026, 12, 2, 18, 0, tzinfo=UTC), True),  # 08:00 HST
        ("America/Anchorage", datetime(2026, 12, 2, 17, 0, tzinfo=UTC), True),  # 08:00 AKST
        ("America/Anchorage", datetime(2026, 12, 3, 5, 59, tzinfo=UTC), True),  # 20:59 AKST
        ("America/Anchorage", datetime(2026, 12, 3, 6, 0, tzinfo=UTC), False),  # 21:00 AKST
        ("America/Puerto_Rico", datetime(2026, 7, 1, 12, 0, tzinfo=UTC), True),  # 08:00 AST
        ("America/Puerto_Rico", datetime(2026, 7, 2, 1, 0, tzinfo=UTC), False),  # 21:00 AST
        ("Pacific/Guam", datetime(2026, 12, 2, 21, 59, tzinfo=UTC), False),  # 07:59 ChST
        ("Pacific/Guam", datetime(2026, 12, 2, 22, 0, tzinfo=UTC), True),  # 08:00 ChST
        # The mornings daylight saving time starts and ends: 08:30 EDT, then 07:30 EST.
        ("America/New_York", datetime(2026, 3, 8, 12, 30, tzinfo=UTC), True),
        ("America/New_York", datetime(2026, 11, 1, 12, 30, tzinfo=UTC), False),
    ],
)
def test_calls_are_offered_only_inside_calling_hours_in_the_contacts_zone(
    app_ctx, zone, now, callable
):
    task_id = due_call(now - 12 * HOUR, zone=zone)[1]

    assert claimed_task(advocate(), now) == (task_id if callable else None)


@pytest.mark.parametrize(
    ("best_time", "new_york_time", "callable"),
    [
        (BestTime.morning, (10, 0), True),
        (BestTime.morning, (12, 0), False),
        (BestTime.afternoon, (12, 0), True),
        (BestTime.afternoon, (17, 0), False),
        (BestTime.evening, (16, 59), False),
        (BestTime.evening, (20, 59), True),
    ],
)
def test_a_chosen_best_time_slot_is_respected(app_ctx, best_time, new_york_time, callable):
    hour, minute = new_york_time
    now = datetime(2026, 12, 2, 5, tzinfo=UTC) + timedelta(hours=hour, minutes=minute)  # EST
    task_id = due_call(now - 24 * HOUR, best_time=best_time)[1]

    assert claimed_task(advocate(), now) == (task_id if callable else None)


def _refused_calls(contact_id, staff_id):
    db.session.add(
        ConsentRecord(
            contact_id=contact_id,
            channel=ConsentChannel.calls_texts,
            granted=False,
            text="The person told staff not to call or text them.",
            text_version="test",
            recorded_at=NOW - HOUR,
            recorded_by_user_id=staff_id,
        )
    )


def _merged(contact_id, staff_id):
    survivor = make_contact(FormKind.callback).id
    db.session.execute(
        sa.update(Contact).where(Contact.id == contact_id).values(merged_into_id=survivor)
    )
    # The survivor's own call is not the one under test.
    db.session.execute(
        sa.update(CallTask).where(CallTask.contact_id == survivor).values(due_at=NOW + 24 * HOUR)
    )


def _closed(contact_id, staff_id):
    db.session.execute(
        sa.update(Contact)
        .where(Contact.id == contact_id)
        .values(stage=Stage.closed, close_outcome=CloseOutcome.not_interested)
    )


@pytest.mark.parametrize(
    "exclude", [_refused_calls, _merged, _closed], ids=["do-not-call", "merged", "closed"]
)
def test_contacts_who_may_not_be_called_never_appear(app_ctx, exclude):
    contact_id, _ = due_call(NOW - HOUR)
    user = advocate()
    exclude(contact_id, user.id)
    db.session.commit()

    assert claimed_task(user) is None


def test_a_lead_who_did_not_agree_to_calls_is_never_offered(app_ctx):
    # A guide lead who left no phone and so said no to calls; a number is known since.
    contact_id = make_contact(FormKind.guide, phone=None).id
    db.session.execute(
        sa.update(Contact).where(Contact.id == contact_id).values(phone_e164="+16175550199")
    )
    db.session.add(
        CallTask(
            contact_id=contact_id,
            reason=CallReason.retry,
            best_time=BestTime.asap,
            due_at=NOW - HOUR,
        )
    )
    db.session.commit()

    assert claimed_task(advocate()) is None


@pytest.mark.parametrize(
    ("skill", "needs"),
    [("va_benefits", {"is_veteran": True}), ("peritoneal", {"diagnosis": Diagnosis.peritoneal})],
)
def test_a_skilled_advocate_on_shift_gets_the_contacts_who_need_the_skill(app_ctx, skill, needs):
    needing = due_call(NOW - HOUR, reason=CallReason.retry, **needs)[1]
    other = due_call(NOW - 3 * HOUR, reason=CallReason.retry)[1]
    anyone, skilled = advocate(), advocate(skills=[skill])

    # The unskilled advocate leaves the contact to their skilled colleague on shift...
    assert claimed_task(anyone) == other
    assert claimed_task(skilled) == needing


def test_a_contact_who_gave_no_diagnosis_is_not_held_back_for_a_skilled_colleague(app_ctx):
    unknown = due_call(NOW - HOUR, reason=CallReason.retry, diagnosis=None)[1]
    advocate(skills=["peritoneal"])  # on shift

    assert claimed_task(advocate()) == unknown


def test_a_skilled_advocate_gets_matching_contacts_before_older_ones(app_ctx):
    veteran = due_call(NOW - HOUR, reason=CallReason.retry, is_veteran=True)[1]
    due_call(NOW - 3 * HOUR, reason=CallReason.retry)

    assert claimed_task(advocate(skills=["va_benefits"])) == veteran


def test_with_no_skilled_advocate_on_shift_anyone_takes_the_contact(app_ctx):
    veteran = due_call(NOW - 3 * HOUR, reason=CallReason.retry, is_veteran=True)[1]
    due_call(NOW - HOUR, reason=CallReason.retry)
    advocate(skills=["va_benefits"], working_hours="06:00-07:00")  # off shift at noon
    make_user(Role.advocate, skills=["va_benefits"]).active = False  # left the team
    db.session.commit()

    assert claimed_task(advocate()) == veteran


def test_an_advocate_who_holds_a_call_gets_it_back(app_ctx):
    first = due_call(NOW - 2 * HOUR)[1]
    second = due_call(NOW - HOUR)[1]
    user, colleague = advocate(), advocate()

    taken = claim_next_call(user, NOW)
    again = claim_next_call(user, NOW + timedelta(minutes=5))
    db.session.commit()

    assert (taken.call_task_id, taken.held_already) == (first, False)
    assert (again.call_task_id, again.held_already) == (first, True)
    assert again.lease_expires_at == NOW + timedelta(minutes=20)
    assert claimed_task(colleague) == second


def test_an_expired_lease_returns_the_call_to_the_queue(app_ctx, config_override):
    config_override(CALL_LEASE_MINUTES=10)
    task_id = due_call(NOW - HOUR)[1]
    user, colleague = advocate(), advocate()
    assert claimed_task(user) == task_id
    assert claimed_task(colleague, NOW + timedelta(minutes=9)) is None

    db.session.execute(
        sa.update(CallTask).where(CallTask.id == task_id).values(lease_expires_at=NOW - HOUR)
    )
    db.session.commit()

    assert claimed_task(colleague) == task_id
    assert db.session.get(CallTask, task_id).claimed_by_user_id == colleague.id


def test_nothing_callable_says_when_the_next_call_can_be_made(app_ctx):
    # 07:00 in Honolulu: callable at 08:00 there, 18:00 UTC.
    due_call(NOW - HOUR, zone="Pacific/Honolulu")
    user = advocate()

    assert claim_next_call(user, NOW) is None
    assert next_callable_at(user, NOW) == datetime(2026, 12, 2, 18, 0, tzinfo=UTC)


def test_a_guide_lead_who_agreed_to_calls_becomes_a_new_lead_call(app_ctx):
    contact_id = make_contact(FormKind.guide, phone="+16175550142").id
    make_contact(FormKind.guide, phone="+16175550142", email=None, first_name="Maria")

    tasks = db.session.execute(
        sa.select(CallTask.reason, CallTask.best_time).where(CallTask.contact_id == contact_id)
    ).all()
    assert tasks == [(CallReason.new_lead, BestTime.asap)]


def test_only_requested_callbacks_are_escalated_for_missing_the_response_target(app_ctx):
    callback = due_call(NOW - 2 * HOUR)[1]
    due_call(NOW - 2 * HOUR, reason=CallReason.new_lead)

    assert escalate_missed_callbacks(NOW) == [callback]


def test_a_guide_lead_without_a_phone_gets_no_call(app_ctx):
    make_contact(FormKind.guide, phone=None)

    assert db.session.scalar(sa.select(sa.func.count()).select_from(CallTask)) == 0


def staff_for(user_email, app_ctx):
    staff = StaffClient(app_ctx.test_client())
    staff.sign_in(user_email)
    return staff


def test_the_queue_page_counts_due_calls_per_band_and_lists_them(app_ctx):
    now = utcnow()
    zone = zone_at_midday(now)
    due_call(now - 2 * HOUR, zone=zone, first_name="Olga")
    due_call(now - 3 * HOUR, reason=CallReason.new_lead, zone=zone, first_name="Nadia")
    due_call(now + HOUR, zone=zone)  # not due yet
    staff = staff_for(make_user(Role.advocate).email, app_ctx)

    html = staff.get("/advocate/queue").get_data(as_text=True)

    assert '<dd data-band="overdue">1</dd>' in html
    assert '<dd data-band="new_lead">1</dd>' in html
    assert '<dd data-band="callback">0</dd>' in html
    assert html.index("Olga") < html.index("Nadia")


def test_band_counts_stop_at_the_cap(app_ctx, config_override):
    config_override(QUEUE_COUNT_CAP=2)
    now = utcnow()
    zone = zone_at_midday(now)
    for hours in (2, 3, 4):
        due_call(now - hours * HOUR, zone=zone)
    due_call(now - 2 * HOUR, reason=CallReason.retry, zone=zone)
    staff = staff_for(make_user(Role.advocate).email, app_ctx)

    html = staff.get("/advocate/queue").get_data(as_text=True)

    assert '<dd data-band="overdue">2+</dd>' in html
    assert '<dd data-band="retry">1</dd>' in html


def test_band_counts_describe_the_calls_this_advocate_is_shown(app_ctx):
    due_call(NOW - 2 * HOUR, first_name="Olga")
    refused, _ = due_call(NOW - 3 * HOUR, first_name="Rhoda")
    due_call(NOW - 4 * HOUR, first_name="Victor", is_veteran=True)
    user = advocate()
    _refused_calls(refused, user.id)
    advocate(skills=["va_benefits"])  # on shift at noon on a Wednesday
    db.session.commit()

    overview = queue_overview(user, NOW)

    # Rhoda said no to calls; Victor waits for the VA-benefits colleague on shift.
    assert overview.counts == {"overdue": 1, "callback": 0, "new_lead": 0, "retry": 0}
    assert [row.name.split()[0] for row in overview.rows] == ["Olga"]


def test_the_queue_page_marks_who_asked_to_be_called_in_spanish(app_ctx):
    now = utcnow()
    zone = zone_at_midday(now)
    due_call(now - 2 * HOUR, zone=zone, first_name="Lucía", preferred_language=Language.es)
    due_call(now - 3 * HOUR, zone=zone, first_name="Edna")
    staff = staff_for(make_user(Role.advocate).email, app_ctx)

    html = staff.get("/advocate/queue").get_data(as_text=True)

    rows = html.split("<tr>")
    [lucia] = [row for row in rows if "Lucía" in row]
    [edna] = [row for row in rows if "Edna" in row]
    assert '</a> <span class="badge" lang="es">Español</span>' in lucia
    assert "badge" not in edna


def test_the_queue_page_shows_what_comes_due_next(app_ctx):
    now = utcnow()
    zone = zone_at_midday(now)
    later = now + 2 * HOUR
    due_call(later, zone=zone, first_name="Ursula", best_time=BestTime.asap)
    staff = staff_for(make_user(Role.advocate).email, app_ctx)

    html = staff.get("/advocate/queue").get_data(as_text=True)

    coming_up = html[html.index("Coming up") :]
    assert "Ursula" in coming_up
    assert later.strftime("%Y-%m-%d %H:%M") in coming_up


def test_the_queue_pages_by_a_cursor(app_ctx, config_override):
    config_override(STAFF_PAGE_SIZE=2)
    now = utcnow()
    names = ["Xavi", "Yuri", "Zeno"]
    for minutes, name in enumerate(names):
        due_call(now - timedelta(hours=3) + timedelta(minutes=minutes), first_name=name)
    staff = staff_for(make_user(Role.advocate).email, app_ctx)

    first = staff.get("/advocate/queue").get_data(as_text=True)
    cursor = first.split('href="/advocate/queue?after=')[1].split('"')[0].replace("&amp;", "&")
    second = staff.get(f"/advocate/queue?after={cursor}").get_data(as_text=True)

    assert "Xavi" in first and "Yuri" in first and "Zeno" not in first
    assert "Zeno" in second and "Xavi" not in second and 'rel="next"' not in second


def test_next_call_opens_the_contact_and_is_audited(app_ctx):
    now = utcnow()
    contact_id, task_id = due_call(now - HOUR, zone=zone_at_midday(now))
    user = make_user(Role.advocate)
    user_id, email = user.id, user.email
    staff = staff_for(email, app_ctx)

    response = staff.submit("/advocate/queue", {}, form_id="next-call")

    assert response.status_code == 302
    assert response.headers["Location"] == f"/contacts/{contact_id}#call"
    db.session.expire_all()
    assert db.session.get(CallTask, task_id).claimed_by_user_id == user_id
    audit = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == AuditAction.call_claimed)
    )
    assert (audit.actor_user_id, audit.contact_id) == (user_id, contact_id)
    page = staff.get(response.headers["Location"]).get_data(as_text=True)
    assert "Your next call." in page


def test_next_call_with_nothing_due_says_so(app_ctx):
    staff = staff_for(make_user(Role.advocate).email, app_ctx)

    response = staff.submit("/advocate/queue", {}, form_id="next-call", follow_redirects=True)

    assert "Nothing is due right now." in response.get_data(as_text=True)


def test_next_call_needs_the_csrf_token(app_ctx):
    due_call(utcnow() - HOUR)
    staff = staff_for(make_user(Role.advocate).email, app_ctx)

    assert staff.post("/advocate/queue/next", data={}).status_code == 400
    assert db.session.scalar(sa.select(CallTask.claimed_by_user_id)) is None


@pytest.mark.parametrize("role", [Role.advocate, Role.manager])
def test_advocates_and_managers_land_on_the_queue(app_ctx, role):
    staff = StaffClient(app_ctx.test_client())

    response = staff.sign_in(make_user(role).email)

    assert response.headers["Location"].endswith("/advocate/queue")


def test_admins_may_not_work_the_queue(app_ctx):
    staff = staff_for(make_user(Role.admin).email, app_ctx)

    assert staff.get("/advocate/queue").status_code == 403


def _copies(task_id: int) -> tuple:
    db.session.expire_all()
    task = db.session.get(CallTask, task_id)
    return task.time_zone, task.needs_va_benefits, task.needs_peritoneal


def test_a_call_task_keeps_copies_of_its_contacts_routing_facts(app_ctx):
    contact_id, task_id = due_call(NOW - HOUR, zone="Pacific/Honolulu", is_veteran=True)
    assert _copies(task_id) == ("Pacific/Honolulu", True, False)

    # Capture and staff edits change contacts with Core statements: the trigger follows them.
    db.session.execute(
        sa.update(Contact)
        .where(Contact.id == contact_id)
        .values(time_zone="America/Anchorage", diagnosis=Diagnosis.peritoneal)
    )
    db.session.commit()
    assert _copies(task_id) == ("America/Anchorage", True, True)

    # A new task for the same contact starts with the contact's facts.
    db.session.add(
        CallTask(
            contact_id=contact_id, reason=CallReason.retry, best_time=BestTime.asap, due_at=NOW
        )
    )
    db.session.commit()
    newest = db.session.scalar(
        sa.select(CallTask.id).where(CallTask.contact_id == contact_id).order_by(CallTask.id.desc())
    )
    assert _copies(newest) == ("America/Anchorage", True, True)


def test_a_task_moved_to_another_contact_takes_that_contacts_facts(app_ctx):
    _, task_id = due_call(NOW - HOUR, zone="America/Chicago")
    other_id, _ = due_call(NOW - HOUR, zone="America/Puerto_Rico", diagnosis=Diagnosis.peritoneal)

    moved = sa.update(CallTask).where(CallTask.id == task_id).values(contact_id=other_id)
    db.session.execute(moved)
    db.session.commit()

    assert _copies(task_id) == ("America/Puerto_Rico", False, True)
