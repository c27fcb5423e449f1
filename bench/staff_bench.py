"""What the staff-page benchmarks share: a seeded database, a signed-in browser, interleaved timing.

bench.search, bench.claims and bench.reports seed contacts with one INSERT ... SELECT FROM
generate_series (bench/search_seed.py), serve the real app, sign the bench advocate in
through the login form and time pages one request after another, targets interleaved.
"""

import re
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence

import sqlalchemy as sa

from bench.load import Browser, hidden_fields
from bench.run import RESULTS, ROOT, recreate_database
from bench.search_seed import RELATED_SQL, contacts_sql

ADVOCATE = ("bench-advocate@example.org", "correct horse battery staple 9")
MANAGER = ("bench-manager@example.org", "correct horse battery staple 9")


def flask(env: dict[str, str], *arguments: str) -> None:
    command = [sys.executable, "-m", "flask", "--app", "wsgi", *arguments]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"flask {' '.join(arguments[:3])} failed:\n{done.stderr[-2000:]}")


def prepare(
    url: str,
    contacts: int,
    env: dict[str, str],
    *,
    columns: dict[str, str] | None = None,
    related: Sequence[str] = (),
    after_migrations: Sequence[str] = (),
    parameters: dict | None = None,
) -> dict[str, float]:
    """A database with `contacts` contacts, the search indexes built on them, and an advocate.

    `columns` adds contact columns to the seed (SQL over the row number g), `related` runs
    after the contacts in the same bulk load, `after_migrations` once every migration ran.
    """
    recreate_database(url)
    flask(env, "db", "upgrade", "0007-1")  # all but the search migration
    engine = sa.create_engine(url)
    values = {"contacts": contacts, **(parameters or {})}
    started = time.perf_counter()
    with engine.begin() as connection:
        # A bulk load, as pg_restore does it: no foreign-key triggers (each row is built
        # to reference rows that exist), which would look up a million parents one by one.
        connection.execute(sa.text("SET LOCAL session_replication_role = replica"))
        connection.execute(sa.text(contacts_sql(columns)), values)
        for statement in [*RELATED_SQL, *related]:
            connection.execute(sa.text(statement), values)
    seeded = time.perf_counter()
    flask(env, "db", "upgrade", "0007")  # CREATE INDEX CONCURRENTLY on the seeded contacts
    migrated = time.perf_counter()
    flask(env, "db", "upgrade")  # whatever came after
    with engine.begin() as connection:
        for statement in after_migrations:
            connection.execute(sa.text(statement), values)
    finished = time.perf_counter()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(sa.text("VACUUM ANALYZE"))
    engine.dispose()
    create_user(env, ADVOCATE, "Pat Bencher", "advocate")
    return {
        "seed_s": seeded - started,
        "migration_0007_s": migrated - seeded,
        "after_migrations_s": finished - migrated,
    }


def create_user(env: dict[str, str], credentials: tuple[str, str], name: str, role: str) -> None:
    email, password = credentials
    flask(env, "crm", "create-user", "--email", email, "--name", name,
          "--role", role, "--password", password)  # fmt: skip


def sign_in(port: int, credentials: tuple[str, str] = ADVOCATE) -> Browser:
    """A browser signed in (as the bench advocate unless told) through the real login form."""
    browser = Browser(port)
    status, page = browser.request("GET", "/login")
    action, fields = hidden_fields(page)
    email, password = credentials
    status, _ = browser.request(
        "POST", action or "/login", {**fields, "email": email, "password": password}
    )
    if status != 302:
        raise SystemExit(f"sign-in answered {status}, not 302: see {RESULTS}/gunicorn-*.log")
    return browser


def p95(values: Sequence[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def measure(browsers: dict[str, Browser], targets: dict[str, list[str]], args) -> dict:
    """One round: every (size, target) once per step, in turn; latencies after the warm-up."""
    latencies = {(size, t): [] for size in browsers for t in targets}
    rows = {key: [] for key in latencies}
    for step in range(args.warmup + args.requests):
        for (size, target), measured in latencies.items():
            urls = targets[target]
            started = time.perf_counter()
            status, page = browsers[size].request("GET", urls[step % len(urls)])
            elapsed = time.perf_counter() - started
            if status != 200:
                raise SystemExit(f"{size} {target}: {urls[step % len(urls)]} answered {status}")
            if step >= args.warmup:
                measured.append(elapsed * 1000)
                rows[(size, target)].append(page.count('href="/contacts/'))
    return {
        key: {
            "p50_ms": statistics.median(values),
            "p95_ms": p95(values),
            "rows_per_page": statistics.mean(rows[key]),
        }
        for key, values in latencies.items()
    }


def summarise(rounds: list[dict]) -> dict:
    """The median over the rounds of each figure of each (size, target)."""
    return {
        key: {
            figure: statistics.median(r[key][figure] for r in rounds) for figure in rounds[0][key]
        }
        for key in rounds[0]
    }


def explain(connection, statement: str, parameters) -> dict:
    """EXPLAIN (ANALYZE, BUFFERS) of a statement the app sent, as its driver sent it."""
    analysed = f"EXPLAIN (ANALYZE, BUFFERS) {statement}"
    lines = [row[0] for row in connection.exec_driver_sql(analysed, parameters).all()]
    text = "\n".join(lines)
    return {
        "execution_ms": float(re.search(r"Execution Time: ([\d.]+) ms", text).group(1)),
        "seq_scans": sorted(set(re.findall(r"Seq Scan on (\w+)", text))),
        "plan": lines,
    }


def database_sizes(args) -> dict[str, tuple[str, int]]:
    """The large and small databases a run seeds: {"1000k": (url, contacts), "10k": ...}."""
    from sqlalchemy.engine import make_url

    from config import normalise_database_url

    large = normalise_database_url(args.database_url)
    small = str(make_url(large).set(database=make_url(large).database + "_small"))
    return {
        f"{args.contacts // 1000}k": (large, args.contacts),
        f"{args.small // 1000}k": (small, args.small),
    }


def verdict(value: float, goal: float | None) -> str:
    """How a ratio stands against its goal (None: printed for information only)."""
    if goal is None:
        return "for information"
    return f"goal <= {goal}: " + ("met" if value <= goal else "MISSED")
