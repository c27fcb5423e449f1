"""Memory per process: the RSS of each gunicorn and Celery process of the app after warm-up.

Serves the real app with bench.run's gunicorn settings and runs a Celery worker as
bench.followups does (prefork, `--concurrency 2`), on the embedded defaults (SQLite,
kombu's SQLAlchemy transport, in-memory limits: what `make run` starts) or, with
`--postgres`, on PostgreSQL and Redis as in production. Warms both up (page+submit
visitors on /callback, then callback requests with an email that the worker relays and
sends, plus one run of the sweeper and the escalation check), then
prints RSS and PSS per process. Goal (issue 6, section 8): <= 120 MB per web worker,
<= 150 MB per Celery process.

    .venv/bin/python -m bench.memory [--postgres] [--warmup 5]
"""

import argparse
import itertools
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

if __package__ in (None, ""):  # run as `python bench/memory.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

GOAL_WEB_MB, GOAL_CELERY_MB = 120, 150
_WARMUP_TASKS = ("outbox.relay", "outbox.return_stuck", "callbacks.escalate")


def _status(pid: int, field: str) -> int:
    """A `kB` field of /proc/PID/status or smaps_rollup, in kB (0 if absent)."""
    for name in ("status", "smaps_rollup"):
        try:
            for line in Path(f"/proc/{pid}/{name}").read_text().splitlines():
                if line.startswith(field + ":"):
                    return int(line.split()[1])
        except (FileNotFoundError, PermissionError):
            continue
    return 0


