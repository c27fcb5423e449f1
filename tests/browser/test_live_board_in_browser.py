"""The live board in Chromium: a new callback request shows up without reloading the page."""

from datetime import timedelta

from playwright.sync_api import expect

from crm.models import utcnow
from crm.models.enums import Role
from tests.calls import due_call, zone_at_midday


def test_the_board_refreshes_itself_when_a_callback_request_arrives(
    app, signed_in, screenshot, config_override
):
    config_override(BOARD_REFRESH_SECONDS=1)
    now = utcnow()
    with app.app_context():
        due_call(now - timedelta(hours=3), zone=zone_at_midday(now))
    page = signed_in(Role.manager, name="Maya Nager")

    page.get_by_role("navigation", name="Staff").get_by_role("link", name="Live board").click()
    expect(page.get_by_role("heading", name="Live board")).to_be_visible()
    overdue = page.locator('#board-depth dd[data-band="overdue"]')
    expect(overdue).to_have_text("1")
    page.evaluate("window.notReloaded = true")

    with app.app_context():
        due_call(utcnow() - timedelta(hours=2), zone=zone_at_midday(utcnow()))

    # The script swapped the board in place: the count moved and the page never reloaded.
    expect(overdue).to_have_text("2")
    assert page.evaluate("window.notReloaded") is True
    expect(page.locator("#team")).to_contain_text("Maya Nager")
    screenshot(page, "live-board")
