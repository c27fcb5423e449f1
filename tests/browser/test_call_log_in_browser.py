"""Logging a call in a real browser: Next call, the call panel, no answer, back on the queue."""

import re
from datetime import timedelta

from playwright.sync_api import expect

from crm.models import utcnow
from crm.models.enums import Role
from tests.calls import due_call, zone_at_midday


def test_an_advocate_logs_no_answer_and_sees_the_retry(app, signed_in, screenshot):
    now = utcnow()
    with app.app_context():
        contact_id, _ = due_call(
            now - timedelta(hours=1), zone=zone_at_midday(now), first_name="Walter"
        )

    page = signed_in(Role.advocate, name="Ada Vocate")
    page.get_by_role("button", name="Next call").click()

    expect(page).to_have_url(re.compile(rf"/contacts/{contact_id}#call$"))
    panel = page.locator("#call-panel")
    expect(panel.locator('a[href^="tel:+1"]')).to_be_visible()
    expect(page.locator("#call-script")).to_contain_text("They asked for a call")
    expect(panel.get_by_role("button", name=re.compile("^No answer"))).to_have_attribute(
        "accesskey", "n"
    )
    panel.get_by_label("Note", exact=True).fill("Rang out, no voicemail set up.")
    panel.get_by_label("Duration (minutes)").fill("1")
    screenshot(page, "call-panel")

    panel.get_by_role("button", name=re.compile("^No answer")).click()

    expect(page).to_have_url(re.compile(r"/advocate/queue$"))
    expect(
        page.get_by_text(re.compile(r"No answer\. Next try \w{3} \d\d:\d\d in their time"))
    ).to_be_visible()
