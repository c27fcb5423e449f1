"""Next call's whole claim written by hand: the app's statements and rules in plain SQL.

The second baseline of bench.claims. Where BARE_CLAIM_SQL (bench/claims_load.py) is the floor
with none of the queue's rules, this is the same work as crm.services.queue.claim_next_call
(lock the advocate and read who is on shift; then one UPDATE that takes the held call or
claims along the claim order with calling hours, slots, consent and routing) with psycopg
and no ORM, so that real/by-hand is what the app's layers cost and by-hand/bare what the
rules cost.
"""

import threading
import time
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import psycopg
from sqlalchemy.engine import make_url

from bench.claims_load import DONE_SQL, Outcome, _run

LOCK_AND_COLLEAGUES_SQL = """
WITH me AS (SELECT id FROM users WHERE id = %(user)s FOR UPDATE)
SELECT u.id, u.skills, u.working_hours FROM me
LEFT JOIN users u ON u.active AND u.role IN ('advocate', 'manager') AND u.id <> me.id
"""
HELD_SQL = """
SELECT id FROM call_tasks
WHERE claimed_by_user_id = %(user)s AND lease_expires_at > %(now)s AND status = 'open'
ORDER BY lease_expires_at DESC LIMIT 1
"""
NEEDS = {
    "va_benefits": "t.needs_va_benefits",
    "peritoneal": "t.needs_peritoneal",
    "spanish": "t.needs_spanish",
}
ZONE = "coalesce(t.time_zone, 'America/New_York')"
CLOCK = f"to_char(%(now)s::timestamptz AT TIME ZONE {ZONE}, 'HH24:MI:SS')"
PICK_SQL = f"""
SELECT t.id FROM call_tasks t JOIN contacts c ON c.id = t.contact_id
WHERE t.status = 'open' AND (t.lease_expires_at IS NULL OR t.lease_expires_at <= %(now)s)
  AND t.due_at <= %(now)s
  AND CASE t.best_time
        WHEN 'morning' THEN {CLOCK} >= '08:00:00' AND {CLOCK} < '12:00:00'
        WHEN 'afternoon' THEN {CLOCK} >= '12:00:00' AND {CLOCK} < '17:00:00'
        WHEN 'evening' THEN {CLOCK} >= '17:00:00' AND {CLOCK} < '21:00:00'
        ELSE {CLOCK} >= '08:00:00' AND {CLOCK} < '21:00:00' END
  AND {{extra}}
  AND c.merged_into_id IS NULL AND c.stage <> 'closed' AND c.phone_e164 IS NOT NULL
  AND c.phone_wrong_at IS NULL
  AND (SELECT granted FROM consent_records r WHERE r.contact_id = c.id
       AND r.channel = 'calls_texts' ORDER BY r.recorded_at DESC, r.id DESC LIMIT 1)
ORDER BY t.queue_rank, t.due_at, t.id LIMIT 1 FOR UPDATE OF t SKIP LOCKED
"""
CLAIM_SQL = """
UPDATE call_tasks SET claimed_by_user_id = %(user)s,
  lease_expires_at = CASE WHEN claimed_by_user_id = %(user)s AND lease_expires_at > %(now)s
                     THEN lease_expires_at ELSE %(until)s END
WHERE id = coalesce(({held}), {picks}) RETURNING id, contact_id
"""


def _claim_sql(skills: set[str], on_shift_skills: set[str]) -> str:
    """The claim for an advocate with `skills` while colleagues with on_shift_skills work."""
    held = " OR ".join(
        column for skill, column in NEEDS.items() if skill in on_shift_skills - skills
    )
    mine = " OR ".join(column for skill, column in NEEDS.items() if skill in skills)
    # Not held back for a skilled colleague, unless it also needs one of this advocate's skills.
    allowed = f"(NOT ({held}) OR {mine or 'false'})" if held else "true"
    passes = ([f"({mine})"] if mine else []) + ["true"]
    picks = ", ".join(
        "(" + PICK_SQL.format(extra=f"{extra} AND {allowed}") + ")" for extra in passes
    )
    return CLAIM_SQL.format(held=HELD_SQL, picks=picks)


def by_hand_claims(app, url: str, user_ids: list[int], claims: int, lease_minutes: int) -> Outcome:
    """The same advocates run the whole claim by hand, one psycopg connection each."""
    from crm.services.queue.routing import on_shift

    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)

    def worker(user_id: int, count: int, barrier: threading.Barrier) -> list:
        results = []
        with psycopg.connect(dsn) as connection, app.app_context():
            skills = set(
                connection.execute("SELECT skills FROM users WHERE id = %s", (user_id,)).fetchone()[
                    0
                ]
            )
            connection.commit()
            barrier.wait()
            for _ in range(count):
                started = time.perf_counter()
                now = datetime.now(UTC)
                params = {
                    "user": user_id,
                    "now": now,
                    "until": now + timedelta(minutes=lease_minutes),
                }
                on_shift_skills = {
                    skill
                    for colleague, colleague_skills, hours in connection.execute(
                        LOCK_AND_COLLEAGUES_SQL, params
                    )
                    if colleague is not None and on_shift(SimpleNamespace(working_hours=hours), now)
                    for skill in colleague_skills or ()
                }
                row = connection.execute(_claim_sql(skills, on_shift_skills), params).fetchone()
                connection.commit()
                elapsed = (time.perf_counter() - started) * 1000
                results.append((elapsed, row[0] if row else None))
                if row is not None:
                    connection.execute(DONE_SQL, {"id": row[0]})
                    connection.commit()
        return results

    return _run(worker, user_ids, claims)
