"""What bench.reports adds to bench.claims' contacts: attribution, owners and ~10 events each.

Every contact gets an owner among bench.claims' ten advocates, a state, and for three in four
a source, medium and campaign (a long tail of campaigns). Then, with one INSERT ... SELECT
FROM generate_series each, no Python per row:

- stage_changes: how far each lead got down the funnel (30% stay new, 25% attempting, 20%
  contacted, 12% qualified, 8% referred, 5% closed helped), one forward move per stage, each
  1-72 hours after the one before; one lead in four that did not end helped is then closed
  as lost for a reason. About 1.8 moves per lead.
- calls: 2 to 14 attempts per lead (8 on average), the first minutes to two days after the
  lead (most within the hour), the next 1-47 hours apart; outcomes mostly no answer and
  voicemail, one in five reached; durations by outcome (reached: 2-30 minutes).

No event is later than now. At 1M contacts: about 1.8M stage changes and 8M calls.
"""

from bench.claims_seed import CLAIMERS
from bench.search_seed import pick, row_hash

SOURCES = ["google", "google", "google", "facebook", "facebook", "bing", "newsletter", "tv"]
MEDIUMS = ["cpc", "cpc", "organic", "social", "email", "referral"]
CAMPAIGNS = [f"campaign-{n}" for n in range(1, 41)]
STATES = ["CA", "TX", "FL", "NY", "PA", "IL", "OH", "GA", "NC", "MI", "NJ", "VA", "WA", "MA"]
LOST = ["not_interested"] * 4 + ["unreachable"] * 4 + ["not_eligible"] * 2 + ["deceased"]
OUTCOMES = ["no_answer"] * 8 + ["voicemail"] * 6 + ["reached"] * 4 + ["busy", "wrong_number"]


def _unless_one_in_four(seed: int, value: str) -> str:
    return f"CASE WHEN {row_hash(seed)} % 4 <> 0 THEN {value} END"


# The advocates are the first users of a fresh database (claims_seed.advocates_sql runs
# first after the migrations): ids 1 to 10. reports.seed checks that they are.
COLUMNS = {
    "utm_source": _unless_one_in_four(50, pick(SOURCES, 51)),
    "utm_medium": _unless_one_in_four(50, pick(MEDIUMS, 52)),
    "utm_campaign": _unless_one_in_four(50, pick(CAMPAIGNS, 53, skew=2.0)),
    "state": pick(STATES, 54, skew=1.5),
    "assigned_user_id": f"1 + {row_hash(55)} % {CLAIMERS}",
}

_STAGES = "ARRAY['new', 'attempting', 'contacted', 'qualified', 'referred', 'closed']"
_DEPTH = """CASE WHEN h < 30 THEN 0 WHEN h < 55 THEN 1 WHEN h < 75 THEN 2
                  WHEN h < 87 THEN 3 WHEN h < 95 THEN 4 ELSE 5 END"""

STAGE_CHANGES_SQL = f"""
INSERT INTO stage_changes (contact_id, from_stage, to_stage, close_outcome, reason, actor_kind,
                           actor_user_id, created_at)
SELECT id, ({_STAGES})[least(j, depth + 1)],
       CASE WHEN j > depth THEN 'closed' ELSE ({_STAGES})[j + 1] END,
       CASE WHEN j > depth THEN {pick(LOST, 57, row="id")}
            WHEN j = 5 THEN 'helped' END,
       '', 'user', assigned_user_id,
       least(now(), created_at + j * (1 + {row_hash(58, "id * 8 + j")} % 72) * interval '1 hour')
FROM (
  SELECT id, created_at, assigned_user_id, depth,
         depth + (depth < 5 AND {row_hash(56, "id")} % 4 = 0)::int AS moves
  FROM (SELECT id, created_at, assigned_user_id, {row_hash(41, "id")} % 100 AS h
        FROM contacts) AS leads,
  LATERAL (SELECT {_DEPTH} AS depth) AS reached
) AS plans, generate_series(1, plans.moves) AS j
ORDER BY id, j
"""

# Minutes to the first attempt: u^6 of two days (median about 45 minutes, p90 a day).
_FIRST = f"power(({row_hash(60, 'id')} % 1000000)::float8 / 1000000, 6) * 2880"
CALLS_SQL = f"""
INSERT INTO calls (contact_id, user_id, outcome, duration_seconds, created_at)
SELECT id, assigned_user_id, outcome,
       CASE outcome WHEN 'reached' THEN 120 + {row_hash(62, "id * 16 + j")} % 1680
                    WHEN 'voicemail' THEN 20 + {row_hash(62, "id * 16 + j")} % 40
                    ELSE {row_hash(62, "id * 16 + j")} % 30 END,
       least(now(), created_at + {_FIRST} * interval '1 minute'
                    + (j - 1) * (1 + {row_hash(63, "id * 16 + j")} % 47) * interval '1 hour')
FROM (
  SELECT id, created_at, assigned_user_id, j, {pick(OUTCOMES, 61, row="id * 16 + j")} AS outcome
  FROM contacts, generate_series(1, 2 + {row_hash(59, "id")} % 13) AS j
) AS attempts
ORDER BY id, j
"""

# Missed callbacks, for the board's and the speed page's breach lists: one open requested
# callback in five past the 15-minute target is escalated and still untried (breached now);
# and one lead in forty had a callback, due five minutes after it came in, escalated, then
# called 40 minutes in (a past breach), spread over every day of the leads.
BREACHES_SQL = [
    f"""
UPDATE call_tasks SET escalated_at = due_at + interval '15 minutes'
WHERE reason = 'requested_callback' AND due_at < now() - interval '15 minutes'
  AND {row_hash(61, "id")} % 5 = 0
""",
    f"""
INSERT INTO call_tasks (contact_id, reason, best_time, due_at, status, attempts, escalated_at,
                        first_attempt_at, created_at)
SELECT id, 'requested_callback', 'asap', created_at + interval '5 minutes', 'done', 1,
       created_at + interval '20 minutes', created_at + interval '45 minutes', created_at
FROM contacts WHERE {row_hash(62, "id")} % 40 = 0 AND created_at < now() - interval '1 hour'
ORDER BY id
""",
]

CHECK_OWNERS_SQL = f"""
SELECT count(*) FROM users
WHERE email LIKE 'bench-claimer-%' AND id BETWEEN 1 AND {CLAIMERS}
"""