def children(pid: int) -> list[int]:
    """The direct children of a process (gunicorn workers, Celery pool processes)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return sorted(found)


def process_memory(role: str, main_pid: int, child_role: str) -> list[dict]:
    """RSS and PSS (MB) of a main process and each of its children."""
    rows = []
    for pid, name in [(main_pid, role), *((c, child_role) for c in children(main_pid))]:
        rss, pss = _status(pid, "VmRSS") / 1024, _status(pid, "Pss") / 1024
        rows.append({"process": name, "pid": pid, "rss_mb": round(rss, 1), "pss_mb": round(pss, 1)})
    return rows


def print_memory(rows: list[dict]) -> None:
    print(f"{'process':<22}{'pid':>8}{'RSS MB':>9}{'PSS MB':>9}")
    for row in rows:
        print(f"{row['process']:<22}{row['pid']:>8}{row['rss_mb']:>9.1f}{row['pss_mb']:>9.1f}")


def goals(rows: list[dict]) -> dict[str, float]:
    """The largest RSS among web workers and among Celery processes (main and pool)."""
    web = [r["rss_mb"] for r in rows if r["process"] == "gunicorn worker"]
    celery = [r["rss_mb"] for r in rows if r["process"].startswith("celery")]
    return {"web worker max": max(web, default=0), "celery process max": max(celery, default=0)}


def _environment(args, instance_dir: str) -> dict[str, str]:
    from bench.settings import server_env
    from config import normalise_database_url

    env = server_env(normalise_database_url(args.database_url), args.redis_url, instance_dir)
    if args.postgres:
        return env
    for name in ("DATABASE_URL", "REDIS_URL", "SMTP_URL"):
        env.pop(name, None)
    return env


def _request_emails(port: int, count: int) -> None:
    """Callback requests with an email: each leaves a confirmation email due now."""
    from bench.load import ANSWERS, Browser, hidden_fields, phone_number

    for number in range(count):
        browser = Browser(port)
        _, page = browser.request("GET", "/callback")
        action, fields = hidden_fields(page)
        answers = {**ANSWERS, "phone": phone_number(5_000_000 + number)}
        answers.update(email=f"memory-{number}@example.org", consent_email="y")
        status, _ = browser.request("POST", action or "/callback", {**fields, **answers})
        if status != 303:
            raise RuntimeError(f"warm-up submit answered {status}")


def _warm_up_worker(env: dict[str, str], emails: int) -> None:
    """Have the worker relay and send the emails, and run the periodic checks once."""
    import sqlalchemy as sa
    from celery import Celery

    from config import INSTANCE_DIR, celery_settings

    instance = Path(env.get("CRM_INSTANCE_DIR", INSTANCE_DIR))
    database = env.get("DATABASE_URL") or f"sqlite:///{instance / 'crm.sqlite3'}"
    broker = env.get("REDIS_URL") or f"sqla+sqlite:///{instance / 'celery-broker.sqlite3'}"
    sender = Celery("bench-memory", set_as_current=False)
    sender.conf.update(celery_settings(broker))
    for name in _WARMUP_TASKS:
        sender.send_task(name)
    engine = sa.create_engine(database)
    sent = sa.text("SELECT count(*) FROM outbox WHERE status = 'sent'")
    deadline = time.monotonic() + 90
    with engine.connect() as connection:
        while connection.scalar(sent) < emails:
            connection.rollback()
            if time.monotonic() > deadline:
                raise RuntimeError("the worker did not send the warm-up emails in 90 s")
            sender.send_task("outbox.relay")  # as beat would, every 2 s
            time.sleep(2)
    engine.dispose()


def measure(args) -> list[dict]:
    """Start, warm up and measure the web server and the worker; stop both."""
    import subprocess

    from bench.followups_worker import celery_worker
    from bench.load import run_round
    from bench.run import RESULTS, ROOT, prepare_database, serve

    RESULTS.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="crm-bench-memory-") as instance_dir:
        env = _environment(args, instance_dir)
        if args.postgres:
            prepare_database(env["DATABASE_URL"], env["REDIS_URL"], env)
        else:
            flask = [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"]
            subprocess.run(flask, cwd=ROOT, env=env, check=True, capture_output=True)
        server = SimpleNamespace(workers=args.workers, threads=args.threads)
        log_path = RESULTS / "memory-worker.log"
        with (
            serve("real", server, env) as (port, web),
            celery_worker("wsgi.celery_app", env, log_path, args.concurrency) as worker,
        ):
            run_round(
                "page+submit", port, args.warmup, 0, 4, 100_000, itertools.count(), None
            )  # fmt: skip
            _request_emails(port, args.emails)
            _warm_up_worker(env, args.emails)
            time.sleep(0.5)  # let the pool processes settle after their last task
            return process_memory("gunicorn main", web.pid, "gunicorn worker") + process_memory(
                "celery main", worker.pid, "celery pool process"
            )


def report(rows: list[dict]) -> None:
    """Print the table and each figure against its goal."""
    print_memory(rows)
    found = goals(rows)
    web_ok = found["web worker max"] <= GOAL_WEB_MB
    celery_ok = found["celery process max"] <= GOAL_CELERY_MB
    print(
        f"largest web worker {found['web worker max']:.1f} MB (goal <= {GOAL_WEB_MB}: "
        f"{'met' if web_ok else 'missed'}); largest Celery process "
        f"{found['celery process max']:.1f} MB (goal <= {GOAL_CELERY_MB}: "
        f"{'met' if celery_ok else 'missed'})"
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    from bench.settings import DEFAULT_DB, DEFAULT_REDIS

    parser.add_argument("--postgres", action="store_true", help="PostgreSQL and Redis")
    parser.add_argument("--database-url", default=DEFAULT_DB, help="with --postgres: recreated")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS, help="with --postgres")
    parser.add_argument("--warmup", type=float, default=5, help="seconds of web traffic")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads")
    parser.add_argument("--concurrency", type=int, default=2, help="Celery pool processes")
    parser.add_argument("--emails", type=int, default=10, help="emails the worker sends")
    args = parser.parse_args(argv)
    where = "PostgreSQL + Redis" if args.postgres else "embedded defaults (SQLite, no Redis)"
    print(f"memory per process on the {where}, after warm-up:", flush=True)
    report(measure(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
