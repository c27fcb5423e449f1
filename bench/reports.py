"""Manager report pages at a million contacts and ~10M events against 10k, and a static page.

Seeds two databases with bench.claims' contacts, queue and advocates plus attribution, owners
and about ten stage changes and calls per contact (bench/reports_seed.py), all with
INSERT ... SELECT FROM generate_series; rebuilds the roll-ups (timed); prints the plans of the
board's and the roll-up reads at 1M; serves the real app on each, signs a manager in and
times the report pages that exist in this app (the board; the funnel and speed-to-lead
pages once they are there) against the static page, interleaved request by request. Prints
p95 1M / 10k (goal <= 1.2) and p95 / the static page's p95 (goal <= 3).

    .venv/bin/python -m bench.reports                     # about 4.5 minutes on 2 cores
"""

import argparse
import json
import os
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from types import SimpleNamespace

if __package__ in (None, ""):  # run as `python bench/reports.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from bench import claims_seed, reports_seed
from bench.reports_plans import plans, print_plans
from bench.run import RESULTS, serve
from bench.settings import server_env
from bench.staff_bench import (
    MANAGER,
    create_user,
    database_sizes,
    measure,
    prepare,
    sign_in,
    summarise,
    verdict,
)

DEFAULT_DB = "postgresql+psycopg://postgres@127.0.0.1:5432/crm_bench_reports"
DEFAULT_REDIS = "redis://127.0.0.1:6379/12"
GOAL_FLAT, GOAL_STATIC = 1.2, 3.0
STATIC = "static page"
# Each page measured if this app has it (the funnel and speed pages land separately).
TARGETS = {
    "board": "/manager/board",
    "funnel": "/manager/",
    "speed": "/manager/speed",
    # Not goals of the issue, for information: the largest breakdown the slices serve, and a
    # filter with a breakdown, which reads funnel_daily (two dimensions at once).
    "funnel by campaign": "/manager/?by=campaign",
    "funnel, one source": "/manager/?source=google&by=campaign",
    STATIC: "/",
}
INFORMATION_ONLY = ("funnel by campaign", "funnel, one source")
COUNTED = ("contacts", "stage_changes", "calls", "call_tasks")
ROLLUPS = (
    "rollup_contacts",
    "contact_milestones",
    "funnel_daily",
    "speed_daily",
    "call_daily",
    "report_slices",
)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=1_000_000, help="the large database")
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


def _counts(url: str, tables) -> dict[str, int]:
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        counts = {
            t: connection.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one() for t in tables
        }
    engine.dispose()
    return counts


def seed(url: str, contacts: int, env: dict[str, str]) -> dict:
    started = time.perf_counter()
    timings = prepare(
        url,
        contacts,
        env,
        columns={**claims_seed.COLUMNS, **reports_seed.COLUMNS},
        related=[claims_seed.CONSENT_SQL],
        after_migrations=[
            claims_seed.advocates_sql(),  # first: the owners' ids are 1 to 10
            claims_seed.CALL_TASKS_SQL,  # with the triggers that copy routing facts to tasks
            # A bulk load from here: no foreign-key triggers, every row references rows that exist.
            "SET LOCAL session_replication_role = replica",
            reports_seed.STAGE_CHANGES_SQL,
            reports_seed.CALLS_SQL,
            *reports_seed.BREACHES_SQL,
        ],
    )
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        owners = connection.execute(sa.text(reports_seed.CHECK_OWNERS_SQL)).scalar_one()
    engine.dispose()
    if owners != claims_seed.CLAIMERS:
        raise SystemExit("the owners seeded are not the claim advocates (ids 1 to 10)")
    create_user(env, MANAGER, "Morgan Bencher", "manager")
    return timings | {"total_s": time.perf_counter() - started}


def rebuild(app) -> float:
    """`flask crm rebuild-rollups`' work, timed, in this process."""
    from crm.extensions import db
    from crm.services import rollups

    with app.app_context():
        started = time.perf_counter()
        rollups.rebuild()
        elapsed = time.perf_counter() - started
        db.session.remove()
        db.engine.dispose()
    return elapsed


def available(app) -> tuple[dict[str, list[str]], list[str]]:
    """The targets whose page this app serves, and the names of those it does not."""
    from werkzeug.exceptions import HTTPException

    adapter = app.url_map.bind("localhost")
    found, missing = {}, []
    for name, path in TARGETS.items():
        try:
            adapter.match(path.split("?")[0], method="GET")
            found[name] = [path]
        except HTTPException:  # no such page (or only a redirect to one)
            missing.append(name)
    return found, missing


