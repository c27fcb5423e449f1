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
from bench.chat_reports_seed import AFTER, CHATS_SQL, CONTACTS, HAND_SQL, MESSAGES_SQL
from bench.reports import GOAL_FLAT, GOAL_STATIC, _counts, rebuild
from bench.run import RESULTS, serve
from bench.settings import server_env
from bench.staff_bench import (
    MANAGER,
    create_user,
    measure,
    p95,
    prepare,
    sign_in,
    summarise,
    verdict,
)
from config import normalise_database_url

DEFAULT_DB = "postgresql+psycopg://postgres@127.0.0.1:5432/crm_bench_chats"
DEFAULT_REDIS = "redis://127.0.0.1:6379/14"
TARGETS = {"chat report": ["/manager/chats"], "static page": ["/"]}
COUNTED = ("chats", "chat_messages", "rollup_chats", "chat_daily")


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
        counted = {size: _counts(url, COUNTED) for size, (url, _) in sizes.items()}
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
    static = {size: pages[(size, "static page")]["p95_ms"] for size in sizes}
    # name -> (ratio, goal): the report pages' goals of issue 9, and two for information.
    figures = {
        f"chat report: p95 {large}/{small}": (report_p95[large] / report_p95[small], GOAL_FLAT),
        f"chat report: p95 {large}/static": (report_p95[large] / static[large], GOAL_STATIC),
        f"chat report: p95 {small}/static": (report_p95[small] / static[small], None),
        f"{large}: roll-up build / hand SQL, p95": (
            built["roll-up build"]["p95_ms"] / built["hand SQL"]["p95_ms"],
            None,
        ),
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
    for name, (value, goal) in figures.items():
        print(f"{name:<42} {value:6.2f}  ({verdict(value, goal)})")
    print(f"\nwall time {time.perf_counter() - started:.0f} s")
    results = {
        "settings": vars(args),
        "load_avg_1m_before": load_before,
        "prepared": prepared,
        "rows": counted,
        "rebuild_s": rebuilt,
        "pages": {f"{size} {target}": row for (size, target), row in pages.items()},
        "builds": built,
        "ratios": {name: value for name, (value, _) in figures.items()},
    }
    (RESULTS / "chat_reports.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {RESULTS / 'chat_reports.json'}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit("interrupted: servers stopped, no results written")
