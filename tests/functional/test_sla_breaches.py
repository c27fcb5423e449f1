"""SLA breaches on the speed page: callbacks waiting past the target now, and those of a period."""

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from crm.extensions import db
from crm.models import AuditEvent, CallTask, utcnow
from crm.models.enums import AuditAction, CallTaskStatus, Role
from crm.services import sla_breaches
from tests.calls import breached_call as breach
from tests.calls import due_call
from tests.factories import make_user
from tests.report_pages import page_tables
from tests.staff import StaffClient, signed_in

PERIOD = "start=2026-11-10&end=2026-11-11"


def utc(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def manager(app_ctx, config_override):
    config_override(ORG_TIME_ZONE="America/New_York")
    return signed_in(app_ctx, Role.manager)


def speed_tables(staff: StaffClient, query: str = PERIOD) -> dict[str, list[list[str]]]:
    response = staff.get(f"/manager/speed?{query}")
    assert response.status_code == 200
    return page_tables(response.get_data(as_text=True))


def test_breached_now_lists_callbacks_nobody_tried_the_longest_waiting_first(manager):
    now = utcnow()
    ann = make_user(Role.advocate, name="Ann Avery")
    newer = breach(now - timedelta(hours=2))
    older = breach(now - timedelta(hours=5), owner=ann.id)
    breach(now - timedelta(hours=6), attempted_at=now - timedelta(hours=1))  # tried, late
    due_call(now - timedelta(hours=7))  # never escalated

    html = manager.get(f"/manager/speed?{PERIOD}").get_data(as_text=True)
    rows = page_tables(html)["breached-now"]

    assert [row[0] for row in rows[1:]] == [f"#{older}", f"#{newer}"]
    assert [row[3] for row in rows[1:]] == ["Ann Avery", "Unassigned"]
    assert f'href="/contacts/{older}"' in html and f'href="/contacts/{newer}"' in html
    assert '<span data-count="breached-now">2</span>' in html


def test_past_breaches_are_those_due_in_the_period_called_late_or_closed_uncalled(manager):
    late = breach(utc(10, 14), attempted_at=utc(10, 14, 40), status=CallTaskStatus.done)
    closed = breach(utc(11, 9), status=CallTaskStatus.cancelled)
    # 23:30 on the 11th in New York, though the 12th in UTC: inside the period.
    last_evening = breach(utc(12, 4, 30), attempted_at=utc(12, 5, 0))
    breach(utc(12, 5, 0), attempted_at=utc(12, 6, 0))  # midnight of the 12th: outside
    breach(utc(9, 23), attempted_at=utc(10, 1, 0))  # 18:00 on the 9th in New York: outside
    breach(utc(10, 16))  # still waiting: breached now, not past
    on_time, task_id = due_call(utc(10, 12))
    db.session.execute(
        sa.update(CallTask)
        .where(CallTask.id == task_id)
        .values(attempts=1, first_attempt_at=utc(10, 12, 5), status=CallTaskStatus.done)
    )
    db.session.commit()

    html = manager.get(f"/manager/speed?{PERIOD}").get_data(as_text=True)
    rows = page_tables(html)["past-breaches"]

    assert rows[1:] == [
        [f"#{last_evening}", "2026-11-12 04:30 UTC", "2026-11-12 05:00 UTC", "30", "Unassigned"],
        [f"#{closed}", "2026-11-11 09:00 UTC", "Never: cancelled without a call", "", "Unassigned"],
        [f"#{late}", "2026-11-10 14:00 UTC", "2026-11-10 14:40 UTC", "40", "Unassigned"],
    ]
    assert '<span data-count="past-breaches">3</span>' in html
    assert f"#{on_time}" not in html


def test_each_list_pages_on_from_its_last_row_without_repeating_one(manager, monkeypatch):
    monkeypatch.setattr(sla_breaches, "BREACH_PAGE_SIZE", 2)
    past = [breach(utc(10, hour), attempted_at=utc(10, hour, 30)) for hour in (12, 13, 14)]
    now = utcnow()
    waiting = [breach(now - timedelta(hours=hours)) for hours in (5, 4, 3)]

    html = manager.get(f"/manager/speed?{PERIOD}").get_data(as_text=True)
    first = page_tables(html)
    later = re.search(r'href="([^"]*now_after=[^"]*)" rel="next">Later', html).group(1)
    older = re.search(r'href="([^"]*past_before=[^"]*)" rel="next">Older', html).group(1)
    second_now = page_tables(manager.get(later.replace("&amp;", "&")).get_data(as_text=True))
    second_past = page_tables(manager.get(older.replace("&amp;", "&")).get_data(as_text=True))

    shown_now = [row[0] for row in first["breached-now"][1:] + second_now["breached-now"][1:]]
    assert shown_now == [f"#{contact}" for contact in waiting]
    shown_past = [row[0] for row in first["past-breaches"][1:] + second_past["past-breaches"][1:]]
    assert shown_past == [f"#{contact}" for contact in reversed(past)]
    assert "start=2026-11-10" in older and "end=2026-11-11" in older


def test_counts_stop_at_the_cap(manager, config_override):
    config_override(BOARD_COUNT_CAP=1)
    now = utcnow()
    breach(now - timedelta(hours=3))
    breach(now - timedelta(hours=4))

    html = manager.get(f"/manager/speed?{PERIOD}").get_data(as_text=True)

    assert '<span data-count="breached-now">1+</span>' in html


def test_a_made_up_cursor_starts_from_the_top(manager):
    contact = breach(utcnow() - timedelta(hours=3))

    tables = speed_tables(manager, f"{PERIOD}&now_after=nonsense~x&past_before=2026-11-10~0")

    assert [row[0] for row in tables["breached-now"][1:]] == [f"#{contact}"]


def test_admins_see_breaches_by_id_without_links_and_advocates_are_refused(app_ctx):
    contact = breach(utcnow() - timedelta(hours=3))

    html = signed_in(app_ctx, Role.admin).get("/manager/speed").get_data(as_text=True)

    assert f"#{contact}" in html and f"/contacts/{contact}" not in html
    assert signed_in(app_ctx, Role.advocate).get("/manager/speed").status_code == 403


def read_csv(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline="")))


