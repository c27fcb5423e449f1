"""The manager reports in Chromium: the funnel and speed-to-lead, pictures with numbers beside."""

from playwright.sync_api import expect

from crm.models.enums import Role
from tests.report_pages import seed_report_data


def show_period(page, start: str, end: str) -> None:
    page.get_by_label("From", exact=True).fill(start)
    page.get_by_label("To (inclusive)", exact=True).fill(end)
    page.get_by_role("button", name="Show").click()


def test_a_manager_reads_the_funnel_and_the_speed_to_lead(
    app, signed_in, screenshot, config_override
):
    config_override(ORG_TIME_ZONE="America/New_York", RESPONSE_TARGET_MINUTES=15)
    with app.app_context():
        seed_report_data()
    page = signed_in(Role.manager, name="Maya Nager")
    staff_nav = page.get_by_role("navigation", name="Staff")

    staff_nav.get_by_role("link", name="Funnel").click()
    show_period(page, "2026-11-08", "2026-11-12")

    expect(page.locator("#funnel-chart-title")).to_have_text(
        "Funnel of the leads created from 2026-11-08 to 2026-11-12"
    )
    expect(page.get_by_role("img", name="Funnel of the leads created")).to_be_visible()
    stages = page.locator("#table-funnel tbody tr")
    expect(stages.nth(0)).to_contain_text("New lead")
    expect(stages.nth(0).locator("td").first).to_have_text("5")
    expect(stages.nth(2).locator("td").first).to_have_text("2")  # contacted
    expect(page.get_by_role("link", name="Stages reached as CSV")).to_be_visible()
    screenshot(page, "report-funnel")

    staff_nav.get_by_role("link", name="Speed to lead").click()
    show_period(page, "2026-11-10", "2026-11-11")

    expect(page.locator("#speed-chart-title")).to_have_text(
        "Leads called within 15 minutes, by form, from 2026-11-10 to 2026-11-11"
    )
    overall = page.locator("#table-forms tbody tr").first
    expect(overall.locator("th")).to_have_text("All forms")
    expect(overall.locator("td").nth(3)).to_have_text("10 min")  # the median
    expect(page.locator("#table-advocates")).to_contain_text("Ann Avery")
    screenshot(page, "report-speed")
