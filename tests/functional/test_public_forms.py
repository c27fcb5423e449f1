"""The three public forms, submitted as a browser would, CSRF token and all."""

import pytest
import sqlalchemy as sa

from crm.extensions import db
from crm.models import (
    ConsentRecord,
    Contact,
    OutboxMessage,
    Submission,
    SuspectedSpam,
    TimelineEvent,
)
from crm.models.enums import ConsentChannel, OutboxKind, OutboxStatus, TimelineKind
from tests.forms import CALLBACK, GUIDE, SPECIALIST, thank_you_says


def count(model) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_guide_request_stores_contact_submission_consents_and_outbox(forms, app_ctx):
    response = forms.submit("/guide", GUIDE)

    assert response.status_code == 303
    assert "/thank-you/" in response.location
    contact = db.session.scalar(sa.select(Contact))
    assert (contact.email, contact.phone_e164) == ("maria.lopez@example.com", "+16175550134")
    assert (contact.state, contact.time_zone) == ("MA", "America/New_York")
    submission = db.session.scalar(sa.select(Submission))
    assert submission.contact_id == contact.id
    assert submission.fields["interests"] == ["treatment"]
    consents = {c.channel: c for c in db.session.scalars(sa.select(ConsentRecord))}
    assert consents[ConsentChannel.email].granted is True
    assert consents[ConsentChannel.calls_texts].granted is False
    assert consents[ConsentChannel.email].text_version.startswith("email-")
    outbox = db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.due_at)).all()
    assert [(row.kind, row.status) for row in outbox] == [
        (OutboxKind.guide_email, OutboxStatus.pending),
        (OutboxKind.guide_check_in, OutboxStatus.pending),
        (OutboxKind.specialist_offer, OutboxStatus.pending),
    ]
    assert [(row.due_at - submission.created_at).days for row in outbox] == [0, 2, 7]
    assert outbox[0].payload == {"submission_id": submission.id}
    kinds = {event.kind for event in db.session.scalars(sa.select(TimelineEvent))}
    assert kinds == {TimelineKind.created, TimelineKind.email_queued}


def test_thank_you_page_says_what_happens_next(forms, client):
    response = forms.submit("/guide", GUIDE, follow_redirects=True)

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "on its way to your inbox" in page
    assert "Maria" not in page and "maria.lopez" not in page


def test_callback_thank_you_promises_a_time_in_the_visitors_own_time(forms):
    response = forms.submit("/callback", CALLBACK, follow_redirects=True)

    page = response.get_data(as_text=True)
    assert "afternoon, your time" in page


def test_callback_requires_consent_to_call(forms, app_ctx):
    response = forms.submit("/callback", {**CALLBACK, "consent_calls": None})

    assert response.status_code == 422
    assert "so that an advocate may call you" in response.get_data(as_text=True)
    assert count(Submission) == 0


def test_specialist_match_needs_an_email_or_a_phone(forms, app_ctx):
    response = forms.submit("/specialist-match", {**SPECIALIST, "email": ""})

    assert response.status_code == 422
    assert "email address or a phone number" in response.get_data(as_text=True)
    assert count(Contact) == 0


def test_typo_rerenders_the_form_with_the_visitors_data_and_the_fields_error(forms, app_ctx):
    response = forms.submit("/guide", {**GUIDE, "email": "maria.lopez@", "zip": "99999"})

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'value="Maria"' in page and 'value="Lopez"' in page
    assert "valid email address" in page
    assert "could not find this ZIP code" in page
    assert count(Submission) == 0


def test_names_keep_unicode_letters_apostrophes_and_hyphens(forms, app_ctx):
    data = {**GUIDE, "first_name": "Zoë-Anne", "last_name": "O\u2019Brien-Núñez"}
    assert forms.submit("/guide", data).status_code == 303

    contact = db.session.scalar(sa.select(Contact))
    assert (contact.first_name, contact.last_name) == ("Zoë-Anne", "O\u2019Brien-Núñez")


def test_printed_guide_needs_a_mailing_address(forms, app_ctx):
    response = forms.submit("/guide", {**GUIDE, "printed_guide": "y"})
    assert response.status_code == 422
    assert "so we can mail the printed guide" in response.get_data(as_text=True)

    address = {
        "address_line1": "1 Main St",
        "city": "Boston",
        "address_state": "MA",
        "address_zip": "02110",
    }
    assert forms.submit("/guide", {**GUIDE, "printed_guide": "y", **address}).status_code == 303
    submission = db.session.scalar(sa.select(Submission))
    assert submission.fields["mailing_address"]["city"] == "Boston"