def test_each_breach_list_exports_whole_as_the_page_shows_it_and_is_audited(manager, monkeypatch):
    monkeypatch.setattr(sla_breaches, "BREACH_PAGE_SIZE", 1)
    ann = make_user(Role.advocate, name="Ann Avery")
    late = breach(utc(10, 14), attempted_at=utc(10, 14, 40), owner=ann.id)
    closed = breach(utc(11, 9), status=CallTaskStatus.cancelled)
    waiting = [breach(utcnow() - timedelta(hours=hours)) for hours in (4, 3)]
    html = manager.get(f"/manager/speed?{PERIOD}").get_data(as_text=True)

    files = {}
    for key in ("breached-now", "past-breaches"):
        link = f"/manager/speed/{key}.csv?"
        query = html.split(link, 1)[1].split('"', 1)[0].replace("&amp;", "&")
        files[key] = read_csv(manager.get(link + query))
        # The page shows a page of one here: the file's first row is that row, id as a number.
        on_page = page_tables(html)[key][1]
        assert files[key][1] == [on_page[0].removeprefix("#"), *on_page[1:]]

    assert [row[0] for row in files["breached-now"][1:]] == [str(c) for c in waiting]
    assert files["past-breaches"] == [
        ["Contact id", "Due", "First call", "Minutes to first call", "Advocate"],
        [str(closed), "2026-11-11 09:00 UTC", "Never: cancelled without a call", "", "Unassigned"],
        [str(late), "2026-11-10 14:00 UTC", "2026-11-10 14:40 UTC", "40", "Ann Avery"],
    ]
    exported = db.session.scalars(
        sa.select(AuditEvent.detail)
        .where(AuditEvent.action == AuditAction.report_exported)
        .order_by(AuditEvent.id)
    ).all()
    period = {"start": "2026-11-10", "end": "2026-11-11"}
    assert [(d["report"], d["table"], d["rows"], d["filters"]) for d in exported] == [
        ("speed", "breached-now", 2, period),
        ("speed", "past-breaches", 2, period),
    ]


