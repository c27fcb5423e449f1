"""The chat report at a million chats against ten thousand, a static page and hand-written SQL.

Seeds two databases (bench/staff_bench.py's `prepare` for 10,000 contacts and the advocates,
then chats and their messages in INSERT ... SELECT FROM generate_series), rebuilds the
roll-ups (timed), then, in one run:

- serves the real app on each, signs a manager in and times `/manager/chats` (the default
  period: the last 30 days, and the 30 before beside it) against `/` (a static page on the
  same stack: the bare stack's cost), interleaved request by request;
- in this process on the 1M database, times building the report from the roll-ups
  (`crm.reports.chat_report.chat_report`: chat_daily reads and the tables) against
  hand-written SQL that computes the same figures from the chats themselves, read along an
  index on chats.created_at made for it (the other way the report could be built: "read the
  period's chats along an index"), interleaved.

Prints p95 1M / 10k, p95 1M / static and roll-up build / hand SQL, and writes
bench/results/chat_reports.json.

    .venv/bin/python -m bench.chat_reports                  # about 3 minutes on 2 cores
    .venv/bin/python -m bench.chat_reports --chats 20000 --small 2000 --requests 5 --rounds 1
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

if __package__ in (None, ""):  # run as `python bench/chat_reports.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from bench import claims_seed
from bench.run import RESULTS, serve
from bench.settings import server_env
from bench.staff_bench import MANAGER, create_user, measure, p95, prepare, sign_in, summarise
from config import normalise_database_url

DEFAULT_DB = "postgresql+psycopg://postgres@127.0.0.1:5432/crm_bench_chats"
DEFAULT_REDIS = "redis://127.0.0.1:6379/14"
CONTACTS = 10_000
TARGETS = {"chat report": ["/manager/chats"], "static page": ["/"]}
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


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=1_000_000, help="the large database")
    parser.add_argument("--small", type=int, default=10_000, help="the small database")
    parser.add_argument("--requests", type=int, default=40, help="measured, per target and round")
    parser.add_argument("--warmup", type=int, default=5, help="unmeasured requests per target")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads")
    parser.add_argument("--database-url", default=DEFAULT_DB, help="the large one; +_small")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS)
    parser.add_argument("--skip-seed", action="store_true", help="reuse the databases as left")
    return parser.parse_args(argv)


def seed(url: str, chats: int, env: dict[str, str]) -> dict:
    started = time.perf_counter()
    timings = prepare(
        url,
        CONTACTS,
        env,
        parameters={"chats": chats},
        after_migrations=[
            claims_seed.advocates_sql(),  # the advocates' ids are 1 to 10
            "SET LOCAL session_replication_role = replica",  # a bulk load: parents exist
            CHATS_SQL,
            MESSAGES_SQL,
            *AFTER,
        ],
    )
    engine = sa.create_engine(url)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(sa.text("VACUUM ANALYZE chats, chat_messages"))
    engine.dispose()
    create_user(env, MANAGER, "Morgan Bencher", "manager")
    return timings | {"total_s": time.perf_counter() - started}


def rebuild(app) -> float:
    from crm.extensions import db
    from crm.services import rollups

    with app.app_context():
        started = time.perf_counter()
        rollups.rebuild()
        elapsed = time.perf_counter() - started
        db.session.remove()
    return elapsed


def _conninfo(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def builds(app, url: str, runs: int) -> dict[str, dict[str, float]]:
    """The report built from the roll-ups against the hand-written SQL, interleaved (ms)."""
    from crm.extensions import db
    from crm.models import utcnow
    from crm.reports.chat_report import chat_report
    from crm.reports.tables import Period
    from crm.services.rollups.fold import org_day

    zone = ZoneInfo(app.config["ORG_TIME_ZONE"])

    def midnight(day):
        return datetime.combine(day, datetime.min.time(), zone)

    timings: dict[str, list[float]] = {"roll-up build": [], "hand SQL": []}
    with app.app_context(), psycopg.connect(_conninfo(url)) as hand:
        today = org_day(utcnow())
        period = Period(today - timedelta(days=29), today)
        values = {
            "start": midnight(period.start),
            "end": midnight(period.end + timedelta(days=1)),
            "previous": midnight(period.previous().start),
            "tz": app.config["ORG_TIME_ZONE"],
        }
        for run in range(runs + 3):  # three unmeasured: caches warm
            started = time.perf_counter()
            chat_report(period, 60, {})
            built = time.perf_counter()
            for statement in HAND_SQL:
                hand.execute(statement, values).fetchall()
            done = time.perf_counter()
            db.session.rollback()
            if run >= 3:
                timings["roll-up build"].append((built - started) * 1000)
                timings["hand SQL"].append((done - built) * 1000)
        db.session.remove()
    return {
        name: {"p50_ms": statistics.median(values), "p95_ms": p95(values)}
        for name, values in timings.items()
    }


def _counts(url: str) -> dict[str, int]:
    engine = sa.create_engine(url)
    tables = ("chats", "chat_messages", "rollup_chats", "chat_daily")
    with engine.connect() as connection:
        counts = {
            t: connection.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one() for t in tables
        }
    engine.dispose()
    return counts


def main(argv=None) -> int:
    args = parse_args(argv)
    large_url = normalise_database_url(args.database_url)
    small_url = str(make_url(large_url).set(database=make_url(large_url).database + "_small"))
    sizes = {f"{args.chats // 1000}k": (large_url, args.chats)}
    sizes[f"{args.small // 1000}k"] = (small_url, args.small)
    large, small = list(sizes)
    RESULTS.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    with (
        tempfile.TemporaryDirectory(prefix="crm-bench-chats-") as instance_dir,
        ExitStack() as stack,
    ):
        envs = {
            size: server_env(url, args.redis_url, instance_dir) for size, (url, _) in sizes.items()
        }
        prepared, rebuilt = {}, {}
        for size, (url, chats) in sizes.items():
            if not args.skip_seed:
                print(f"seeding {chats:,} chats into {make_url(url).database} ...", flush=True)
                prepared[size] = seed(url, chats, envs[size])
        os.environ.update(envs[large])
        from crm import create_app

        apps = {
            size: create_app("development", {"SQLALCHEMY_DATABASE_URI": url})
            for size, (url, _) in sizes.items()
        }
        for size, app in apps.items():
            print(f"rebuilding the roll-ups at {size} ...", flush=True)
            rebuilt[size] = rebuild(app)
        counted = {size: _counts(url) for size, (url, _) in sizes.items()}
        print("timing the report's build against hand-written SQL ...", flush=True)
        built = builds(apps[large], large_url, args.requests * args.rounds)
        server = SimpleNamespace(workers=args.workers, threads=args.threads)
        ports = {
            size: stack.enter_context(serve("real", server, envs[size], f"chats-{size}"))[0]
            for size in sizes
        }
        browsers = {size: sign_in(port, MANAGER) for size, port in ports.items()}
        rounds = []
        for number in range(1, args.rounds + 1):
            rounds.append(measure(browsers, TARGETS, args))
            print(
                f"round {number}: "
                + "  ".join(f"{k[0]} {k[1]} p95 {r['p95_ms']:.1f}" for k, r in rounds[-1].items()),
                flush=True,
            )
    pages = summarise(rounds)
    report_p95 = {size: pages[(size, "chat report")]["p95_ms"] for size in sizes}
    figures = {
        f"chat report: p95 {large}/{small}": report_p95[large] / report_p95[small],
        f"chat report: p95 {large}/static": report_p95[large]
        / pages[(large, "static page")]["p95_ms"],
        f"chat report: p95 {small}/static": report_p95[small]
        / pages[(small, "static page")]["p95_ms"],
        f"{large}: roll-up build / hand SQL, p95": built["roll-up build"]["p95_ms"]
        / built["hand SQL"]["p95_ms"],
    }
    if load_before > 0.5:
        print(f"\nwarning: load average {load_before:.2f} at start; other work skews the figures")
    for size, timings in prepared.items():
        print(f"{size}: seeded in {timings['total_s']:.1f} s")
    for size, row in counted.items():
        print(f"{size}: " + ", ".join(f"{n:,} {t}" for t, n in row.items()))
    for size, seconds in rebuilt.items():
        print(f"{size}: roll-ups rebuilt (set-based, every family) in {seconds:.1f} s")
    print(f"\n{'measured':<30} {'p50 ms':>8} {'p95 ms':>8}")
    for (size, target), row in pages.items():
        print(f"{size + ' ' + target:<30} {row['p50_ms']:8.2f} {row['p95_ms']:8.2f}")
    for name, row in built.items():
        print(f"{large + ' ' + name:<30} {row['p50_ms']:8.2f} {row['p95_ms']:8.2f}")
    print()
    for name, value in figures.items():
        print(f"{name:<42} {value:6.2f}")
    print(f"\nwall time {time.perf_counter() - started:.0f} s")
    results = {
        "settings": vars(args),
        "load_avg_1m_before": load_before,
        "prepared": prepared,
        "rows": counted,
        "rebuild_s": rebuilt,
        "pages": {f"{size} {target}": row for (size, target), row in pages.items()},
        "builds": built,
        "ratios": figures,
    }
    (RESULTS / "chat_reports.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {RESULTS / 'chat_reports.json'}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit("interrupted: servers stopped, no results written")
