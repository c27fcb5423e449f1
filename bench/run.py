"""One command: the real /callback submit against a bare one-INSERT endpoint and a hand floor.

Recreates an empty bench database (migrations only, no seed data), serves the three apps
under the same gunicorn settings, loads the targets alternately from 127.0.0.1 (bare,
hand, submit, page+submit: alternating evens out drift on a small, noisy machine), prints
submits/s, p50/p99, the submit/bare and submit/hand ratios and the RSS of every server
process, writes bench/results/latest.json and checks that every 303 stored exactly one
submission.

    .venv/bin/python -m bench.run --seconds 15
"""

import argparse
import http.client
import itertools
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path

if __package__ in (None, ""):  # run as `python bench/run.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import redis
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from bench import report
from bench.bare_app import CREATE_TABLE, TABLE
from bench.cpu import CpuMeter
from bench.hand_app import KEY_PREFIX
from bench.load import run_round
from bench.memory import print_memory, process_memory
from bench.settings import DEFAULT_DB, DEFAULT_REDIS, server_env
from bench.tokens import fresh_form_token
from config import normalise_database_url

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
SERVERS = {
    "bare": ("bench.bare_app:app", "/"),
    "hand": ("bench.hand_app:app", "/"),
    "real": ("wsgi:app", "/callback"),
}
# target -> server
TARGETS = {"bare": "bare", "hand": "hand", "submit": "real", "page+submit": "real"}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20, help="measured seconds per round")
    parser.add_argument("--warmup", type=float, default=3, help="unmeasured seconds first")
    parser.add_argument("--rounds", type=int, default=2, help="rounds per target, alternating")
    parser.add_argument("--concurrency", type=int, default=8, help="virtual visitors")
    parser.add_argument("--max-requests", type=int, default=200_000, help="cap per round")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (both)")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads (both)")
    parser.add_argument("--database-url", default=DEFAULT_DB)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS)
    return parser.parse_args(argv)


def recreate_database(url: str) -> None:
    """Drop and create the bench database from the `postgres` admin database."""
    parsed = make_url(url)
    name = parsed.database or ""
    if "bench" not in name:
        raise SystemExit(f"refusing to drop {name!r}: the bench database name must say 'bench'")
    admin = sa.create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


def prepare_database(url: str, redis_url: str, env: dict[str, str]) -> None:
    """An empty, migrated bench database with the bare table; Redis must answer."""
    redis.Redis.from_url(redis_url, socket_timeout=2).ping()  # else limits fall back
    recreate_database(url)
    flask = [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"]
    subprocess.run(flask, cwd=ROOT, env=env, check=True, capture_output=True)
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text(CREATE_TABLE))
    engine.dispose()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def serve(server: str, args, env: dict[str, str], log_name=None, servers=SERVERS, options=()):
    """Run gunicorn for one server on a free port; yield (port, process); always stop it."""
    app_spec, probe = servers[server]
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "-k", "gthread", "-w", str(args.workers)]
    command += ["--threads", str(args.threads), *options, "-b", f"127.0.0.1:{port}", app_spec]
    log_path = RESULTS / f"gunicorn-{log_name or server}.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        _wait_ready(process, port, probe, log_path)
        yield port, process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_ready(process: subprocess.Popen, port: int, path: str, log_path: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}; see {log_path}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("GET", path)
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn on port {port} did not answer {path}; see {log_path}")


def count_rows(url: str) -> dict[str, int]:
    engine = sa.create_engine(url)
    with engine.connect() as connection:
        tables = ("submissions", "contacts", "suspected_spam", TABLE)
        counts = {t: connection.scalar(sa.text(f"SELECT count(*) FROM {t}")) for t in tables}
        hand = sa.text("SELECT count(*) FROM submissions WHERE idempotency_key LIKE :prefix")
        counts["hand submissions"] = connection.scalar(hand, {"prefix": KEY_PREFIX + "%"})
        counts["submissions"] -= counts["hand submissions"]
    engine.dispose()
    return counts


def _exit_on_sigterm(signum, frame):
    raise SystemExit(128 + signum)  # unwinds like Ctrl-C, so all servers are stopped


def main(argv=None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    url = normalise_database_url(args.database_url)
    RESULTS.mkdir(parents=True, exist_ok=True)
    rounds: list[dict] = []
    phones = itertools.count()  # one counter for the whole run: every submit a new phone
    with tempfile.TemporaryDirectory(prefix="crm-bench-") as instance_dir, ExitStack() as stack:
        env = server_env(url, args.redis_url, instance_dir)
        print(f"preparing {make_url(url).render_as_string(hide_password=True)} ...", flush=True)
        load_before = os.getloadavg()[0]  # other work on the machine skews every target
        prepare_database(url, args.redis_url, env)
        if load_before > 0.5:
            print(f"warning: load average {load_before:.2f} before start; results will be noisy")
        servers = {server: stack.enter_context(serve(server, args, env)) for server in SERVERS}
        ports = {server: port for server, (port, _) in servers.items()}
        engine = sa.create_engine(url)
        database = make_url(url).database
        meters = {s: CpuMeter(engine, database, p.pid) for s, (_, p) in servers.items()}
        for number, target in itertools.product(range(1, args.rounds + 1), TARGETS):
            meter = meters[TARGETS[target]]
            cpu_before = meter.snapshot()
            result = run_round(
                target, ports[TARGETS[target]], args.seconds, args.warmup, args.concurrency,
                args.max_requests, phones, fresh_form_token,
            )  # fmt: skip
            report.add_cpu(result, CpuMeter.spent(cpu_before, meter.snapshot()))
            rounds.append(result)
            print(
                f"round {number} {target:<11} {result['submits_per_s']:7.1f} submits/s  "
                f"p50 {result['p50_ms']:6.1f} ms  p99 {result['p99_ms']:6.1f} ms  "
                f"errors {result['error_kinds'] or 0}  client CPU {result['client_cpu_cores']}  "
                f"CPU/submit: server {result['server_cpu_ms']:.1f} ms, "
                f"PostgreSQL {result['db_cpu_ms']:.1f} ms",
                flush=True,
            )
        engine.dispose()
        memory = [
            row
            for server, (_, process) in servers.items()
            for row in process_memory(f"{server} gunicorn main", process.pid, f"{server} worker")
        ]
    print("\nmemory after the rounds (RSS and PSS per gunicorn process):")
    print_memory(memory)
    summary = report.summarise(rounds, TARGETS)
    ratios = report.ratios(summary)
    check = report.check_rows(rounds, count_rows(url))
    report.print_report(summary, ratios, check)
    settings = {**vars(args), "database_url": make_url(url).render_as_string(hide_password=True)}
    results = {
        "settings": settings,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_avg_1m_before": load_before,
        },
        "goal": {name: f"{sign} {bound}" for name, (sign, bound) in report.GOALS.items()},
        "summary": summary,
        "ratios": ratios,
        "met": report.goals_met(ratios),
        "check": check,
        "memory": memory,
        "rounds": rounds,
    }
    (RESULTS / "latest.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {RESULTS / 'latest.json'}")
    return 0 if check["ok"] else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit("interrupted: all servers stopped, no results written")
