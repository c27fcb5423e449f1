"""Memory per process: the RSS of each gunicorn and Celery process of the app after warm-up.

Serves the real app with bench.run's gunicorn settings and runs a Celery worker as
bench.followups does (prefork, `--concurrency 2`), on the embedded defaults (SQLite,
kombu's SQLAlchemy transport, in-memory limits: what `make run` starts) or, with
`--postgres`, on PostgreSQL and Redis as in production. Warms both up (page+submit
visitors on /callback; the relay, sweeper and escalation tasks on the worker), then
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
    from bench.settings import DEFAULT_DB, DEFAULT_REDIS, server_env
    from config import normalise_database_url

    if args.postgres:
        return server_env(normalise_database_url(DEFAULT_DB), DEFAULT_REDIS, instance_dir)
    env = server_env("", "", instance_dir)  # then drop the servers: the embedded defaults
    for name in ("DATABASE_URL", "REDIS_URL", "SMTP_URL"):
        env.pop(name, None)
    return env


def _warm_up_worker(env: dict[str, str], log_path: Path) -> None:
    """Run each periodic task on the worker a few times and wait until all succeeded."""
    from celery import Celery

    from config import INSTANCE_DIR, celery_settings

    redis_url = env.get("REDIS_URL", "")
    instance = Path(env.get("CRM_INSTANCE_DIR", INSTANCE_DIR))
    broker = redis_url or f"sqla+sqlite:///{instance / 'celery-broker.sqlite3'}"
    sender = Celery("bench-memory", set_as_current=False)
    sender.conf.update(celery_settings(broker))
    names = [*_WARMUP_TASKS] * 3
    for name in names:
        sender.send_task(name)
    deadline = time.monotonic() + 60
    while log_path.read_bytes().count(b"succeeded in") < len(names):
        if time.monotonic() > deadline:
            raise RuntimeError(f"warm-up tasks did not all succeed; see {log_path}")
        time.sleep(0.2)


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
            _warm_up_worker(env, log_path)
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
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL and Redis")
    parser.add_argument("--warmup", type=float, default=5, help="seconds of web traffic")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=4, help="gunicorn threads")
    parser.add_argument("--concurrency", type=int, default=2, help="Celery pool processes")
    args = parser.parse_args(argv)
    where = "PostgreSQL + Redis" if args.postgres else "embedded defaults (SQLite, no Redis)"
    print(f"memory per process on the {where}, after warm-up:", flush=True)
    report(measure(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
