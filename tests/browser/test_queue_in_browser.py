"""The call queue in a real browser: an advocate signs in, presses Next call, meets the caller."""

import re
from datetime import timedelta

from playwright.sync_api import expect

from crm.models import utcnow
from crm.models.enums import Role
from tests.calls import due_call, zone_at_midday


def test_an_advocate_takes_the_next_call_from_the_queue(app, signed_in, screenshot):
    now = utcnow()
    with app.app_context():
        due_call(now - timedelta(hours=2), zone=zone_at_midday(now), first_name="Carmen")
        contact_id, _ = due_call(
            now - timedelta(hours=3), zone=zone_at_midday(now), first_name="Walter"
        )

    page = signed_in(Role.advocate, name="Ada Vocate")

    # Advocates land on their queue after signing in.
    expect(page.get_by_role("heading", name="Call queue")).to_be_visible()
    expect(page.locator('#band-counts dd[data-band="overdue"]')).to_have_text("2")
    expect(page.locator("#queue-rows tbody tr").first).to_contain_text("Walter")
    screenshot(page, "call-queue")

    page.get_by_role("button", name="Next call").click()

    expect(page).to_have_url(re.compile(rf"/contacts/{contact_id}#call$"))
    expect(page.get_by_text("Your next call.")).to_be_visible()
    expect(page.locator("#call")).to_contain_text("yours until")