def test_resubmission_attaches_to_existing_contact(forms, app_ctx):
    forms.submit("/guide", GUIDE)
    forms.submit(
        "/callback", {**CALLBACK, "phone": GUIDE["phone"], "email": "MARIA.LOPEZ@example.com"}
    )

    assert count(Contact) == 1
    assert count(Submission) == 2
    contact = db.session.scalar(sa.select(Contact))
    assert contact.submission_count == 2
    reengaged = db.session.scalar(sa.select(Submission).where(Submission.is_reengagement.is_(True)))
    assert reengaged.form.value == "callback"
    kinds = [
        e.kind for e in db.session.scalars(sa.select(TimelineEvent).order_by(TimelineEvent.id))
    ]
    assert TimelineKind.reengaged in kinds


def test_matches_on_two_different_contacts_are_flagged_as_possible_duplicate(forms, app_ctx):
    forms.submit("/guide", {**GUIDE, "phone": ""})
    forms.submit("/callback", CALLBACK)
    forms.submit("/callback", {**CALLBACK, "email": GUIDE["email"]})

    assert count(Contact) == 2
    by_email = db.session.scalar(
        sa.select(Contact).where(Contact.email == "maria.lopez@example.com")
    )
    by_phone = db.session.scalar(sa.select(Contact).where(Contact.phone_e164 == "+13125550187"))
    assert by_email.possible_duplicate_of_id == by_phone.id
    flagged = db.session.scalar(
        sa.select(TimelineEvent).where(TimelineEvent.kind == TimelineKind.possible_duplicate)
    )
    assert flagged.contact_id == by_email.id


def test_the_same_form_submitted_twice_is_one_submission(forms, app_ctx):
    page = forms.open("/callback")
    first = forms.submit("/callback", CALLBACK, page=page)
    second = forms.submit("/callback", CALLBACK, page=page)

    assert first.status_code == second.status_code == 303
    assert thank_you_says(first.location) == thank_you_says(second.location)
    assert count(Submission) == 1
    assert count(OutboxMessage) == 0  # no email given: nothing to send


def test_attribution_keeps_first_touch_on_contact_and_last_touch_on_submission(forms, app_ctx):
    first = forms.open("/guide?utm_source=google&utm_campaign=meso-guide&gclid=abc123")
    forms.submit("/guide", GUIDE, page=first)
    second = forms.open(
        "/callback?utm_source=facebook&utm_campaign=va-benefits",
        headers={"Referer": "https://www.example-advocacy.org/va"},
    )
    forms.submit("/callback", {**CALLBACK, "phone": GUIDE["phone"]}, page=second)

    contact = db.session.scalar(sa.select(Contact).order_by(Contact.id))  # the first touch's
    assert (contact.utm_source, contact.utm_campaign, contact.gclid) == (
        "google",
        "meso-guide",
        "abc123",
    )
    latest = db.session.scalar(sa.select(Submission).order_by(Submission.id.desc()))
    assert (latest.utm_source, latest.utm_campaign) == ("facebook", "va-benefits")
    assert latest.referrer == "https://www.example-advocacy.org/va"
    assert "utm_source=facebook" in latest.landing_page


def test_expired_csrf_token_rerenders_with_data_kept(forms, app_ctx):
    response = forms.submit("/guide", {**GUIDE, "csrf_token": "expired-or-forged"})

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "this form timed out" in page
    assert 'value="Maria"' in page
    assert count(Submission) == 0
    resubmitted = forms.submit("/guide", GUIDE, page=forms.page_from("/guide", page))
    assert resubmitted.status_code == 303
    assert count(Submission) == 1


def test_request_body_is_bounded(client):
    response = client.post("/guide", data={"message": "x" * 200_000})

    assert response.status_code == 413
    assert "shorten" in response.get_data(as_text=True)


def test_unknown_embed_form_is_not_found(client):
    assert client.get("/embed/newsletter").status_code == 404


def test_embedded_form_may_be_framed_by_the_marketing_site_only(forms, client, app_ctx):
    page = client.get("/embed/guide")
    assert (
        "frame-ancestors 'self' https://www.example-advocacy.org"
        in page.headers["Content-Security-Policy"]
    )
    assert client.get("/guide").headers["X-Frame-Options"] == "DENY"

    # A third-party iframe sends no session cookie: the signed form token protects the submit.
    form_page = forms.page_from("/embed/guide", page.get_data(as_text=True))
    client.delete_cookie("session")
    response = forms.submit("/embed/guide", GUIDE, page=form_page)
    assert response.status_code == 303
    assert count(Submission) == 1


