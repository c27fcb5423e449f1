"""Ten advocates claiming at once: through the app's Next call service, and by the bare SQL.

Each thread is one advocate with its own app context (or its own psycopg connection for the
baseline), released together by a barrier, as tests/integration/test_concurrent_claims.py
does. A claim is timed from the call to its commit; then, untimed, the bench marks the task
done with plain SQL so that the next claim takes a new one, as a logged call would.
"""

import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import make_url

JOIN_TIMEOUT = 600
TIMED_OUT = "timed out"
DONE_SQL = "UPDATE call_tasks SET status = 'done' WHERE id = %(id)s"

# The floor: the same atomic claim with none of the queue's rules (no calling hours, slots,
# consent, routing or bands), oldest due first along ix_call_tasks_queue.
BARE_CLAIM_SQL = """
UPDATE call_tasks SET claimed_by_user_id = %(user)s, lease_expires_at = %(until)s
WHERE id = (
  SELECT id FROM call_tasks
  WHERE status = 'open' AND (lease_expires_at IS NULL OR lease_expires_at <= %(now)s)
    AND due_at <= %(now)s
  ORDER BY due_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)
RETURNING id, contact_id
"""


@dataclass
class Outcome:
    latencies_ms: list[float] = field(default_factory=list)
    claimed: list[int] = field(default_factory=list)
    empty: int = 0  # claims that found nothing this advocate may call now
    # Claims the app's statement timeout (DB_STATEMENT_TIMEOUT_MS) cancelled: what an
    # advocate would see as an error page. Their time counts in the latencies.
    timed_out: int = 0
    errors: list[BaseException] = field(default_factory=list)


def _run(worker, user_ids: list[int], claims: int) -> Outcome:
    outcome = Outcome()
    lock = threading.Lock()
    barrier = threading.Barrier(len(user_ids), timeout=JOIN_TIMEOUT)

    def thread(user_id: int) -> None:
        try:
            mine = worker(user_id, claims, barrier)
        except BaseException as error:  # reported by the caller
            with lock:
                outcome.errors.append(error)
            barrier.abort()
            return
        with lock:
            outcome.latencies_ms += [ms for ms, _ in mine]
            outcome.claimed += [task for _, task in mine if isinstance(task, int)]
            outcome.empty += sum(task is None for _, task in mine)
            outcome.timed_out += sum(task is TIMED_OUT for _, task in mine)

    threads = [threading.Thread(target=thread, args=(u,), daemon=True) for u in user_ids]
    for started in threads:
        started.start()
    for started in threads:
        started.join(JOIN_TIMEOUT)
    if any(t.is_alive() for t in threads):
        raise SystemExit("a claim thread hung")
    if outcome.errors:
        raise outcome.errors[0]
    return outcome


def real_claims(app, user_ids: list[int], claims: int) -> Outcome:
    """Each advocate presses Next call `claims` times: claim_next_call, commit, mark done."""
    from crm.extensions import db
    from crm.models import User, utcnow
    from crm.services.queue import claim_next_call

    def worker(user_id: int, count: int, barrier: threading.Barrier) -> list:
        results = []
        with app.app_context():
            user = db.session.get(User, user_id)
            barrier.wait()
            for _ in range(count):
                started = time.perf_counter()
                try:
                    claim = claim_next_call(user, utcnow())
                    db.session.commit()
                except sa.exc.OperationalError as error:
                    if not isinstance(error.orig, psycopg.errors.QueryCanceled):
                        raise
                    db.session.rollback()
                    results.append(((time.perf_counter() - started) * 1000, TIMED_OUT))
                    continue
                elapsed = (time.perf_counter() - started) * 1000
                task = claim.call_task_id if claim else None
                results.append((elapsed, task))
                if claim is not None:
                    db.session.execute(sa.text(DONE_SQL.replace("%(id)s", ":id")), {"id": task})
                    db.session.commit()
            db.session.remove()
        return results

    return _run(worker, user_ids, claims)


def bare_claims(url: str, user_ids: list[int], claims: int, lease_minutes: int) -> Outcome:
    """The same advocates run the bare claim SQL by hand, one connection each."""
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)

    def worker(user_id: int, count: int, barrier: threading.Barrier) -> list:
        results = []
        with psycopg.connect(dsn) as connection:
            barrier.wait()
            for _ in range(count):
                started = time.perf_counter()
                now = datetime.now(UTC)
                row = connection.execute(
                    BARE_CLAIM_SQL,
                    {"user": user_id, "now": now, "until": now + timedelta(minutes=lease_minutes)},
                ).fetchone()
                connection.commit()
                elapsed = (time.perf_counter() - started) * 1000
                results.append((elapsed, row[0] if row else None))
                if row is not None:
                    connection.execute(DONE_SQL, {"id": row[0]})
                    connection.commit()
        return results

    return _run(worker, user_ids, claims)
