"""Staff contact search at a million contacts against ten thousand, and against a static page.

Seeds two PostgreSQL databases with one INSERT ... SELECT FROM generate_series each (the
first 10,000 rows of the million are the small one), builds the search indexes with the
real migration (timed), serves the real app on each with gunicorn, signs an advocate in
through the login form and times GET /contacts?q=... for each kind of search, one request
after another, targets interleaved request by request, so that whatever else the machine
does falls on every target alike. Prints p50/p95 per target, the ratios p95 at 1M / p95 at
10k (goal <= 1.2) and p95 / the static page's p95 (goal <= 3), and the plans PostgreSQL ran.

    .venv/bin/python -m bench.search                     # about three minutes
"""

import argparse
import json
import os
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlencode

if __package__ in (None, ""):  # run as `python bench/search.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from bench.run import RESULTS, serve
from bench.search_plans import print_plans, search_plans
from bench.settings import server_env
from bench.staff_bench import database_sizes, measure, prepare, sign_in, summarise, verdict

DEFAULT_DB = "postgresql+psycopg://postgres@127.0.0.1:5432/crm_bench_search"
DEFAULT_REDIS = "redis://127.0.0.1:6379/12"
GOAL_FLAT, GOAL_STATIC = 1.2, 3.0
KINDS = ("name", "surname", "email", "phone last 4", "phone")
STATIC = "static page"
STAFF_PAGE = "empty search page"


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=1_000_000, help="the large database")
    parser.add_argument("--small", type=int, default=10_000, help="the small database")
    parser.add_argument("--requests", type=int, default=200, help="measured, per target and round")
    parser.add_argument("--warmup", type=int, default=20, help="unmeasured requests per target")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads")
    parser.add_argument("--database-url", default=DEFAULT_DB, help="the large one; +_small")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS)
    return parser.parse_args(argv)


def sample_queries(url: str, small: int, count: int) -> tuple[dict[str, list[str]], list[int]]:
    """What staff type for `count` contacts that exist in both databases; and their ids."""
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text(
                "SELECT id, first_name, last_name, email, phone_e164 FROM contacts"
                " WHERE id <= :small AND email IS NOT NULL AND phone_e164 IS NOT NULL"
                " ORDER BY hashint4(id) LIMIT :count"
            ),
            {"small": small, "count": count},
        ).all()
    engine.dispose()
    phones = [row.phone_e164[2:] for row in rows]  # +1 dropped, as staff would type it
    queries = {
        "name": [f"{row.first_name} {row.last_name}" for row in rows],
        "surname": [row.last_name for row in rows],
        "email": [row.email for row in rows],
        "phone last 4": [phone[-4:] for phone in phones],
        "phone": [f"({p[:3]}) {p[3:6]}-{p[6:]}" for p in phones],
    }
    return queries, [row.id for row in rows]


def paths(
    queries: dict[str, list[str]], ids: list[int], contact_page: bool
) -> dict[str, list[str]]:
    """The URLs each target cycles through."""
    targets = {kind: [f"/contacts?{urlencode({'q': q})}" for q in queries[kind]] for kind in KINDS}
    if contact_page:
        targets["contact page"] = [f"/contacts/{contact_id}" for contact_id in ids]
    targets[STAFF_PAGE] = ["/contacts"]  # signed in, no query: no search, no audit row
    targets[STATIC] = ["/"]
    return targets


def ratios(summary: dict, targets, large: str, small: str) -> dict[str, float]:
    figures = {}
    for target in targets:
        if target in (STATIC, STAFF_PAGE):
            continue
        p95 = summary[(large, target)]["p95_ms"]
        figures[f"{target}: p95 {large}/{small}"] = p95 / summary[(small, target)]["p95_ms"]
        figures[f"{target}: p95 {large}/static"] = p95 / summary[(large, STATIC)]["p95_ms"]
        # For information: what the search adds to a signed-in staff page that reads nothing.
        figures[f"{target}: p95 {large}/empty"] = p95 / summary[(large, STAFF_PAGE)]["p95_ms"]
    return figures


def report(summary: dict, figures: dict[str, float], prepared: dict) -> None:
    for size, timings in prepared.items():
        print(
            f"{size}: seeded (with a submission, a consent and an event each) in "
            f"{timings['seed_s']:.1f} s, migration 0007 (indexes built "
            f"concurrently) in {timings['migration_0007_s']:.1f} s"
        )
    print(f"\n{'target':<28} {'p50 ms':>8} {'p95 ms':>8} {'rows/page':>10}")
    for (size, target), row in summary.items():
        print(
            f"{size + ' ' + target:<28} {row['p50_ms']:8.2f} {row['p95_ms']:8.2f} "
            f"{row['rows_per_page']:10.1f}"
        )
    print()
    for name, value in figures.items():
        goal = (
            GOAL_STATIC
            if name.endswith("/static")
            else None
            if name.endswith("/empty")
            else GOAL_FLAT
        )
        print(f"{name:<36} {value:5.2f}  ({verdict(value, goal)})")


def main(argv=None) -> int:
    args = parse_args(argv)
    sizes = database_sizes(args)
    large_url = next(iter(sizes.values()))[0]
    RESULTS.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()[0]
    with (
        tempfile.TemporaryDirectory(prefix="crm-bench-search-") as instance_dir,
        ExitStack() as stack,
    ):
        envs = {
            size: server_env(url, args.redis_url, instance_dir) for size, (url, _) in sizes.items()
        }
        prepared = {}
        for size, (url, contacts) in sizes.items():
            print(f"seeding {contacts:,} contacts into {make_url(url).database} ...", flush=True)
            prepared[size] = prepare(url, contacts, envs[size])
        queries, ids = sample_queries(large_url, args.small, args.requests)
        plans = search_plans(large_url, {kind: values[0] for kind, values in queries.items()})
        server = SimpleNamespace(workers=args.workers, threads=args.threads)
        ports = {
            size: stack.enter_context(serve("real", server, envs[size], f"search-{size}"))[0]
            for size in sizes
        }
        browsers = {size: sign_in(port) for size, port in ports.items()}
        large = next(iter(sizes))
        contact_page = browsers[large].request("GET", f"/contacts/{ids[0]}")[0] == 200
        targets = paths(queries, ids, contact_page)
        rounds = []
        for number in range(1, args.rounds + 1):
            rounds.append(measure(browsers, targets, args))
            shown = [(key, r) for key, r in rounds[-1].items() if key[1] in ("name", STATIC)]
            print(
                f"round {number}: "
                + "  ".join(f"{k[0]} {k[1]} p95 {r['p95_ms']:.1f}" for k, r in shown)
            )
    summary = summarise(rounds)
    small = list(sizes)[1]
    figures = ratios(summary, targets, large, small)
    print_plans(plans, args.contacts)
    if not contact_page:
        print("\ncontact page: not measured (GET /contacts/<id> is not on this branch yet)")
    if load_before > 0.5:
        print(f"\nwarning: load average {load_before:.2f} at start; other work skews the figures")
    print()
    report(summary, figures, prepared)
    results = {
        "settings": vars(args),
        "load_avg_1m_before": load_before,
        "prepared": prepared,
        "summary": {f"{size} {target}": row for (size, target), row in summary.items()},
        "ratios": figures,
        "plans": plans,
    }
    (RESULTS / "search.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {RESULTS / 'search.json'}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit("interrupted: servers stopped, no results written")
