"""`flask crm seed-demo`: staff logins and realistic leads, stored the way real submits are."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from crm.extensions import db
from crm.forms.public import PUBLIC_FORMS
from crm.models import (
    CallTask,
    ConsentRecord,
    Contact,
    OutboxMessage,
    Referral,
    Specialist,
    Submission,
    TimelineEvent,
    User,
    utcnow,
)
from crm.models.enums import (
    CallTaskStatus,
    FormKind,
    Language,
    OutboxStatus,
    Role,
    SpecialistKind,
    Specialty,
    Stage,
    TimelineKind,
)
from crm.services import demo, passwords
from crm.services.demo import seed_demo_data
from crm.services.rollups import referral_reports
from tests.conftest import empty_all_tables
from tests.report_pages import page_tables
from tests.staff import StaffClient

RESERVED_DOMAINS = ("@example.com", "@example.org", "@example.net")


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def snapshot() -> dict:
    models = (User, Contact, Submission, ConsentRecord, TimelineEvent, OutboxMessage)
    return {model.__name__: count(model) for model in models}


def test_seed_creates_staff_of_every_role_and_prints_their_logins(app_ctx):
    lines = seed_demo_data(contacts=40)

    roles = [user.role for user in db.session.scalars(sa.select(User))]
    assert roles.count(Role.advocate) >= 2
    assert roles.count(Role.manager) == roles.count(Role.admin) == 1
    assert any("advocate@example.org" in line and "password:" in line for line in lines)
    login = db.session.scalar(sa.select(User).where(User.email == "manager@example.org"))
    password = next(line for line in lines if "manager@example.org" in line).split()[-1]
    assert passwords.verify(login.password_hash, password)


def test_seed_creates_the_contacts_asked_for_with_some_coming_back(app_ctx):
    lines = seed_demo_data(contacts=40)

    assert count(Contact) == 40
    reengaged = db.session.scalar(
        sa.select(sa.func.count()).where(Submission.is_reengagement.is_(True))
    )
    assert reengaged > 0
    assert count(Submission) == 40 + reengaged
    assert (
        f"Created 40 contacts from {40 + reengaged} submissions ({reengaged} returning)"
        in (lines[-1])
    )
    came_back = db.session.scalars(
        sa.select(TimelineEvent.kind).where(TimelineEvent.kind == TimelineKind.reengaged)
    ).all()
    assert len(came_back) == reengaged
    # The three forms; the demo seeds no chats.
    assert {submission.form for submission in db.session.scalars(sa.select(Submission))} == set(
        PUBLIC_FORMS
    )


def test_every_demo_submission_has_its_consent_records(app_ctx):
    seed_demo_data(contacts=40)

    without_consent = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Submission)
        .where(~sa.exists().where(ConsentRecord.submission_id == Submission.id))
    )
    assert without_consent == 0
    callbacks = sa.select(Submission.id).where(Submission.form == FormKind.callback)
    refused_calls = db.session.scalar(
        sa.select(sa.func.count()).where(
            ConsentRecord.submission_id.in_(callbacks),
            ConsentRecord.channel == "calls_texts",
            ConsentRecord.granted.is_(False),
        )
    )
    assert refused_calls == 0


def test_demo_leads_are_spread_over_the_last_two_months(app_ctx):
    seed_demo_data(contacts=40)

    times = db.session.scalars(sa.select(Submission.created_at)).all()
    now = utcnow()
    assert min(times) < now - timedelta(days=20)
    assert max(times) <= now
    for contact in db.session.scalars(sa.select(Contact)):
        assert contact.created_at <= contact.last_submitted_at <= now


def test_only_the_newest_demo_emails_are_left_for_the_worker(app_ctx):
    seed_demo_data(contacts=40)

    statuses = db.session.scalars(sa.select(OutboxMessage.status)).all()
    pending_submissions = db.session.scalars(
        sa.select(OutboxMessage.submission_id)
        .where(OutboxMessage.status == OutboxStatus.pending)
        .distinct()
    ).all()
    assert 0 < len(pending_submissions) <= 5
    assert statuses.count(OutboxStatus.cancelled) > 20
    open_calls = db.session.scalars(
        sa.select(CallTask.id).where(CallTask.status == CallTaskStatus.open)
    ).all()
    assert len(open_calls) <= 5


def test_running_the_seed_twice_changes_nothing(app_ctx):
    seed_demo_data(contacts=40)
    before = snapshot()

    lines = seed_demo_data(contacts=40)

    assert snapshot() == before
    assert "already there" in lines[0]
    assert any("admin@example.org" in line for line in lines)


def test_a_seed_that_stopped_half_way_is_completed_without_duplicates(app_ctx, monkeypatch):
    real_submit, calls = demo.submit_lead, []

    def submit_then_stop(*args, **kwargs):
        calls.append(1)
        if len(calls) > 20:
            raise KeyboardInterrupt  # the operator pressed Ctrl-C half way
        return real_submit(*args, **kwargs)

    monkeypatch.setattr(demo, "submit_lead", submit_then_stop)
    with pytest.raises(KeyboardInterrupt):
        seed_demo_data(contacts=40)
    monkeypatch.setattr(demo, "submit_lead", real_submit)
    assert 0 < count(Contact) < 40

    seed_demo_data(contacts=40)

    assert count(Contact) == 40
    assert count(User) == 5


def test_every_demo_email_uses_a_reserved_example_domain(app_ctx):
    seed_demo_data(contacts=40)

    emails = [
        *db.session.scalars(sa.select(Contact.email).where(Contact.email.is_not(None))),
        *db.session.scalars(sa.select(User.email)),
    ]
    assert emails
    assert all(email.endswith(RESERVED_DOMAINS) for email in emails)


def test_the_same_seed_gives_the_same_people(app_ctx):
    seed_demo_data(contacts=40, seed=3)
    first = sorted(db.session.scalars(sa.select(Contact.email)).all(), key=str)
    empty_all_tables()

    seed_demo_data(contacts=40, seed=3)

    assert sorted(db.session.scalars(sa.select(Contact.email)).all(), key=str) == first


def test_demo_data_refuses_a_production_app(app_ctx, config_override):
    config_override(CRM_ENV="production")

    with pytest.raises(RuntimeError, match="never load it in production"):
        seed_demo_data(contacts=5)

    assert count(Contact) == count(User) == 0


def test_seed_shows_advocates_work_on_older_leads_through_the_stage_service(app_ctx):
    from crm.models import Note, StageChange

    seed_demo_data(contacts=60)

    changes = db.session.scalars(sa.select(StageChange)).all()
    assert changes and all(change.actor_user_id and change.reason for change in changes)
    assert {change.to_stage for change in changes} >= {Stage.attempting, Stage.contacted}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Note)) > 0
    assert all(db.session.get(Contact, change.contact_id).stage != Stage.new for change in changes)


def test_seed_fills_the_specialist_directory_once_with_fictional_entries(app_ctx):
    lines = seed_demo_data(contacts=0)
    seeded = count(Specialist)
    demo.seed_demo_specialists()  # a second run adds nothing

    directory = db.session.scalars(sa.select(Specialist)).all()
    assert len(directory) == seeded >= 20
    assert f"Added {len(directory)} demo specialists and cancer centres." in lines
    doctors = [s for s in directory if s.kind == SpecialistKind.doctor]
    assert doctors and all(s.name.startswith("Dr. Imaginary ") for s in doctors)
    assert all("555-01" in s.display_phone for s in directory)
    assert len({s.state for s in directory}) >= 15
    assert {code for s in directory for code in s.specialties} == {sp.value for sp in Specialty}
    assert any(s.accepts_va for s in directory) and not all(s.accepts_va for s in directory)


def test_the_demo_has_spanish_speakers_and_an_advocate_with_the_spanish_skill(app_ctx):
    seed_demo_data(contacts=60)

    spanish = db.session.scalars(
        sa.select(Contact.first_name).where(Contact.preferred_language == Language.es)
    ).all()
    assert spanish and set(spanish) <= demo.SPANISH_SPEAKERS
    luis = db.session.scalar(sa.select(User).where(User.email == "advocate2@example.org"))
    assert "spanish" in luis.skills and "es" in luis.languages


def test_the_demo_history_is_in_the_report_roll_ups_at_once(app_ctx):
    from crm.models import FunnelDaily

    seed_demo_data(contacts=60)

    new = db.session.scalar(
        sa.select(sa.func.sum(FunnelDaily.contacts)).where(FunnelDaily.stage == "new")
    )
    assert new == count(Contact)


def test_the_demo_has_referrals_and_guides_for_their_report(app_ctx):
    seed_demo_data(contacts=120)

    assert count(Referral) > 0
    start, end = utcnow().date() - timedelta(days=70), utcnow().date() + timedelta(days=1)
    counts = referral_reports.counts(start, end)
    assert counts["specialist"]["sent"] > 0 and counts["va_claims_handoff"]["sent"] > 0
    assert 0 < counts["guide"]["opened"] < counts["guide"]["emailed"]
    assert counts["guide"]["shipped"] > 0
    staff = StaffClient(app_ctx.test_client())
    staff.sign_in("manager@example.org", password=demo._password(Role.manager))
    page = staff.get(f"/manager/referrals-and-guides?start={start}&end={end}")
    tables = page_tables(page.get_data(as_text=True))
    sent = {row[0]: int(row[1]) for row in tables["referrals"][1:]}
    assert sent["Specialist matches"] > 0 and sent["VA claims hand-offs"] > 0
    assert int(tables["guides"][1][1]) > 0


def test_the_demo_advocates_calls_fill_the_speed_and_advocates_reports(app_ctx):
    from crm.models import Call, StageChange
    from crm.models.enums import CallOutcome
    from crm.services.rollups import reports

    seed_demo_data(contacts=80)

    # Every lead worked to contacted had a conversation; every one attempted, a first call.
    calls = db.session.scalars(sa.select(Call)).all()
    reached = {call.contact_id for call in calls if call.outcome == CallOutcome.reached}
    contacted = set(
        db.session.scalars(
            sa.select(StageChange.contact_id).where(StageChange.to_stage == Stage.contacted)
        )
    )
    assert reached == contacted
    assert all(call.created_at <= utcnow() for call in calls)
    start, end = utcnow().date() - timedelta(days=70), utcnow().date() + timedelta(days=1)
    speed = reports.speed_to_lead(start, end, 60)
    assert speed.attempted == len({call.contact_id for call in calls}) > 0
    assert speed.median is not None and speed.median.low < 240  # first calls within 4 hours
    logged = reports.advocate_calls(start, end)
    assert sum(row.calls for row in logged) == len(calls)
    assert sum(row.reached for row in logged) == len(reached)


def test_seed_shows_chats_ended_on_contacts_timelines_one_waiting_and_canned_replies(app_ctx):
    from crm.models import CannedReply, Chat
    from crm.models.enums import ChatStatus
    from crm.services import chat

    lines = seed_demo_data(contacts=40)

    chats = db.session.scalars(sa.select(Chat).order_by(Chat.id)).all()
    ended = [c for c in chats if c.status == ChatStatus.closed]
    assert len(ended) == 2 and all(c.contact_id and c.outcome for c in ended)
    (waiting,) = chat.waiting_chats()
    assert waiting.visitor_name == "Linda"
    on_timelines = db.session.scalars(
        sa.select(TimelineEvent.contact_id).where(TimelineEvent.kind == TimelineKind.chat_closed)
    ).all()
    assert sorted(on_timelines) == sorted(c.contact_id for c in ended)
    transcript = chat.transcripts({ended[0].id})[ended[0].id]
    assert "Visitor: Hi, my dad was just diagnosed" in transcript
    assert count(CannedReply) >= 5
    assert any("canned chat replies" in line for line in lines)

    seed_demo_data(contacts=40)  # a second run adds no chats
    assert len(db.session.scalars(sa.select(Chat)).all()) == len(chats)
