"""Privacy requests: a person's data exported whole, erased for good, and retention."""

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from crm.extensions import db
from crm.models import (
    AuditEvent,
    Call,
    CallTask,
    ConsentRecord,
    Contact,
    Note,
    OutboxMessage,
    Submission,
    utcnow,
)
from crm.models.enums import AuditAction, CallOutcome, CallTaskStatus, OutboxStatus, Role
from crm.services import notes, privacy
from tests.factories import make_user
from tests.forms import CALLBACK
from tests.staff import StaffClient

MESSAGE = "My husband was exposed at the shipyard in 1971"
EMAIL = "james.obrien@example.com"


@pytest.fixture
def james(forms, app_ctx) -> Contact:
    """A callback request with an email, a note and a logged call with a note."""
    assert (
        forms.submit("/callback", {**CALLBACK, "email": EMAIL, "message": MESSAGE}).status_code
        == 303
    )
    contact = db.session.scalar(sa.select(Contact))
    advocate = make_user(Role.advocate)
    notes.add_note(contact.id, advocate.id, "Prefers his daughter on the line")
    db.session.add(
        Call(
            contact_id=contact.id,
            user_id=advocate.id,
            outcome=CallOutcome.no_answer,
            note="Left no message: wife answers",
        )
    )
    db.session.commit()
    return contact


def run(app, *args, input=None):
    return app.test_cli_runner().invoke(args=["crm", "privacy", *args], input=input)


def test_an_export_holds_everything_about_the_person(app, james):
    result = run(app, "export", "--email", "James.OBrien@Example.com")

    assert result.exit_code == 0, result.output
    held = json.loads(result.output)
    (contact,) = held["contacts"]
    assert (contact["first_name"], contact["email"]) == ("James", EMAIL)
    assert held["submissions"][0]["fields"]["message"] == MESSAGE
    assert [note["body"] for note in held["notes"]] == ["Prefers his daughter on the line"]
    assert held["calls"][0]["note"] == "Left no message: wife answers"
    assert {record["channel"] for record in held["consent_records"]} >= {"calls_texts"}
    assert held["call_tasks"] and held["timeline_events"]
    assert "funnel_daily" not in held and "rollup_contacts" not in held
    exported = db.session.scalars(
        sa.select(AuditEvent.contact_id).where(AuditEvent.action == AuditAction.privacy_exported)
    ).all()
    assert exported == [james.id]


def test_an_unknown_or_malformed_email_is_said_plainly(app, app_ctx):
    for email in ("nobody@example.com", "not-an-email"):
        result = run(app, "export", "--email", email)
        assert result.exit_code == 1
        assert "Error:" in result.output and "Traceback" not in result.output


def test_erasure_removes_identity_and_words_and_keeps_the_counts(app, james):
    consents_before = db.session.scalar(sa.select(sa.func.count()).select_from(ConsentRecord))

    result = run(app, "erase", "--email", EMAIL, "--yes")

    assert result.exit_code == 0, result.output
    db.session.expire_all()
    contact = db.session.get(Contact, james.id)
    assert (contact.first_name, contact.last_name) == ("Erased", "Erased")
    assert contact.email == f"erased-{james.id}@erased.invalid"
    assert contact.phone_e164 is None and contact.zip_code is None
    assert contact.erased_at is not None
    assert contact.stage is not None  # the funnel still counts them
    assert db.session.scalar(sa.select(Submission.fields)) == {}
    assert db.session.scalar(sa.select(Note.body)) == "[erased]"
    assert db.session.scalar(sa.select(Call.note)) is None
    assert set(db.session.scalars(sa.select(CallTask.status))) == {CallTaskStatus.cancelled}
    unsent = db.session.scalars(
        sa.select(OutboxMessage.status).where(
            OutboxMessage.status.in_([OutboxStatus.pending, OutboxStatus.dispatched])
        )
    ).all()
    assert unsent == []
    # The evidence of what they agreed to stays, as does that an erasure happened.
    consents_after = db.session.scalar(sa.select(sa.func.count()).select_from(ConsentRecord))
    assert consents_after == consents_before
    erased = db.session.scalars(
        sa.select(AuditEvent.contact_id).where(AuditEvent.action == AuditAction.contact_erased)
    ).all()
    assert erased == [james.id]
    # The person can no longer be found by what identified them.
    assert "Error:" in run(app, "export", "--email", EMAIL).output


def test_erasure_asks_first_without_yes(app, james):
    result = run(app, "erase", "--email", EMAIL, input="n\n")

    assert result.exit_code == 1
    db.session.expire_all()
    assert db.session.get(Contact, james.id).first_name == "James"


def test_contacts_never_reached_are_anonymised_after_the_retention_period(
    app, forms, app_ctx, config_override
):
    config_override(NEVER_REACHED_RETENTION_DAYS=365)
    for n in range(3):
        assert (
            forms.submit("/callback", {**CALLBACK, "phone": f"312-555-01{n}7"}).status_code == 303
        )
    old, reached, recent = db.session.scalars(sa.select(Contact).order_by(Contact.id)).all()
    long_ago = utcnow() - timedelta(days=400)
    old.created_at = reached.created_at = long_ago
    db.session.add(
        Call(
            contact_id=reached.id, user_id=make_user(Role.advocate).id, outcome=CallOutcome.reached
        )
    )
    db.session.commit()

    # This app's own task: another app built by a test may be Celery's current one.
    erase_never_reached = app.extensions["celery"].tasks["privacy.erase_never_reached"]
    assert erase_never_reached() == 1

    db.session.expire_all()
    assert [c.first_name for c in db.session.scalars(sa.select(Contact).order_by(Contact.id))] == [
        "Erased",
        "James",
        "James",
    ]
    config_override(NEVER_REACHED_RETENTION_DAYS=0)
    recent.created_at = long_ago
    db.session.commit()
    assert erase_never_reached() == 0


def test_a_manager_downloads_a_persons_data_from_the_contact_page(app, james):
    manager = StaffClient(app.test_client())
    manager.sign_in(make_user(Role.manager).email)

    page = manager.get(f"/contacts/{james.id}").get_data(as_text=True)
    response = manager.get(f"/contacts/{james.id}/privacy-export")

    assert "Download everything we hold about this person" in page
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["Cache-Control"] == "no-store"
    assert json.loads(response.get_data())["submissions"][0]["fields"]["message"] == MESSAGE
    audited = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.action == AuditAction.privacy_exported)
    )
    assert audited == 1


def test_advocates_see_no_privacy_download(app, james):
    advocate = StaffClient(app.test_client())
    advocate.sign_in(make_user(Role.advocate).email)

    assert "Download everything" not in advocate.get(f"/contacts/{james.id}").get_data(as_text=True)
    assert advocate.get(f"/contacts/{james.id}/privacy-export").status_code == 403


def test_erasure_reaches_every_sealed_column_it_must():
    # A new free-text column must be considered here: erased, or kept on purpose.
    from crm.services.sealed_columns import sealed_columns

    assert {sealed.name for sealed in sealed_columns()} == {
        "submissions.fields",
        "suspected_spam.fields",  # purged after SPAM_RETENTION_DAYS, not tied to a contact
        "guide_fulfilments.mailing_address",
        "notes.body",
        "calls.note",
        "stage_changes.reason",
        "chat_messages.body",
    }
    assert privacy.ERASED_TEXT == "[erased]"
