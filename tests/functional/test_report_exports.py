"""Report CSVs: exactly the table on the page, formula-safe, audited; who may read reports."""

import pytest
import sqlalchemy as sa

from crm.extensions import db
from crm.models import AuditEvent
from crm.models.enums import AuditAction, Role
from tests.report_pages import FORMULA_CAMPAIGN, page_tables, read_csv, seed_report_data
from tests.staff import signed_in

PERIOD = "start=2026-11-10&end=2026-11-11"
PAGES = {
    "/manager/": ("funnel", ["funnel", "lost", "breakdown", "trend"]),
    "/manager/speed": ("speed", ["forms", "advocates", "contact"]),
    "/manager/advocates": ("advocates", ["advocates"]),
}


@pytest.fixture
def manager(app_ctx, config_override):
    config_override(ORG_TIME_ZONE="America/New_York")
    seed_report_data()
    return signed_in(app_ctx, Role.manager)


def as_exported(cell: str) -> str:
    """What the CSV must hold for a cell the page shows: formulas defused, the rest as is."""
    return "'" + cell if cell.startswith(("=", "+", "@")) else cell


@pytest.mark.parametrize("path", list(PAGES))
def test_every_csv_link_exports_exactly_its_table(manager, path):
    html = manager.get(f"{path}?{PERIOD}&by=campaign").get_data(as_text=True)
    report, keys = PAGES[path]

    for key, rows in page_tables(html).items():
        link = f"/manager/{report}/{key}.csv?"
        assert link in html and f"{key}" in keys
        href = html.split(link, 1)[1].split('"', 1)[0].replace("&amp;", "&")
        response = manager.get(link + href)
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
        assert response.get_data(as_text=True).count("\r\n") == len(rows)
        assert read_csv(response) == [[as_exported(cell) for cell in row] for row in rows]
    assert len(page_tables(html)) == len(keys)


def test_a_formula_campaign_is_neutralised_in_the_csv(manager):
    rows = read_csv(manager.get(f"/manager/funnel/breakdown.csv?{PERIOD}&by=campaign"))

    assert ["'" + FORMULA_CAMPAIGN, "1", "1", "1", "1", "1", "0", "0.0%"] in rows
    assert not any(cell.startswith("=") for row in rows for cell in row)


def test_every_export_is_audited_with_the_filters_and_row_count(manager):
    manager.get(f"/manager/funnel/breakdown.csv?{PERIOD}&by=campaign&form=guide").get_data()

    event = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == AuditAction.report_exported)
    ).one()
    assert event.actor_user_id is not None
    assert event.detail == {
        "report": "funnel",
        "table": "breakdown",
        "filters": {"start": "2026-11-10", "end": "2026-11-11", "by": "campaign", "form": "guide"},
        "rows": 2,
    }


def test_viewing_a_report_is_not_audited(manager):
    manager.get(f"/manager/?{PERIOD}")

    actions = set(db.session.scalars(sa.select(AuditEvent.action)))
    assert AuditAction.report_exported not in actions


def test_an_export_with_invalid_dates_shows_the_form_and_exports_nothing(manager):
    response = manager.get("/manager/speed/forms.csv?start=nonsense")

    assert response.status_code == 400 and response.mimetype == "text/html"
    assert "Give a date as YYYY-MM-DD." in response.get_data(as_text=True)
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).where(AuditEvent.action == AuditAction.report_exported)
        )
        == 0
    )


def test_an_unknown_table_is_not_found(manager):
    assert manager.get(f"/manager/speed/lost.csv?{PERIOD}").status_code == 404


EXPORTS = [
    "/manager/funnel/funnel.csv",
    "/manager/funnel/lost.csv",
    "/manager/funnel/breakdown.csv",
    "/manager/funnel/trend.csv",
    "/manager/speed/forms.csv",
    "/manager/speed/advocates.csv",
    "/manager/speed/contact.csv",
    "/manager/advocates/advocates.csv",
]


@pytest.mark.parametrize("path", [*PAGES, *EXPORTS])
def test_managers_and_admins_may_read_reports_and_advocates_may_not(app_ctx, path):
    assert signed_in(app_ctx, Role.manager).get(path).status_code == 200
    assert signed_in(app_ctx, Role.admin).get(path).status_code == 200
    assert signed_in(app_ctx, Role.advocate).get(path).status_code == 403
