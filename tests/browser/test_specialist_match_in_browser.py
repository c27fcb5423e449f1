"""Specialist match in a real browser: an advocate ticks matches, sends the email, follows up."""

from playwright.sync_api import expect

from crm.extensions import db
from crm.models.enums import FormKind, Role
from crm.services.demo_specialists import seed_demo_specialists
from tests.factories import make_contact


def test_an_advocate_sends_a_match_email_from_the_contact_page(app, signed_in, screenshot):
    with app.app_context():
        seed_demo_specialists()
        db.session.commit()
        contact_id = make_contact(
            FormKind.specialist_match, first_name="Rosa", last_name="Alvarez", is_veteran=True
        ).id
    page = signed_in(Role.advocate, name="Ada Vocate")

    page.goto(f"/contacts/{contact_id}")
    matches = page.locator("#match-form .match")
    # A veteran in Boston: the nearest VA-accepting specialist heads the list.
    expect(matches.first).to_contain_text("Dr. Imaginary Whitcombe")
    expect(matches.first).to_contain_text("accepts VA")
    page.get_by_label("Dr. Imaginary Whitcombe, Example Cancer Institute").check()
    page.get_by_label("Example Harbor Mesothelioma Center, Example Harbor Hospital").check()
    page.get_by_role("button", name="Send match email").click()

    expect(page.get_by_text("Match email queued with 2 specialist(s)")).to_be_visible()
    expect(page.locator("#timeline li").first).to_contain_text(
        "Match email with 2 specialists; referral sent"
    )
    expect(page.locator(".referral .referral-status")).to_have_text(["Sent", "Sent"])

    first = page.locator(".referral").first
    first.get_by_label("Move to").select_option("appointment_scheduled")
    first.get_by_role("button", name="Update referral").click()
    expect(page.get_by_text("Referral is now appointment scheduled.")).to_be_visible()
    expect(page.locator(".referral .referral-status").first).to_have_text("Appointment scheduled")
    page.locator("#referrals").scroll_into_view_if_needed()
    screenshot(page, "specialist-match")


def test_an_admin_adds_a_specialist_in_the_browser(app, signed_in, screenshot):
    page = signed_in(Role.admin)

    page.goto("/admin/specialists")
    page.get_by_role("link", name="Add a specialist").click()
    page.get_by_label("Name").fill("Dr. Imaginary Fairweather")
    page.get_by_label("Kind").select_option("doctor")
    page.get_by_label("Pleural surgery").check()
    page.get_by_label("Organisation").fill("Example Cancer Institute")
    page.get_by_label("City").fill("Boston")
    page.get_by_label("State").fill("MA")
    page.get_by_label("ZIP code").fill("02114")
    page.get_by_label("Phone").fill("(617) 555-0177")
    page.get_by_label("Accepts VA patients").check()
    page.get_by_role("button", name="Add specialist").click()

    expect(page.get_by_text("Added Dr. Imaginary Fairweather.")).to_be_visible()
    expect(page.locator("#specialists")).to_contain_text("(617) 555-0177")
    screenshot(page, "admin-specialists")
