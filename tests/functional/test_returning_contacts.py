"""A returning contact: what they left blank is completed, what we knew is kept."""

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from crm.extensions import db
from crm.models import Contact, Submission, TimelineEvent
from crm.models.enums import Diagnosis, FormKind, Relationship, TimelineKind, VeteranBranch
from crm.services import capture
from crm.services.leads import LeadInput, RequestMeta

META = RequestMeta("203.0.113.9", "pytest", "https://www.example-advocacy.org/guide")
EMAIL = "maria@example.com"


def send(**answers) -> capture.CaptureResult:
    lead = LeadInput(
        form=FormKind.guide, first_name="Maria", last_name="Lopez", email=EMAIL, phone_e164=None
    )
    for name, value in answers.items():
        setattr(lead, name, value)
    return capture.submit_lead(lead, META, None)


def contact() -> Contact:
    db.session.expire_all()
    (only,) = db.session.scalars(sa.select(Contact)).all()
    return only


def test_a_returning_contact_gets_the_answers_they_left_blank(app_ctx):
    send(diagnosis=Diagnosis.not_sure)
    send(
        zip_code="98101",
        state="WA",
        time_zone="America/Los_Angeles",
        relationship=Relationship.caregiver,
        diagnosis=Diagnosis.pleural,
        is_veteran=True,
        veteran_branch=VeteranBranch.navy,
    )

    maria = contact()
    assert (maria.zip_code, maria.state, maria.time_zone) == ("98101", "WA", "America/Los_Angeles")
    assert maria.relationship_to_patient == Relationship.caregiver
    assert maria.diagnosis == Diagnosis.pleural  # "not sure yet" was not an answer to keep
    assert (maria.is_veteran, maria.veteran_branch) == (True, VeteranBranch.navy)
    assert maria.submission_count == 2


def test_a_returning_contact_keeps_what_we_knew_and_the_submission_keeps_what_was_sent(app_ctx):
    known = {
        "zip_code": "98101",
        "state": "WA",
        "time_zone": "America/Los_Angeles",
        "relationship": Relationship.caregiver,
        "diagnosis": Diagnosis.pleural,
        "is_veteran": True,
        "veteran_branch": VeteranBranch.navy,
    }
    send(**known)
    send(
        zip_code="60601",
        state="IL",
        time_zone="America/Chicago",
        relationship=Relationship.patient,
        diagnosis=Diagnosis.peritoneal,
        is_veteran=True,
        veteran_branch=VeteranBranch.army,
    )
    send()  # nothing but a name and the email: nothing is blanked

    maria = contact()
    assert (maria.zip_code, maria.state, maria.time_zone) == ("98101", "WA", "America/Los_Angeles")
    assert maria.relationship_to_patient == Relationship.caregiver
    assert maria.diagnosis == Diagnosis.pleural
    assert (maria.is_veteran, maria.veteran_branch) == (True, VeteranBranch.navy)
    assert maria.submission_count == 3
    answers = db.session.scalars(sa.select(Submission.fields).order_by(Submission.id))
    assert [fields.get("zip") for fields in answers] == ["98101", "60601", None]


def test_the_zone_of_the_contacts_own_zip_replaces_one_guessed_from_the_phone(app_ctx):
    send(time_zone="America/Chicago")  # no ZIP: the zone came from the area code
    send(zip_code="10001", state="NY", time_zone="America/New_York")
    assert (contact().zip_code, contact().time_zone) == ("10001", "America/New_York")

    send(zip_code="60601", state="IL", time_zone="America/Chicago")  # another ZIP: no change
    assert (contact().zip_code, contact().time_zone) == ("10001", "America/New_York")


def test_a_returning_contact_records_when_they_came_back_and_a_reengaged_event(app_ctx):
    first_time = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
    first = capture.submit_lead(
        LeadInput(FormKind.guide, "Maria", "Lopez", EMAIL, None), META, None, first_time
    )
    again = capture.submit_lead(
        LeadInput(FormKind.callback, "Maria", "Lopez", EMAIL, None),
        META,
        None,
        first_time + timedelta(days=3),
    )

    assert (first.is_new_contact, again.is_new_contact) == (True, False)
    assert first.contact_id == again.contact_id
    maria = contact()
    assert (maria.created_at, maria.last_submitted_at) == (
        first_time,
        first_time + timedelta(days=3),
    )
    events = db.session.execute(
        sa.select(TimelineEvent.kind, TimelineEvent.detail).where(
            TimelineEvent.kind.in_([TimelineKind.created, TimelineKind.reengaged])
        )
    ).all()
    assert dict(events) == {
        TimelineKind.created: {"form": "guide"},
        TimelineKind.reengaged: {"form": "callback"},
    }
