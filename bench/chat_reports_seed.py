"""The chat benchmark's rows and its hand-written baseline (bench/chat_reports.py).

Chats and their messages in INSERT ... SELECT FROM generate_series, no Python per row; the
baseline computes the chat report's figures from the chats themselves, along an index on
chats.created_at made for it.
"""

CONTACTS = 10_000
OUTCOMES = "ARRAY['helped','callback_arranged','guide_requested','visitor_left','not_relevant']"

# A chat every 20 seconds back from now (4,320 a day: the million is 231 days); the newest
# few still waiting or open, one in ten missed, the rest closed; waits mostly short (cubed),
# up to ten minutes; three in ten visitors left an email or phone (a contact).
CHATS_SQL = f"""
INSERT INTO chats (id, public_token, status, visitor_name, contact_id, claimed_by_user_id,
                   claimed_at, closed_at, outcome, created_at)
SELECT g, md5(g::text) || g, s.status, 'Visitor ' || g,
       CASE WHEN g % 10 < 3 THEN 1 + (g * 7) % {CONTACTS} END,
       CASE WHEN s.status IN ('active', 'closed') THEN 1 + g % 10 END,
       CASE WHEN s.status IN ('active', 'closed') THEN t.at + make_interval(secs => t.wait) END,
       CASE WHEN s.status = 'closed' THEN t.at + make_interval(secs => t.wait + t.handled)
            WHEN s.status = 'missed' THEN t.at + interval '15 minutes' END,
       CASE WHEN s.status = 'closed' THEN ({OUTCOMES})[1 + g % 5] END,
       t.at
FROM generate_series(1, :chats) AS g
CROSS JOIN LATERAL (
  SELECT now() - make_interval(secs => g * 20) AS at,
         floor(600 * power(((g::bigint * 7919) % 1000) / 1000.0, 3)) AS wait,
         60 + (g::bigint * 104729) % 1500 AS handled
) AS t
CROSS JOIN LATERAL (
  SELECT CASE WHEN g <= 3 THEN 'waiting' WHEN g <= 8 THEN 'active'
              WHEN g % 10 = 0 THEN 'missed' ELSE 'closed' END AS status
) AS s
"""
# A visitor line, and each step's system message as the chat services write them.
MESSAGES_SQL = """
INSERT INTO chat_messages (chat_id, sender, user_id, body, created_at)
SELECT c.id, m.sender, m.user_id, m.body, m.at
FROM chats AS c
CROSS JOIN LATERAL (VALUES
  ('visitor', CAST(NULL AS integer), 'Hello, I have a question.', c.created_at, true),
  ('system', NULL, 'An advocate joined the chat.', c.claimed_at, c.claimed_at IS NOT NULL),
  ('advocate', c.claimed_by_user_id, 'Happy to help.', c.claimed_at + interval '5 seconds',
   c.claimed_at IS NOT NULL),
  ('system', NULL, 'The chat ended.', c.closed_at, c.closed_at IS NOT NULL)
) AS m (sender, user_id, body, at, present)
WHERE m.present
ORDER BY m.at
"""
AFTER = [
    "SELECT setval(pg_get_serial_sequence('chats', 'id'), :chats)",
    # For the hand-written baseline only: the app reads chat_daily, never chats by time.
    "CREATE INDEX ix_bench_chats_created_at ON chats (created_at)",
]

# The report's figures straight from the chats, as one would write them by hand.
_PERIODS = """
WITH p AS (SELECT %(start)s::timestamptz AS start, %(end)s::timestamptz AS stop,
                  %(previous)s::timestamptz AS previous)
"""
HAND_SQL = [
    _PERIODS
    + """
SELECT c.created_at >= p.start AS this_period, count(*), count(c.claimed_at),
       count(*) FILTER (WHERE c.status = 'missed'), count(*) FILTER (WHERE c.status = 'closed'),
       count(c.contact_id),
       percentile_disc(0.5) WITHIN GROUP (ORDER BY c.claimed_at - c.created_at),
       percentile_disc(0.9) WITHIN GROUP (ORDER BY c.claimed_at - c.created_at),
       count(*) FILTER (WHERE c.claimed_at - c.created_at < interval '60 seconds'),
       percentile_disc(0.5) WITHIN GROUP (ORDER BY c.closed_at - c.claimed_at)
         FILTER (WHERE c.status = 'closed')
FROM chats AS c, p WHERE c.created_at >= p.previous AND c.created_at < p.stop GROUP BY 1
""",
    _PERIODS
    + """
SELECT (c.created_at AT TIME ZONE %(tz)s)::date, count(*), count(c.claimed_at),
       count(*) FILTER (WHERE c.status = 'missed')
FROM chats AS c, p WHERE c.created_at >= p.start AND c.created_at < p.stop GROUP BY 1
""",
    _PERIODS
    + """
SELECT c.claimed_by_user_id, c.outcome, count(*),
       percentile_disc(0.5) WITHIN GROUP (ORDER BY c.closed_at - c.claimed_at)
FROM chats AS c, p WHERE c.created_at >= p.start AND c.created_at < p.stop
  AND c.claimed_at IS NOT NULL GROUP BY ROLLUP (1, 2)
""",
    _PERIODS
    + """
SELECT extract(hour FROM c.created_at AT TIME ZONE %(tz)s), count(*),
       count(*) FILTER (WHERE c.status = 'missed')
FROM chats AS c, p WHERE c.created_at >= p.start AND c.created_at < p.stop GROUP BY 1
""",
]
