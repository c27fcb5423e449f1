"""The referrals and guides report in Chromium: bars with their numbers beside, a CSV per table."""

from playwright.sync_api import expect

from crm.models.enums import Role
from tests.browser.test_reports_in_browser import show_period
from tests.referral_pages import seed_referral_data


def test_a_manager_reads_referrals_and_guides(app, signed_in, screenshot, config_override):
    config_override(ORG_TIME_ZONE="America/New_York")
    with app.app_context():
        seed_referral_data()
    page = signed_in(Role.manager, name="Maya Nager")

    page.get_by_role("navigation", name="Staff").get_by_role(
        "link", name="Referrals and guides"
    ).click()
    show_period(page, "2026-11-10", "2026-11-11")

    expect(page.get_by_role("heading", name="Referrals and guides", level=1)).to_be_visible()
    expect(page.get_by_role("img", name="Referrals sent from 2026-11-10")).to_be_visible()
    expect(page.get_by_role("img", name="Guides requested from 2026-11-10")).to_be_visible()
    specialist = page.locator("#table-referrals tbody tr").first
    expect(specialist.locator("th")).to_have_text("Specialist matches")
    expect(specialist.locator("td")).to_have_text(["2", "1", "1", "1", "50.0%", "100.0%"])
    opened = page.locator("#table-guides tbody tr").nth(1)
    expect(opened).to_contain_text("Opened the link in the email")
    expect(opened.locator("td")).to_have_text(["1", "50.0%"])
    expect(page.get_by_role("link", name="Referrals as CSV")).to_be_visible()
    expect(page.get_by_role("link", name="Guides as CSV")).to_be_visible()
    screenshot(page, "report-referrals")
