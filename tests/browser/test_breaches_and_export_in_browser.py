"""In Chromium: a breach on the speed page leads to its contact; the search downloads as CSV."""

import csv
import io
from datetime import UTC, datetime, timedelta

from playwright.sync_api import expect

from crm.models import utcnow
from crm.models.enums import CallTaskStatus, FormKind, Role, VeteranBranch
from tests.calls import breached_call
from tests.factories import make_contact
from tests.report_pages import FORMULA_CAMPAIGN


def test_a_manager_follows_a_breach_to_its_contact(app, signed_in, config_override, screenshot):
    config_override(ORG_TIME_ZONE="America/New_York")
    with app.app_context():
        waiting = breached_call(utcnow() - timedelta(hours=3))
        late = breached_call(
            datetime(2026, 11, 10, 14, 0, tzinfo=UTC),
            attempted_at=datetime(2026, 11, 10, 14, 50, tzinfo=UTC),
            status=CallTaskStatus.done,
        )
    page = signed_in(Role.manager, name="Maya Nager")

    page.goto("/manager/speed?start=2026-11-10&end=2026-11-11")

    past = page.locator("#table-past-breaches tbody tr")
    expect(past).to_have_count(1)
    expect(past.first.locator("th")).to_have_text(f"#{late}")
    expect(past.first.locator("td").nth(2)).to_have_text("50")
    expect(page.get_by_role("heading", name="Breached now")).to_contain_text("1")
    expect(page.get_by_role("link", name="Past breaches in the period as CSV")).to_be_visible()
    screenshot(page, "report-speed-breaches")
    page.locator("#table-breached-now").get_by_role("link", name=f"#{waiting}").click()

    expect(page).to_have_url(f"/contacts/{waiting}")
    expect(page.get_by_role("heading", level=1)).to_be_visible()


def test_a_manager_exports_the_search_with_health_fields(app, signed_in, tmp_path):
    with app.app_context():
        maria = make_contact(
            FormKind.specialist_match,
            first_name="Maria",
            last_name="Lopez",
            attribution={"utm_campaign": FORMULA_CAMPAIGN},
            is_veteran=True,
            veteran_branch=VeteranBranch.army,
        ).id
        make_contact(first_name="Ann", last_name="Other")
    page = signed_in(Role.manager)

    page.goto("/contacts")
    page.get_by_label("Name, email address or phone number").fill("maria lopez")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("link", name="Maria Lopez")).to_be_visible()
    page.get_by_label("Include health fields").check()
    with page.expect_download() as download:
        page.get_by_role("button", name="Export all matches as CSV").click()

    saved = tmp_path / "contacts.csv"
    download.value.save_as(saved)
    assert download.value.suggested_filename.startswith("contacts-")
    text = saved.read_text(encoding="utf-8")
    assert text.startswith("\ufeff")
    header, row = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    assert header[-4:] == ["Diagnosis", "Veteran", "Branch of service", "Cancer stage"]
    assert row[0] == str(maria) and row[1] == "Maria Lopez"
    assert row[header.index("Campaign")] == "'" + FORMULA_CAMPAIGN
    assert row[-4:] == ["Pleural mesothelioma", "yes", "Army", "Stage 2"]


def test_an_advocate_sees_no_export_on_the_search(app, signed_in):
    with app.app_context():
        make_contact(first_name="Maria", last_name="Lopez")
    page = signed_in(Role.advocate)

    page.goto("/contacts?q=maria+lopez")

    expect(page.get_by_role("link", name="Maria Lopez")).to_be_visible()
    expect(page.get_by_role("button", name="Export all matches as CSV")).to_have_count(0)