def _plan(statement) -> str:
    connection = db.session.connection()
    # Forbidden, not impossible: the plan shows a Seq Scan or a Sort only when no index can
    # give the rows in page order, however few rows the table holds.
    for setting in ("enable_seqscan", "enable_bitmapscan", "enable_sort"):
        connection.exec_driver_sql(f"SET LOCAL {setting} = off")
    compiled = statement.compile(db.engine, compile_kwargs={"literal_binds": True})
    rows = connection.exec_driver_sql(f"EXPLAIN (ANALYZE, COSTS OFF) {compiled}").scalars()
    return "\n".join(rows)


@pytest.mark.postgres_only
def test_each_breach_list_reads_its_partial_index_and_only_the_rows_it_shows(app_ctx):
    now = utcnow()
    for hours in range(3, 9):
        breach(now - timedelta(hours=hours))
        breach(utc(10, hours), attempted_at=utc(10, hours, 30))
    for hours in range(3, 9):  # called in time: in neither index
        _, task_id = due_call(utc(10, hours, 5))
        db.session.execute(
            sa.update(CallTask).where(CallTask.id == task_id).values(attempts=1, status="done")
        )
    db.session.commit()
    period = (utc(10, 0).date(), utc(11, 0).date())
    second_now = sla_breaches.breached_now().rows[1].cursor
    second_past = sla_breaches.past_breaches(*period).rows[1].cursor
    queries = {
        "ix_call_tasks_breached": [
            sla_breaches.now_query(),
            sla_breaches.now_query(after=second_now),
        ],
        "ix_call_tasks_breach_history": [
            sla_breaches.past_query(*period),
            sla_breaches.past_query(*period, before=second_past),
        ],
    }
    for index, listed in queries.items():
        for query in listed:
            for statement, most in [
                (sla_breaches.page_statement(query, 3), 3),
                (sla_breaches.count_statement(query, 2), 3),
            ]:
                plan = _plan(statement)
                assert f"using {index} on call_tasks" in plan, plan
                assert "Seq Scan on call_tasks" not in plan and "Sort" not in plan, plan
                # The index hands over the rows of the page: none read to be thrown away.
                assert "Rows Removed by Filter" not in plan, plan
                scan = re.search(rf"using {index} on call_tasks \(actual .*?rows=(\d+)", plan)
                assert scan and int(scan.group(1)) <= most, plan


def test_the_speed_pages_two_statement_read_gives_each_list_as_read_alone(app_ctx, config_override):
    config_override(ORG_TIME_ZONE="America/New_York", BOARD_COUNT_CAP=3)
    now = utcnow()
    for hours in range(3, 9):  # six in each list: more than the cap
        breach(now - timedelta(hours=hours))
        breach(utc(10, hours), attempted_at=utc(10, hours, 30))
    db.session.commit()
    period = (utc(10, 0).date(), utc(11, 0).date())
    first_now, first_past = sla_breaches.breached_now(), sla_breaches.past_breaches(*period)
    cursors = [(None, None), (first_now.rows[0].cursor, first_past.rows[0].cursor)]
    for now_after, past_before in cursors:
        both = sla_breaches.speed_page_breaches(*period, now_after, past_before)
        alone = (
            sla_breaches.breached_now(now_after),
            sla_breaches.past_breaches(*period, past_before),
        )
        assert both == alone
        assert [page.count for page in both] == [4, 4]  # cap + 1: shown as "3+"
        assert all(page.rows for page in both)
