"""Next call's claim with ten advocates at once against the same claim by hand, and the queue page.

Seeds a million contacts and 100k due calls (bench/claims_seed.py on bench.search's seed)
and a 10k database with 1k, then: ten threads, each an advocate, claim one call after
another through the app's own claim_next_call; the same ten run the same claim written by
hand in plain SQL (bench/claims_by_hand.py: every rule, no ORM); and the same ten run the
floor, a bare UPDATE ... SKIP LOCKED with none of the queue's rules; rounds alternating.
p50/p95 per claim, the ratio real/by hand (goal <= 3), the floor ratios for information, and
a check that no task was handed out twice. Then GET /advocate/queue for a
signed-in advocate over HTTP at 1M and at 10k (goal p95 ratio <= 1.2), a static page in
between, and the plans of the claim and of the page's queries at 1M.

    .venv/bin/python -m bench.claims                      # a few minutes on 2 cores
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from types import SimpleNamespace

if __package__ in (None, ""):  # run as `python bench/claims.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from bench import claims_seed
from bench.claims_by_hand import by_hand_claims
from bench.claims_load import bare_claims, real_claims
from bench.claims_plans import plans, print_plans
from bench.run import RESULTS, serve
from bench.settings import server_env
from bench.staff_bench import database_sizes, measure, p95, prepare, sign_in, summarise, verdict

DEFAULT_DB = "postgresql+psycopg://postgres@127.0.0.1:5432/crm_bench_claims"
DEFAULT_REDIS = "redis://127.0.0.1:6379/12"
GOAL_CLAIM, GOAL_FLAT = 3.0, 1.2
# The floor (no rules), the app's whole claim written by hand in SQL, and the app itself.
CLAIM_KINDS = ("bare", "by hand", "real")
TARGETS = {"queue page": ["/advocate/queue"], "static page": ["/"]}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=1_000_000, help="the large database")
    parser.add_argument("--small", type=int, default=10_000, help="the small database")
    parser.add_argument("--claims", type=int, default=15, help="per advocate and round")
    parser.add_argument("--claim-rounds", type=int, default=2, help="bare, by hand, real, bare ...")
    parser.add_argument("--requests", type=int, default=40, help="page requests per round")
    parser.add_argument("--warmup", type=int, default=5, help="unmeasured requests per target")
    parser.add_argument("--rounds", type=int, default=2, help="page rounds")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads")
    parser.add_argument("--database-url", default=DEFAULT_DB, help="the large one; +_small")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS)
    parser.add_argument(
        "--statement-timeout-ms",
        type=int,
        help="the claiming app's DB_STATEMENT_TIMEOUT_MS (default: the app's own, 5000)",
    )
    parser.add_argument("--skip-seed", action="store_true", help="reuse the databases as left")
    return parser.parse_args(argv)


def seed(url: str, contacts: int, env: dict[str, str]) -> dict[str, float]:
    timings = prepare(
        url,
        contacts,
        env,
        columns=claims_seed.COLUMNS,
        related=[claims_seed.CONSENT_SQL],
        after_migrations=[claims_seed.CALL_TASKS_SQL, claims_seed.advocates_sql()],
    )
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        timings["due_calls"] = connection.execute(
            sa.text("SELECT count(*) FROM call_tasks WHERE status = 'open'")
        ).scalar_one()
    engine.dispose()
    return timings


def claimers(url: str) -> list[int]:
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        ids = connection.execute(
            sa.text("SELECT id FROM users WHERE email LIKE 'bench-claimer-%' ORDER BY id")
        ).scalars()
        ids = list(ids)
    engine.dispose()
    return ids


def claim_rounds(app, url: str, user_ids: list[int], args) -> dict:
    """Bare and real rounds alternating; per kind the median p50/p95 of rounds and every id."""
    lease = app.config["CALL_LEASE_MINUTES"]
    per_kind = {kind: [] for kind in CLAIM_KINDS}
    claimed = {kind: [] for kind in CLAIM_KINDS}
    empty = dict.fromkeys(CLAIM_KINDS, 0)
    timed_out = dict.fromkeys(CLAIM_KINDS, 0)
    for number in range(1, args.claim_rounds + 1):
        for kind in CLAIM_KINDS:
            started = time.perf_counter()
            if kind == "bare":
                outcome = bare_claims(url, user_ids, args.claims, lease)
            elif kind == "by hand":
                outcome = by_hand_claims(app, url, user_ids, args.claims, lease)
            else:
                outcome = real_claims(app, user_ids, args.claims)
            wall = time.perf_counter() - started
            values = outcome.latencies_ms
            figures = {"p50_ms": statistics.median(values), "p95_ms": p95(values)}
            per_kind[kind].append(figures)
            claimed[kind] += outcome.claimed
            empty[kind] += outcome.empty
            timed_out[kind] += outcome.timed_out
            print(
                f"claim round {number} {kind:<7}: {len(values)} claims in {wall:.1f} s, "
                f"p50 {figures['p50_ms']:.2f} ms, p95 {figures['p95_ms']:.2f} ms, "
                f"{outcome.timed_out} cancelled by the statement timeout",
                flush=True,
            )
    result = {}
    for kind, rounds in per_kind.items():
        result[kind] = {
            "p50_ms": statistics.median(r["p50_ms"] for r in rounds),
            "p95_ms": statistics.median(r["p95_ms"] for r in rounds),
            "claims": len(claimed[kind]) + empty[kind] + timed_out[kind],
            "found_nothing": empty[kind],
            "timed_out": timed_out[kind],
            "double_claims": len(claimed[kind]) - len(set(claimed[kind])),
        }
    every = claimed["bare"] + claimed["real"]
    result["double_claims_across_both"] = len(every) - len(set(every))
    result["claimed_ids"] = {kind: len(ids) for kind, ids in claimed.items()}
    return result


def report(claims: dict, pages: dict, large: str, small: str, prepared: dict) -> dict:
    for size, timings in prepared.items():
        print(
            f"{size}: contacts seeded in {timings['seed_s']:.1f} s, migration 0007 in "
            f"{timings['migration_0007_s']:.1f} s, due calls + advocates in "
            f"{timings['after_migrations_s']:.1f} s; {timings['due_calls']:,} open due calls"
        )
    print(f"\n{'claim (10 advocates at once)':<30} {'p50 ms':>8} {'p95 ms':>8} {'claims':>7}"
          f" {'found nothing':>14} {'timed out':>10} {'double claims':>14}")  # fmt: skip
    for kind in CLAIM_KINDS:
        row = claims[kind]
        print(
            f"{kind:<30} {row['p50_ms']:8.2f} {row['p95_ms']:8.2f} {row['claims']:7d} "
            f"{row['found_nothing']:14d} {row['timed_out']:10d} {row['double_claims']:14d}"
        )
    print(f"\n{'page':<30} {'p50 ms':>8} {'p95 ms':>8} {'rows/page':>10}")
    for (size, target), row in pages.items():
        print(
            f"{size + ' ' + target:<30} {row['p50_ms']:8.2f} {row['p95_ms']:8.2f} "
            f"{row['rows_per_page']:10.1f}"
        )
    queue = "queue page"
    figures = {
        # The "bare claim SQL": the same claim, rules and all, by hand in plain SQL.
        "claim: p95 real/by hand": (
            claims["real"]["p95_ms"] / claims["by hand"]["p95_ms"],
            GOAL_CLAIM,
        ),
        "claim: p50 real/by hand": (
            claims["real"]["p50_ms"] / claims["by hand"]["p50_ms"],
            None,
        ),
        # What the queue's rules cost over a claim with none (oldest due first, nothing else).
        "claim: p95 real/bare floor": (claims["real"]["p95_ms"] / claims["bare"]["p95_ms"], None),
        "claim: p95 by hand/bare floor": (
            claims["by hand"]["p95_ms"] / claims["bare"]["p95_ms"],
            None,
        ),
        f"queue page: p95 {large}/{small}": (
            pages[(large, queue)]["p95_ms"] / pages[(small, queue)]["p95_ms"],
            GOAL_FLAT,
        ),
        f"queue page: p95 {large}/static": (
            pages[(large, queue)]["p95_ms"] / pages[(large, "static page")]["p95_ms"],
            None,
        ),
        f"queue page: p95 {small}/static": (
            pages[(small, queue)]["p95_ms"] / pages[(small, "static page")]["p95_ms"],
            None,
        ),
    }
    print()
    for name, (value, goal) in figures.items():
        print(f"{name:<36} {value:7.2f}  ({verdict(value, goal)})")
    doubles = claims["double_claims_across_both"]
    met_zero = "met" if doubles == 0 else "MISSED"
    ids = claims["claimed_ids"]
    print(f"{'double claims (every returned id)':<36} {doubles:7d}  (goal 0: {met_zero}, over "
          + ", ".join(f"{ids[kind]} {kind}" for kind in CLAIM_KINDS) + " claimed ids)")  # fmt: skip
    return {name: value for name, (value, _) in figures.items()}


def main(argv=None) -> int:
    args = parse_args(argv)
    sizes = database_sizes(args)
    large_url = next(iter(sizes.values()))[0]
    large, small = list(sizes)
    RESULTS.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    with (
        tempfile.TemporaryDirectory(prefix="crm-bench-claims-") as instance_dir,
        ExitStack() as stack,
    ):
        envs = {
            size: server_env(url, args.redis_url, instance_dir) for size, (url, _) in sizes.items()
        }
        prepared = {}
        if not args.skip_seed:
            for size, (url, contacts) in sizes.items():
                print(
                    f"seeding {contacts:,} contacts into {make_url(url).database} ...", flush=True
                )
                prepared[size] = seed(url, contacts, envs[size])
        # The app in this process, configured as the served one: only now, with the settings set.
        os.environ.update(envs[large])
        from crm import create_app

        overrides = {"SQLALCHEMY_DATABASE_URI": large_url}
        if args.statement_timeout_ms:
            overrides["DB_STATEMENT_TIMEOUT_MS"] = args.statement_timeout_ms
        app = create_app("development", overrides)
        user_ids = claimers(large_url)
        found = plans(app, user_ids)
        claims = claim_rounds(app, large_url, user_ids, args)
        with app.app_context():
            from crm.extensions import db

            db.engine.dispose()
        server = SimpleNamespace(workers=args.workers, threads=args.threads)
        ports = {
            size: stack.enter_context(serve("real", server, envs[size], f"claims-{size}"))[0]
            for size in sizes
        }
        browsers = {size: sign_in(port) for size, port in ports.items()}
        rounds = []
        for number in range(1, args.rounds + 1):
            rounds.append(measure(browsers, TARGETS, args))
            print(
                f"page round {number}: "
                + "  ".join(f"{k[0]} {k[1]} p95 {r['p95_ms']:.1f}" for k, r in rounds[-1].items()),
                flush=True,
            )
    pages = summarise(rounds)
    print_plans(found, args.contacts)
    if load_before > 0.5:
        print(f"\nwarning: load average {load_before:.2f} at start; other work skews the figures")
    print()
    figures = report(claims, pages, large, small, prepared)
    print(f"\nwall time {time.perf_counter() - started:.0f} s")
    results = {
        "settings": vars(args),
        "load_avg_1m_before": load_before,
        "prepared": prepared,
        "claims": claims,
        "pages": {f"{size} {target}": row for (size, target), row in pages.items()},
        "ratios": figures,
        "plans": found,
    }
    (RESULTS / "claims.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {RESULTS / 'claims.json'}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit("interrupted: servers stopped, no results written")
