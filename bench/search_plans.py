"""PostgreSQL's plans for the real search statements, with their run times, for bench.search.

Runs the app's own search service in this process against a seeded bench database, takes
each statement it sends (cursor pages included) and runs it again under EXPLAIN (ANALYZE,
BUFFERS), so the plans are those of the real statements with the real parameters on the
real planner settings: an index scan in page order, or not.
"""

import re

import sqlalchemy as sa


def search_plans(url: str, queries: dict[str, str]) -> list[dict]:
    """For each kind: the indexes read, whether rows were sorted or scanned, the time taken."""
    from crm import create_app  # imports app code: only once the bench has its settings
    from crm.extensions import db
    from crm.services.contact_search import search_contacts

    app = create_app("development", {"SQLALCHEMY_DATABASE_URI": url})
    plans = []
    with app.app_context():
        executed = []

        def record(conn, cursor, statement, parameters, context, executemany):
            if "sort_key" in statement:
                executed.append((statement, parameters))

        sa.event.listen(db.engine, "before_cursor_execute", record)
        for kind, query in queries.items():
            executed.clear()
            first = search_contacts(query)
            if first.next_cursor:
                search_contacts(query, after=first.next_cursor)
            for page, (statement, parameters) in enumerate(list(executed), 1):
                plans.append({"kind": kind, "page": page, **_explain(db, statement, parameters)})
        db.session.remove()
        db.engine.dispose()
    return plans


def _explain(db, statement: str, parameters) -> dict:
    connection = db.session.connection()
    analysed = f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING OFF) {statement}"
    lines = list(connection.exec_driver_sql(analysed, parameters).scalars())
    db.session.rollback()
    text = "\n".join(lines)
    buffers = re.search(r"shared hit=(\d+)", text)  # the top node's: the whole statement's
    return {
        "indexes": sorted(set(re.findall(r"Index (?:Only )?Scan (?:using|on) (\w+)", text))),
        # The planner may rather sort a few matches (a bitmap scan) than walk the index.
        "sorted_rows": sum(int(n) for n in re.findall(r"Sort \(actual rows=(\d+)", text)),
        "seq_scan": "Seq Scan" in text,
        "execution_ms": float(re.search(r"Execution Time: ([\d.]+) ms", text).group(1)),
        "shared_buffers_hit": int(buffers.group(1)) if buffers else None,
        "plan": lines,
    }


def print_plans(plans: list[dict], contacts: int) -> None:
    print(f"\nplans at {contacts:,} contacts (EXPLAIN ANALYZE of the statements the service sent):")
    for plan in plans:
        verdict = (
            "SEQ SCAN"
            if plan["seq_scan"]
            else f"index, {plan['sorted_rows']} rows sorted"
            if plan["sorted_rows"]
            else "index in page order"
        )
        print(
            f"  {plan['kind']:<14} page {plan['page']}  {', '.join(plan['indexes']) or '-':<55} "
            f"{verdict:<20} {plan['execution_ms']:6.3f} ms  buffers {plan['shared_buffers_hit']}"
        )
