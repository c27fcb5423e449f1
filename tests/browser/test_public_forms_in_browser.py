"""The free guide form in a real browser: a visitor fills it in, sends it, and fixes a typo."""

import re

import sqlalchemy as sa
from playwright.sync_api import Page, expect

from crm.extensions import db
from crm.models import Contact, Submission
from crm.models.enums import FormKind

GUIDE_EMAIL_LABEL = "Email (we send the guide here)"


def fill_in_guide_request(page: Page, email: str) -> None:
    """Answer the guide form as a visitor does: by the labels they read."""
    page.get_by_label("First name").fill("Maria")
    page.get_by_label("Last name").fill("Lopez")
    page.get_by_label(GUIDE_EMAIL_LABEL).fill(email)
    page.get_by_label("Phone").fill("(617) 555-0134")
    page.get_by_label("ZIP code", exact=True).fill("02110")
    page.get_by_label("Who is the guide for?").select_option(label="Spouse or partner")
    page.get_by_label("Diagnosis").select_option(label="Pleural mesothelioma")
    page.get_by_label("Treatment options").check()
    page.get_by_label("Yes, you may email me").check()


def test_visitor_requests_the_guide_and_becomes_a_lead(page: Page, app_ctx, screenshot):
    page.goto("/guide")
    fill_in_guide_request(page, "Maria.Lopez@Example.com")
    screenshot(page, "public-guide-form")
    page.get_by_role("button", name="Send me the free guide").click()

    expect(page).to_have_url(re.compile(r"/thank-you/"))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Thank you. Your free guide is on its way"
    )
    contacts = db.session.scalars(sa.select(Contact)).all()
    assert [(c.email, c.phone_e164) for c in contacts] == [
        ("maria.lopez@example.com", "+16175550134")
    ]
    submissions = db.session.scalars(sa.select(Submission)).all()
    assert [(s.form, s.contact_id) for s in submissions] == [(FormKind.guide, contacts[0].id)]
    assert submissions[0].fields["interests"] == ["treatment"]


def test_an_email_typo_brings_the_form_back_with_the_answers_kept(page: Page, app_ctx):
    page.goto("/guide")
    fill_in_guide_request(page, "maria.lopez@example,com")
    page.get_by_role("button", name="Send me the free guide").click()

    expect(page).to_have_title(re.compile(r"^Please check your answers"))
    email = page.get_by_label(GUIDE_EMAIL_LABEL)
    expect(email).to_have_value("maria.lopez@example,com")
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#email-error")).to_contain_text("Please enter a valid email address")
    expect(page.get_by_label("First name")).to_have_value("Maria")
    expect(page.get_by_label("Who is the guide for?")).to_have_value("spouse")
    expect(page.get_by_label("Treatment options")).to_be_checked()
    assert db.session.scalars(sa.select(Contact)).all() == []
