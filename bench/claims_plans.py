"""PostgreSQL's plans for the claim and the queue page's statements, for bench.claims.

Runs the app's own services in this process, takes the statements they send with their
parameters and runs each again under EXPLAIN (ANALYZE, BUFFERS) inside a transaction that
is rolled back (an EXPLAIN ANALYZE of an UPDATE performs it), so nothing is claimed.
"""

import sqlalchemy as sa

from bench.claims_load import BARE_CLAIM_SQL
from bench.staff_bench import explain as _explain

WIDTH = 220  # characters of a plan line printed


def plans(app, user_ids: list[int]) -> dict[str, dict]:
    """The claim for a skilled and an unskilled advocate, the bare claim, the page's queries."""
    from crm.extensions import db
    from crm.models import User, utcnow
    from crm.services.queue import claim_next_call, queue_overview

    found: dict[str, dict] = {}
    with app.app_context():
        sent: list[tuple[str, object]] = []

        def record(conn, cursor, statement, parameters, context, executemany):
            if "call_tasks" in statement:
                sent.append((statement, parameters))

        sa.event.listen(db.engine, "before_cursor_execute", record)
        for label, user_id in (("skilled", user_ids[0]), ("unskilled", user_ids[-1])):
            sent.clear()
            claim_next_call(db.session.get(User, user_id), utcnow())
            db.session.rollback()
            statement, parameters = next(s for s in sent if s[0].lstrip().startswith("UPDATE"))
            found[f"claim ({label} advocate)"] = _explain(
                db.session.connection(), statement, parameters
            )
            db.session.rollback()
        sent.clear()
        queue_overview(
            db.session.get(User, user_ids[-1]), utcnow(), limit=app.config["STAFF_PAGE_SIZE"]
        )
        db.session.rollback()
        for number, (statement, parameters) in enumerate(list(sent), 1):
            kind = "counts" if "count(" in statement.lower() else "rows"
            found[f"queue page {number} ({kind})"] = _explain(
                db.session.connection(), statement, parameters
            )
            db.session.rollback()
        sa.event.remove(db.engine, "before_cursor_execute", record)
        now = utcnow()
        bare = {"user": user_ids[0], "now": now, "until": now}
        # psycopg's %(name)s style, as the bare threads send it.
        connection = db.session.connection()
        found["bare claim"] = _explain(connection, BARE_CLAIM_SQL, bare)
        db.session.rollback()
        db.session.remove()
    return found


def print_plans(found: dict[str, dict], contacts: int) -> None:
    print(f"\nplans at {contacts:,} contacts (EXPLAIN (ANALYZE, BUFFERS), rolled back):")
    for name, plan in found.items():
        scans = ", ".join(plan["seq_scans"]) or "none"
        print(f"\n--- {name}: {plan['execution_ms']:.2f} ms, seq scans: {scans}")
        for line in plan["plan"]:
            # The calling-hours filter repeats to_char(...) a dozen times: the JSON has it whole.
            print(f"    {line[:WIDTH]}" + (" ..." if len(line) > WIDTH else ""))