def framed_by_the_marketing_site(response) -> bool:
    policy = response.headers.get("Content-Security-Policy", "")
    return (
        "frame-ancestors 'self' https://www.example-advocacy.org" in policy
        and "X-Frame-Options" not in response.headers
    )


def test_the_thank_you_after_an_embedded_form_shows_inside_the_same_iframe(forms, client, app_ctx):
    embedded = forms.submit("/embed/callback", CALLBACK)
    direct = forms.submit("/callback", {**CALLBACK, "first_name": "Jim"})

    assert framed_by_the_marketing_site(client.get(embedded.location))
    assert client.get(direct.location).headers["X-Frame-Options"] == "DENY"


def test_errors_on_an_embedded_form_show_inside_the_iframe(forms, client, app_ctx):
    typo = forms.submit("/embed/guide", {**GUIDE, "zip": "00000"})
    too_big = client.post("/embed/guide", data={"message": "x" * 70_000})

    assert typo.status_code == 422 and framed_by_the_marketing_site(typo)
    assert too_big.status_code == 413 and framed_by_the_marketing_site(too_big)


@pytest.mark.parametrize("change", ["update", "delete"])
def test_the_orm_refuses_to_change_or_delete_a_consent_record(forms, app_ctx, change):
    forms.submit("/guide", GUIDE)
    record = db.session.scalar(sa.select(ConsentRecord))
    if change == "update":
        record.granted = not record.granted
    else:
        db.session.delete(record)

    with pytest.raises(ValueError, match="append-only"):
        db.session.flush()
    db.session.rollback()
    assert count(ConsentRecord) == 2


@pytest.mark.parametrize(
    "statement",
    ["UPDATE consent_records SET granted = NOT granted", "DELETE FROM consent_records"],
)
def test_the_database_refuses_to_change_or_delete_a_consent_record(forms, app_ctx, statement):
    forms.submit("/guide", GUIDE)

    with pytest.raises(sa.exc.DBAPIError, match="immutable"):
        db.session.execute(sa.text(statement))
    db.session.rollback()
    assert count(ConsentRecord) == 2


def test_honeypot_gets_the_normal_thank_you_but_is_never_a_lead(forms, app_ctx):
    response = forms.submit("/guide", {**GUIDE, "website": "http://spam.example"})

    assert response.status_code == 303 and "/thank-you/" in response.location
    assert count(Contact) == 0
    assert count(OutboxMessage) == 0
    spam = db.session.scalar(sa.select(SuspectedSpam))
    assert spam.reason == "honeypot"


def test_a_form_sent_within_seconds_of_rendering_is_kept_as_spam(forms, app_ctx, config_override):
    config_override(FORM_MIN_SECONDS=3)
    response = forms.submit("/callback", CALLBACK)

    assert response.status_code == 303
    assert count(Submission) == 0
    assert db.session.scalar(sa.select(SuspectedSpam.reason)) == "too_fast"


def test_a_forged_form_token_is_kept_as_spam(forms, app_ctx):
    forms.submit("/callback", {**CALLBACK, "form_token": "forged"})

    assert count(Submission) == 0
    assert db.session.scalar(sa.select(SuspectedSpam.reason)) == "bad_token"


def test_a_page_left_open_over_a_day_asks_to_send_again(forms, app_ctx, client):
    import time

    from crm.services.form_tokens import issue_token

    with client.application.test_request_context():
        stale = issue_token("stale-nonce", rendered_at=time.time() - 25 * 3600)
    response = forms.submit("/callback", {**CALLBACK, "form_token": stale})

    assert response.status_code == 200
    assert "open for a long time" in response.get_data(as_text=True)
    assert count(Submission) == 0


def test_rate_limit_per_email_keeps_the_extra_submits_as_spam(forms, app_ctx, config_override):
    config_override(SUBMIT_LIMIT_PER_CONTACT="2/hour")
    statuses = [forms.submit("/guide", GUIDE).status_code for _ in range(4)]

    assert statuses == [303, 303, 303, 303]
    assert count(Submission) == 2
    assert [r for r in db.session.scalars(sa.select(SuspectedSpam.reason))] == ["rate_limited"] * 2


def test_typos_do_not_count_against_the_rate_limit(forms, app_ctx, config_override):
    config_override(SUBMIT_LIMIT_PER_CONTACT="1/hour")
    for _ in range(3):
        assert forms.submit("/guide", {**GUIDE, "zip": "00000"}).status_code == 422
    assert forms.submit("/guide", GUIDE).status_code == 303
    assert count(Submission) == 1
