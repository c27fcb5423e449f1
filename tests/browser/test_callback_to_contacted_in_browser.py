"""The issue's story end to end, in Chromium: a callback request through the public form, Next
call, no answer, the retry at the right local time, Next call again, reached, nurture stopped.

The app runs on the real clock, so the visitor gives a ZIP code (hence a time zone) and a best
time to call chosen for the moment the test runs: one where they may be called now and for the
next few minutes, and where the first retry falls past their slot, so it moves to the next
day's opening. The expectation is computed here from the rules the issue states, not by the
app's own code.
"""

import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, Page, expect

from crm.extensions import db
from crm.models import Call, CallTask, Contact, OutboxMessage, utcnow
from crm.models.enums import BestTime, CallReason, CallTaskStatus, OutboxKind, OutboxStatus, Role

# ZIP codes the packaged table places in these zones: every US zone with calling hours
# somewhere in the day, from Pago Pago (UTC-11) to Majuro (UTC+12).
PLACES = {
    "00901": "America/Puerto_Rico",
    "10001": "America/New_York",
    "60601": "America/Chicago",
    "80202": "America/Denver",
    "90012": "America/Los_Angeles",
    "99501": "America/Anchorage",
    "96813": "Pacific/Honolulu",
    "96799": "Pacific/Pago_Pago",
    "96939": "Pacific/Palau",
    "96910": "Pacific/Guam",
    "96960": "Pacific/Majuro",
}
# The rules as the issue states them: calls only 8:00-21:00 local, and inside the slot the
# visitor chose (the form's labels: morning 8am to noon, afternoon noon to 5pm, evening 5pm to 9pm).
SLOTS = {
    BestTime.morning: (time(8), time(12)),
    BestTime.afternoon: (time(12), time(17)),
    BestTime.evening: (time(17), time(21)),
    BestTime.asap: (time(8), time(21)),
}
BEST_TIME_LABELS = {
    BestTime.morning: "Morning (8am to noon)",
    BestTime.afternoon: "Afternoon (noon to 5pm)",
    BestTime.evening: "Evening (5pm to 9pm)",
    BestTime.asap: "As soon as possible",
}
# The test's whole run (two forms, a sign-in, two calls) fits many times into this; the slot
# must stay open that long after the visitor submits.
RUN_TIME = timedelta(minutes=3)
EMAIL = "rosa.delgado@example.com"


def first_retry(app) -> timedelta:
    offsets = app.config["CALL_RETRY_OFFSETS"]
    assert offsets.split(",")[0].strip() == "2h", offsets
    return timedelta(hours=2)


def place_and_slot(now: datetime, retry_after: timedelta) -> tuple[str, str, BestTime]:
    """A ZIP and best time where `now` is callable for RUN_TIME and the retry leaves the slot.

    Where no slot ends within the retry's wait (late morning UTC, when the only open US zones
    are in their morning), one whose retry stays inside the slot will do.
    """
    options = []
    for zip_code, zone in PLACES.items():
        local = now.astimezone(ZoneInfo(zone))
        for best_time, (opens, closes) in SLOTS.items():
            closing = datetime.combine(local.date(), closes, tzinfo=local.tzinfo)
            if not opens <= local.time() or local + RUN_TIME > closing:
                continue
            moves = local + retry_after >= closing
            options.append((not moves, best_time == BestTime.asap, zip_code, zone, best_time))
    if not options:
        # Minutes before noon UTC, Palau (the last US zone to close) shuts before Puerto
        # Rico (the first to open) opens: nobody in the US may be called for the whole run.
        pytest.skip(
            f"no US time zone stays inside calling hours for {RUN_TIME} from {now:%H:%M} UTC"
        )
    _, _, zip_code, zone, best_time = min(options)
    return zip_code, zone, best_time


def first_callable_moment(moment: datetime, zone: ZoneInfo, best_time: BestTime) -> datetime:
    """The earliest moment from `moment` on whose local time lies inside the slot."""
    opens, closes = SLOTS[best_time]
    local_day = moment.astimezone(zone).date()
    openings = [
        datetime.combine(local_day + timedelta(days=days), opens, tzinfo=zone).astimezone(UTC)
        for days in range(3)
    ]
    return min(
        candidate
        for candidate in (moment, *openings)
        if candidate >= moment and opens <= candidate.astimezone(zone).time() < closes
    )


def request_the_guide(visitor: Page, zip_code: str) -> None:
    """An earlier visit: the free guide, by email only, which starts the nurture emails."""
    visitor.goto("/guide")
    visitor.get_by_label("First name").fill("Rosa")
    visitor.get_by_label("Last name").fill("Delgado")
    visitor.get_by_label("Email (we send the guide here)").fill(EMAIL)
    visitor.get_by_label("Phone").fill("(617) 555-0134")
    visitor.get_by_label("ZIP code", exact=True).fill(zip_code)
    visitor.get_by_label("Treatment options").check()
    visitor.get_by_label("Yes, you may email me").check()
    visitor.get_by_role("button", name="Send me the free guide").click()
    expect(visitor.get_by_role("heading", level=1)).to_have_text(
        "Thank you. Your free guide is on its way"
    )


