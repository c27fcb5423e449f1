"""Over-limit and bot-looking submits are kept apart; staff release the real people."""

import pytest
import sqlalchemy as sa

from crm.extensions import db
from crm.models import CallTask, ConsentRecord, Contact, OutboxMessage, Submission, SuspectedSpam
from crm.services import spam
from tests.forms import CALLBACK, GUIDE


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


@pytest.fixture
def busy_hospital_network(forms, config_override):
    """Three visitors behind one address; the per-IP limit lets two through."""
    config_override(SUBMIT_LIMIT_PER_IP="2/hour")
    for index in range(3):
        person = {
            **GUIDE,
            "email": f"visitor{index}@example.org",
            "phone": None,
            "interests": ["treatment", "va_benefits"],
        }
        assert forms.submit("/guide", person).status_code == 303


def test_a_submit_over_the_per_ip_limit_is_kept_for_review_not_lost(busy_hospital_network, app_ctx):
    assert count(Submission) == 2
    (kept,) = db.session.scalars(sa.select(SuspectedSpam)).all()
    assert kept.reason == "rate_limited"
    assert kept.fields["email"] == "visitor2@example.org"


def test_releasing_kept_spam_makes_the_lead_it_should_have_been(busy_hospital_network, app_ctx):
    (kept,) = db.session.scalars(sa.select(SuspectedSpam)).all()

    released = spam.release(kept.id)

    submission = db.session.scalar(
        sa.select(Submission).where(Submission.public_id == released.submission_public_id)
    )
    assert submission.fields["email"] == "visitor2@example.org"
    assert submission.fields["interests"] == ["treatment", "va_benefits"]
    assert count(Contact) == 3
    assert count(ConsentRecord) == 6
    guide_emails = db.session.scalars(
        sa.select(OutboxMessage.kind).where(OutboxMessage.submission_id == submission.id)
    ).all()
    assert guide_emails
    db.session.expire_all()
    assert db.session.get(SuspectedSpam, kept.id).released_submission_id == submission.id


def test_releasing_twice_is_one_lead(busy_hospital_network, app_ctx):
    (kept,) = db.session.scalars(sa.select(SuspectedSpam)).all()

    first, second = spam.release(kept.id), spam.release(kept.id)

    assert second.already and second.submission_public_id == first.submission_public_id
    assert count(Submission) == 3


def test_a_released_callback_becomes_a_call_for_an_advocate(forms, app_ctx, config_override):
    config_override(SUBMIT_LIMIT_PER_CONTACT="1/hour")
    forms.submit("/callback", CALLBACK)
    forms.submit("/callback", {**CALLBACK, "best_time": "evening"})
    (kept,) = db.session.scalars(sa.select(SuspectedSpam)).all()

    spam.release(kept.id)

    assert count(CallTask) == 2


def test_junk_is_refused_with_the_reason(app_ctx):
    junk = SuspectedSpam(form="guide", reason="honeypot", fields={"first_name": "x"})
    db.session.add(junk)
    db.session.commit()

    with pytest.raises(spam.ReleaseRefused, match="would not pass the form"):
        spam.release(junk.id)
    assert count(Submission) == 0


def test_the_cli_lists_and_releases_without_showing_personal_data(
    busy_hospital_network, app, app_ctx
):
    runner = app.test_cli_runner()
    listing = runner.invoke(args=["crm", "spam", "list"])
    (kept,) = db.session.scalars(sa.select(SuspectedSpam)).all()

    released = runner.invoke(args=["crm", "spam", "release", str(kept.id)])
    unknown = runner.invoke(args=["crm", "spam", "release", "999999"])

    assert "rate_limited" in listing.output and "visitor2" not in listing.output
    assert released.exit_code == 0, released.output
    assert "released as submission" in released.output
    db.session.rollback()  # the command's own session committed the release
    assert db.session.get(SuspectedSpam, kept.id).released_at is not None
    assert unknown.exit_code != 0 and "No suspected spam" in unknown.output
