"""The referrals and guides report on small fixed data: every figure worked out by hand."""

from datetime import date

import pytest
import sqlalchemy as sa

from crm.extensions import db
from crm.models import AuditEvent, Submission, TimelineEvent
from crm.models.enums import AuditAction, FormKind, Role, TimelineKind
from crm.services import rollups
from crm.services.email_content import guide_token
from crm.services.rollups import referral_reports
from tests.factories import make_contact
from tests.referral_pages import GUIDES, PERIOD, REFERRALS, TREND, seed_referral_data
from tests.report_pages import page_tables, read_csv
from tests.staff import signed_in

PAGE = "/manager/referrals-and-guides"


@pytest.fixture
def manager(app_ctx, config_override):
    config_override(ORG_TIME_ZONE="America/New_York")
    seed_referral_data()
    return signed_in(app_ctx, Role.manager)


def test_referrals_and_guides_count_by_their_new_york_cohort_day(manager):
    response = manager.get(f"{PAGE}?{PERIOD}")

    assert response.status_code == 200
    tables = page_tables(response.get_data(as_text=True))
    assert tables == {"referrals": REFERRALS, "guides": GUIDES, "trend": TREND}


def test_a_day_boundary_moves_a_referral_between_days(manager):
    tables = page_tables(manager.get(f"{PAGE}?start=2026-11-12&end=2026-11-12").get_data(True))

    assert tables["referrals"][2][:2] == ["VA claims hand-offs", "1"]  # sent at midnight
    assert tables["guides"][1][:2] == ["Emailed (delivered)", "1"]  # requested at midnight
    assert tables["referrals"][1][1] == "0"


def test_the_page_draws_its_charts_with_titles_and_words(manager):
    html = manager.get(f"{PAGE}?{PERIOD}").get_data(as_text=True)

    assert (
        '<title id="referrals-chart-title">Referrals sent from 2026-11-10 to 2026-11-11,'
        " and how far they got</title>" in html
    )
    assert "Specialist: seen: 1" in html  # the chart's text alternative
    assert '<title id="guides-chart-title">' in html and "Shipped: 1" in html
    assert '<title id="trend-chart-title">' in html


@pytest.mark.parametrize("table", ["referrals", "guides", "trend"])
def test_each_csv_is_its_table_and_is_audited(manager, table):
    html = manager.get(f"{PAGE}?{PERIOD}").get_data(as_text=True)
    link = f"/manager/referrals-and-guides/{table}.csv?{PERIOD.replace('&', '&amp;')}"
    assert link in html
    assert f"{dict(referrals='Referrals', guides='Guides', trend='Per day')[table]} as CSV" in html

    response = manager.get(link.replace("&amp;", "&"))

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert read_csv(response) == page_tables(html)[table]
    event = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == AuditAction.report_exported)
    ).one()
    assert event.detail == {
        "report": "referrals-and-guides",
        "table": table,
        "filters": {"start": "2026-11-10", "end": "2026-11-11"},
        "rows": len(page_tables(html)[table]) - 1,
    }


def test_viewing_the_page_is_not_audited(manager):
    manager.get(f"{PAGE}?{PERIOD}")

    assert AuditAction.report_exported not in set(db.session.scalars(sa.select(AuditEvent.action)))


def test_the_report_reads_what_the_rebuild_gives(manager):
    period = (date(2026, 11, 10), date(2026, 11, 11))
    before = referral_reports.counts(*period)

    rollups.rebuild()

    assert referral_reports.counts(*period) == before


def test_opening_the_guide_link_is_recorded_once_and_counted(client, app_ctx, config_override):
    config_override(ORG_TIME_ZONE="America/New_York")
    contact = make_contact(FormKind.guide)
    submission = db.session.scalars(
        sa.select(Submission).where(Submission.contact_id == contact.id)
    ).one()
    link = f"/guide/download/{guide_token(submission.public_id)}"

    assert client.get(link).status_code == 200
    assert client.get(link).status_code == 200

    opened = db.session.scalars(
        sa.select(TimelineEvent).where(TimelineEvent.kind == TimelineKind.guide_opened)
    ).all()
    assert [(e.contact_id, e.submission_id, e.detail) for e in opened] == [
        (contact.id, submission.id, {})
    ]
    rollups.refresh()
    day = submission.created_at.date()
    counts = referral_reports.counts(day.replace(day=1), day.replace(day=28))
    assert counts["guide"]["opened"] == 1


@pytest.mark.parametrize(
    "path",
    [
        PAGE,
        "/manager/referrals-and-guides/referrals.csv",
        "/manager/referrals-and-guides/trend.csv",
    ],
)
def test_managers_and_admins_may_read_it_and_advocates_may_not(app_ctx, path):
    assert signed_in(app_ctx, Role.manager).get(path).status_code == 200
    assert signed_in(app_ctx, Role.admin).get(path).status_code == 200
    assert signed_in(app_ctx, Role.advocate).get(path).status_code == 403


def test_report_readers_find_it_in_the_navigation(app_ctx):
    html = signed_in(app_ctx, Role.manager).get("/manager/").get_data(as_text=True)
    assert f'href="{PAGE}"' in html and "Referrals and guides" in html
    advocate_html = signed_in(app_ctx, Role.advocate).get("/queue").get_data(as_text=True)
    assert PAGE not in advocate_html