def request_a_callback(visitor: Page, zip_code: str, best_time: BestTime) -> None:
    visitor.goto("/callback")
    visitor.get_by_label("First name").fill("Rosa")
    visitor.get_by_label("Last name").fill("Delgado")
    visitor.get_by_label("Phone (we call you here)").fill("(617) 555-0134")
    visitor.get_by_label("Email", exact=True).fill(EMAIL)
    visitor.get_by_label("ZIP code", exact=True).fill(zip_code)
    visitor.get_by_label(BEST_TIME_LABELS[best_time]).check()
    visitor.get_by_label("Diagnosis").select_option(label="Pleural mesothelioma")
    visitor.get_by_label("Anything you would like us to know? (optional)").fill(
        "My husband was just diagnosed. What do we do next?"
    )
    visitor.get_by_label("Yes, you may call and text me").check()
    visitor.get_by_label("Yes, you may email me").check()
    visitor.get_by_role("button", name="Request my callback").click()
    expect(visitor).to_have_url(re.compile(r"/thank-you/"))
    expect(visitor.get_by_role("heading", level=1)).to_have_text(
        "Thank you. A patient advocate will call you"
    )


def open_call_tasks(contact_id: int) -> list[CallTask]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(CallTask).where(
                CallTask.contact_id == contact_id, CallTask.status == CallTaskStatus.open
            )
        )
    )


def test_a_callback_request_is_worked_to_contacted_and_the_nurture_emails_stop(
    app, browser: Browser, live_server, signed_in
):
    retry_after = first_retry(app)
    zip_code, zone_name, best_time = place_and_slot(utcnow(), retry_after)
    zone = ZoneInfo(zone_name)

    # The visitor, in a browser of their own.
    visitor_context = browser.new_context(base_url=live_server)
    try:
        visitor = visitor_context.new_page()
        request_the_guide(visitor, zip_code)
        request_a_callback(visitor, zip_code, best_time)
    finally:
        visitor_context.close()

    with app.app_context():
        contact = db.session.scalar(sa.select(Contact).where(Contact.email == EMAIL))
        contact_id = contact.id
        assert (contact.time_zone, contact.phone_e164) == (zone_name, "+16175550134")
        nurture = db.session.scalars(
            sa.select(OutboxMessage.kind).where(
                OutboxMessage.contact_id == contact_id,
                OutboxMessage.status == OutboxStatus.pending,
            )
        ).all()
        assert {OutboxKind.guide_check_in, OutboxKind.specialist_offer} <= set(nurture)

    # The advocate: Next call brings up Rosa with the call panel.
    page = signed_in(Role.advocate, name="Ada Vocate")
    page.get_by_role("button", name="Next call").click()
    expect(page).to_have_url(re.compile(rf"/contacts/{contact_id}#call$"))
    expect(page.get_by_role("heading", name="Rosa Delgado")).to_be_visible()
    panel = page.locator("#call-panel")
    expect(panel.locator('a[href="tel:+16175550134"]')).to_be_visible()
    expect(panel).to_contain_text(f"Requested a callback; their time zone {zone_name}")

    panel.get_by_label("Note", exact=True).fill("Rang out.")
    panel.get_by_role("button", name=re.compile("^No answer")).click()
    expect(page).to_have_url(re.compile(r"/advocate/queue$"))

    # The retry: the first offset after the call, moved into their slot in their own zone.
    with app.app_context():
        called_at = db.session.scalar(
            sa.select(Call.created_at).where(Call.contact_id == contact_id)
        )
        (retry,) = open_call_tasks(contact_id)
        expected = first_callable_moment(called_at + retry_after, zone, best_time)
        assert (retry.reason, retry.best_time, retry.due_at) == (
            CallReason.retry,
            best_time,
            expected,
        )
        retry_id = retry.id
    local = expected.astimezone(zone)
    opens, closes = SLOTS[best_time]
    assert opens <= local.time() < closes
    expect(page.get_by_role("status")).to_have_text(
        f"No answer. Next try {local:%a %H:%M} in their time ({local:%Z})."
    )
    page.goto(f"/contacts/{contact_id}")
    expect(page.locator("#stage")).to_have_text("Attempting")
    expect(page.locator("#open-calls li")).to_have_count(1)
    expect(page.locator("#open-calls li time")).to_have_attribute(
        "datetime", expected.astimezone(UTC).isoformat()
    )

    # Time passes: the retry falls due (the app reads the real clock, so its row moves instead).
    with app.app_context():
        db.session.execute(
            sa.update(CallTask).where(CallTask.id == retry_id).values(due_at=utcnow())
        )
        db.session.commit()

    page.goto("/advocate/queue")
    page.get_by_role("button", name="Next call").click()
    expect(page).to_have_url(re.compile(rf"/contacts/{contact_id}#call$"))
    expect(page.locator("#call-panel")).to_contain_text("Retry; their time zone")
    page.locator("#call-panel").get_by_role("button", name=re.compile("^Reached")).click()
    expect(page.get_by_role("status")).to_contain_text("Reached. Stage is Contacted")

    page.goto(f"/contacts/{contact_id}")
    expect(page.locator("#stage")).to_have_text("Contacted")
    expect(page.locator("#open-calls")).to_contain_text("No open calls.")
    with app.app_context():
        left = dict(
            db.session.execute(
                sa.select(OutboxMessage.kind, OutboxMessage.status).where(
                    OutboxMessage.contact_id == contact_id
                )
            ).all()
        )
    # The nurture emails stop; what the visitor asked for (the guide, the confirmation) does not.
    assert left == {
        OutboxKind.guide_email: OutboxStatus.pending,
        OutboxKind.guide_check_in: OutboxStatus.cancelled,
        OutboxKind.specialist_offer: OutboxStatus.cancelled,
        OutboxKind.callback_confirmation: OutboxStatus.pending,
    }
