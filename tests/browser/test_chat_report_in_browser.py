"""The chat report in Chromium: the daily chart with its table, outcomes, advocates and hours."""

from playwright.sync_api import expect

from crm.models.enums import Role
from tests.browser.test_reports_in_browser import show_period
from tests.chat_report_data import seed_chat_data


def test_a_manager_reads_the_chat_report(app, signed_in, screenshot, config_override):
    config_override(ORG_TIME_ZONE="America/New_York", CHAT_MISSED_MINUTES=15)
    with app.app_context():
        seed_chat_data()
    page = signed_in(Role.manager, name="Maya Nager")

    page.get_by_role("navigation", name="Staff").get_by_role("link", name="Chat report").click()
    show_period(page, "2026-11-10", "2026-11-11")

    expect(page.get_by_role("heading", name="Chat report", level=1)).to_be_visible()
    expect(page.get_by_role("img", name="Chats per day from 2026-11-10")).to_be_visible()
    expect(page.get_by_role("img", name="Chats started per hour of the day")).to_be_visible()
    started = page.locator("#table-summary tbody tr").first
    expect(started.locator("th")).to_have_text("Started")
    expect(started.locator("td")).to_have_text(["5", "1"])
    expect(page.locator("#table-daily tbody tr").nth(1).locator("td")).to_have_text(["3", "1", "1"])
    ann = page.locator("#table-advocates tbody tr").first
    expect(ann.locator("th")).to_have_text("Ann Chatter")
    expect(page.get_by_role("link", name="Per day as CSV")).to_be_visible()
    expect(page.get_by_role("link", name="By advocate as CSV")).to_be_visible()
    screenshot(page, "report-chats")