def ratios(pages: dict, targets, large: str, small: str) -> dict[str, tuple[float, float | None]]:
    figures = {}
    for target in targets:
        if target == STATIC:
            continue
        p95 = {size: pages[(size, target)]["p95_ms"] for size in (large, small)}
        goals = (None, None) if target in INFORMATION_ONLY else (GOAL_FLAT, GOAL_STATIC)
        figures[f"{target}: p95 {large}/{small}"] = (p95[large] / p95[small], goals[0])
        figures[f"{target}: p95 {large}/static"] = (
            p95[large] / pages[(large, STATIC)]["p95_ms"],
            goals[1],
        )
        figures[f"{target}: p95 {small}/static"] = (
            p95[small] / pages[(small, STATIC)]["p95_ms"],
            None,
        )
    return figures


def report(pages: dict, figures: dict, prepared: dict, rebuilt: dict, sizes: dict) -> None:
    for size, timings in prepared.items():
        print(
            f"{size}: contacts, submissions, consents seeded in {timings['seed_s']:.1f} s, "
            f"search indexes (0007) {timings['migration_0007_s']:.1f} s, advocates, due calls "
            f"and events {timings['after_migrations_s']:.1f} s; {timings['total_s']:.1f} s "
            "with VACUUM ANALYZE and users"
        )
    for size, row in sizes.items():
        print(f"{size}: " + ", ".join(f"{n:,} {t}" for t, n in row.items()))
    for size, seconds in rebuilt.items():
        print(f"{size}: roll-ups rebuilt (set-based) in {seconds:.1f} s")
    print(f"\n{'page':<30} {'p50 ms':>8} {'p95 ms':>8}")
    for (size, target), row in pages.items():
        print(f"{size + ' ' + target:<30} {row['p50_ms']:8.2f} {row['p95_ms']:8.2f}")
    print()
    for name, (value, goal) in figures.items():
        print(f"{name:<42} {value:6.2f}  ({verdict(value, goal)})")


def main(argv=None) -> int:
    args = parse_args(argv)
    sizes = database_sizes(args)
    large, small = list(sizes)
    RESULTS.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    with (
        tempfile.TemporaryDirectory(prefix="crm-bench-reports-") as instance_dir,
        ExitStack() as stack,
    ):
        envs = {
            size: server_env(url, args.redis_url, instance_dir) for size, (url, _) in sizes.items()
        }
        prepared, rebuilt = {}, {}
        for size, (url, contacts) in sizes.items():
            if not args.skip_seed:
                print(
                    f"seeding {contacts:,} contacts into {make_url(url).database} ...", flush=True
                )
                prepared[size] = seed(url, contacts, envs[size])
        # The app in this process, configured as the served one: only now, with the settings set.
        os.environ.update(envs[large])
        from crm import create_app

        apps = {
            size: create_app("development", {"SQLALCHEMY_DATABASE_URI": url})
            for size, (url, _) in sizes.items()
        }
        for size, app in apps.items():
            print(f"rebuilding the roll-ups at {size} ...", flush=True)
            rebuilt[size] = rebuild(app)
        counted = {size: _counts(url, COUNTED + ROLLUPS) for size, (url, _) in sizes.items()}
        found = plans(apps[large])
        targets, missing = available(apps[large])
        server = SimpleNamespace(workers=args.workers, threads=args.threads)
        ports = {
            size: stack.enter_context(serve("real", server, envs[size], f"reports-{size}"))[0]
            for size in sizes
        }
        browsers = {size: sign_in(port, MANAGER) for size, port in ports.items()}
        rounds = []
        for number in range(1, args.rounds + 1):
            rounds.append(measure(browsers, targets, args))
            print(
                f"round {number}: "
                + "  ".join(f"{k[0]} {k[1]} p95 {r['p95_ms']:.1f}" for k, r in rounds[-1].items()),
                flush=True,
            )
    pages = summarise(rounds)
    figures = ratios(pages, targets, large, small)
    print_plans(found, args.contacts)
    if missing:
        print(f"\nnot measured (no such page in this app yet): {', '.join(missing)}")
    if load_before > 0.5:
        print(f"\nwarning: load average {load_before:.2f} at start; other work skews the figures")
    print()
    report(pages, figures, prepared, rebuilt, counted)
    print(f"\nwall time {time.perf_counter() - started:.0f} s")
    results = {
        "settings": vars(args),
        "load_avg_1m_before": load_before,
        "prepared": prepared,
        "rows": counted,
        "rebuild_s": rebuilt,
        "measured": list(targets),
        "not_measured": missing,
        "pages": {f"{size} {target}": row for (size, target), row in pages.items()},
        "ratios": {name: value for name, (value, _) in figures.items()},
        "plans": found,
    }
    (RESULTS / "reports.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {RESULTS / 'reports.json'}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit("interrupted: servers stopped, no results written")
