"""The chat report on small fixed chats, every figure worked out by hand (chat_report_data.py)."""

from datetime import date

import pytest
import sqlalchemy as sa

from crm.extensions import db
from crm.models import AuditEvent
from crm.models.enums import AuditAction, Role
from crm.services import rollups
from crm.services.rollups import chat_reports
from crm.services.rollups.chat_fold import fold_chats
from tests.chat_report_data import (
    ADVOCATES,
    DAILY,
    HOURS,
    OUTCOMES,
    PERIOD,
    SUMMARY,
    seed_chat_data,
)
from tests.report_pages import page_tables, read_csv
from tests.staff import signed_in

PAGE = "/manager/chats"
TABLES = {
    "summary": SUMMARY,
    "daily": DAILY,
    "outcomes": OUTCOMES,
    "advocates": ADVOCATES,
    "hours": HOURS,
}
TITLES = {
    "summary": "Chats",
    "daily": "Per day",
    "outcomes": "Closed chats by outcome",
    "advocates": "By advocate",
    "hours": "By hour of the day",
}


@pytest.fixture
def manager(app_ctx, config_override):
    config_override(ORG_TIME_ZONE="America/New_York", CHAT_MISSED_MINUTES=15)
    seed_chat_data()
    return signed_in(app_ctx, Role.manager)


def test_chats_count_by_their_new_york_start_day(manager):
    response = manager.get(f"{PAGE}?{PERIOD}")

    assert response.status_code == 200
    assert page_tables(response.get_data(as_text=True)) == TABLES


def test_a_day_boundary_moves_a_chat_between_days(manager):
    html = manager.get(f"{PAGE}?start=2026-11-11&end=2026-11-11").get_data(as_text=True)
    summary = page_tables(html)["summary"]

    # C2 started at 23:30 on the 10th in New York, 04:30 on the 11th in UTC: not this day.
    assert summary[1] == ["Started", "3", "2"]
    assert summary[2] == ["Accepted by an advocate", "1", "2"]
    # C5 started at midnight of the 12th, C4 a minute before: only C4 is the 11th's.
    assert page_tables(html)["hours"][24] == ["23:00", "1", "0"]


def test_the_answer_target_is_configurable(manager, config_override):
    config_override(CHAT_ANSWER_TARGET_SECONDS=30)
    summary = page_tables(manager.get(f"{PAGE}?{PERIOD}").get_data(as_text=True))["summary"]

    assert summary[8] == ["Accepted within 30 s (of accepted and missed)", "25.0%", "0.0%"]


def test_the_page_draws_its_charts_with_titles_and_words(manager):
    html = manager.get(f"{PAGE}?{PERIOD}").get_data(as_text=True)

    assert (
        '<title id="daily-chart-title">Chats per day from 2026-11-10 to 2026-11-11:'
        " started, accepted and missed</title>" in html
    )
    assert "Started: 5 in all, at most 3 a day" in html
    assert '<title id="hours-chart-title">' in html and "23:00: 2" in html
    assert '<title id="outcomes-chart-title">' in html and "Guide requested: 1" in html


@pytest.mark.parametrize("table", list(TABLES))
def test_each_csv_is_its_table_and_is_audited(manager, table):
    html = manager.get(f"{PAGE}?{PERIOD}").get_data(as_text=True)
    link = f"/manager/chats/{table}.csv?{PERIOD.replace('&', '&amp;')}"
    assert link in html
    assert f"{TITLES[table]} as CSV" in html

    response = manager.get(link.replace("&amp;", "&"))

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert read_csv(response) == TABLES[table]
    event = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == AuditAction.report_exported)
    ).one()
    assert event.detail == {
        "report": "chats",
        "table": table,
        "filters": {"start": "2026-11-10", "end": "2026-11-11"},
        "rows": len(TABLES[table]) - 1,
    }


def test_viewing_the_page_is_not_audited(manager):
    manager.get(f"{PAGE}?{PERIOD}")

    assert AuditAction.report_exported not in set(db.session.scalars(sa.select(AuditEvent.action)))


@pytest.mark.parametrize(
    "query", ["start=2026-11-12&end=2026-11-10", "start=not-a-day", "end=2026-02-30"]
)
def test_invalid_filters_show_the_form_with_a_message_not_an_error(manager, query):
    for path in (PAGE, f"{PAGE}/summary.csv"):
        response = manager.get(f"{path}?{query}")

        assert response.status_code == 400
        html = response.get_data(as_text=True)
        assert "The report needs valid dates and filters" in html
        assert 'aria-invalid="true"' in html
    assert AuditAction.report_exported not in set(db.session.scalars(sa.select(AuditEvent.action)))


def test_an_unknown_table_is_not_found(manager):
    assert manager.get(f"{PAGE}/nothing.csv?{PERIOD}").status_code == 404


def test_the_report_reads_what_the_rebuild_gives_and_folding_again_adds_nothing(manager):
    period = (date(2026, 11, 8), date(2026, 11, 12))
    before = chat_reports.totals(*period)

    fold_chats(range(1, 100))  # every chat read again: each is counted as far as it is
    assert chat_reports.totals(*period) == before
    rollups.rebuild()
    assert chat_reports.totals(*period) == before
    rollups.rebuild(in_sql=False, batch_size=2)
    assert chat_reports.totals(*period) == before


@pytest.mark.parametrize("path", [PAGE, f"{PAGE}/summary.csv", f"{PAGE}/hours.csv"])
def test_managers_and_admins_may_read_it_and_advocates_may_not(app_ctx, path):
    assert signed_in(app_ctx, Role.manager).get(path).status_code == 200
    assert signed_in(app_ctx, Role.admin).get(path).status_code == 200
    assert signed_in(app_ctx, Role.advocate).get(path).status_code == 403


def test_report_readers_find_it_in_the_navigation(app_ctx):
    html = signed_in(app_ctx, Role.manager).get("/manager/").get_data(as_text=True)
    assert f'href="{PAGE}"' in html and "Chat report" in html
    advocate_html = signed_in(app_ctx, Role.advocate).get("/queue").get_data(as_text=True)
    assert PAGE not in advocate_html


def test_the_periodic_task_and_the_command_fold_chats_in(app_ctx, config_override, app):
    config_override(ORG_TIME_ZONE="America/New_York", CHAT_MISSED_MINUTES=15)
    seed_chat_data(refresh=False)
    period = (date(2026, 11, 10), date(2026, 11, 11))
    assert chat_reports.totals(*period).count("started") == 0

    assert app.extensions["celery"].tasks["rollups.refresh"]() > 0
    assert chat_reports.totals(*period).count("started") == 5
    result = app.test_cli_runner().invoke(args=["crm", "rebuild-rollups"])

    assert result.exit_code == 0, result.output
    totals = chat_reports.totals(*period)
    assert (totals.count("started"), totals.count("accepted"), totals.count("missed")) == (5, 3, 1)
