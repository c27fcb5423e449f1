"""PostgreSQL's plans for the live board's and the roll-up reports' statements, for bench.reports.

Runs the app's own services in this process (crm.services.live_board and
crm.services.rollups.reports, what the pages call), takes every statement they send with
its parameters and runs it again under EXPLAIN (ANALYZE, BUFFERS): the indexes read, rows
touched, time taken, on the large database.
"""

from datetime import timedelta

import sqlalchemy as sa

from bench.staff_bench import explain

WIDTH = 220  # characters of a plan line printed
DAYS = 30  # the report range: the last 30 days of the organisation


def _reads(app) -> dict:
    """Each service call a report page makes, by name."""
    from crm.models import utcnow
    from crm.services.live_board import live_board
    from crm.services.rollups import reports
    from crm.services.rollups.fold import org_day

    end = org_day(utcnow())
    start = end - timedelta(days=DAYS - 1)
    before = (start - timedelta(days=DAYS), start - timedelta(days=1))
    target = app.config["RESPONSE_TARGET_MINUTES"]
    return {
        "board": lambda: live_board(utcnow()),
        "funnel page": lambda: reports.funnel_page((start, end), before, "form", {}),
        "funnel by campaign": lambda: reports.funnel_page((start, end), before, "campaign", {}),
        "funnel trend": lambda: reports.funnel_trend(start, end),
        "funnel of one source by campaign (funnel_daily)": lambda: reports.funnel_by(
            "campaign", start, end, source="google"
        ),
        "speed page": lambda: reports.speed_page(start, end, target),
    }


def plans(app) -> dict[str, dict]:
    from crm.extensions import db

    found: dict[str, dict] = {}
    with app.app_context():
        sent: list[tuple[str, object]] = []

        def record(conn, cursor, statement, parameters, context, executemany):
            if statement.lstrip().upper().startswith(("SELECT", "WITH")):
                sent.append((statement, parameters))

        sa.event.listen(db.engine, "before_cursor_execute", record)
        reads = _reads(app)
        for name, read in reads.items():
            sent.clear()
            read()
            db.session.rollback()
            for number, (statement, parameters) in enumerate(list(sent), 1):
                found[f"{name} {number}"] = explain(db.session.connection(), statement, parameters)
                db.session.rollback()
        sa.event.remove(db.engine, "before_cursor_execute", record)
        db.session.remove()
        db.engine.dispose()
    return found


def print_plans(found: dict[str, dict], contacts: int) -> None:
    print(f"\nplans at {contacts:,} contacts (EXPLAIN (ANALYZE, BUFFERS)):")
    for name, plan in found.items():
        scans = ", ".join(plan["seq_scans"]) or "none"
        print(f"\n--- {name}: {plan['execution_ms']:.2f} ms, seq scans: {scans}")
        for line in plan["plan"]:
            print(f"    {line[:WIDTH]}" + (" ..." if len(line) > WIDTH else ""))
