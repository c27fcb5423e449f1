"""One command: follow-up email throughput through the outbox relay against a bare Celery task.

Recreates its own database (migrations only), seeds due guide emails through the real
capture service, runs a real Celery worker of the app and one of bench/followups_raw.py
(same CELERY settings, same concurrency, a local aiosmtpd sink as SMTP_URL) and times,
round after round (raw, relay, raw, relay, ...), how long N emails take to reach the
sink. Prints emails/s per target, the relay/raw ratio (goal >= 0.80), checks that each
round delivered every email exactly once, and writes bench/results/followups.json.

    .venv/bin/python -m bench.followups
"""

import argparse
import contextlib
import itertools
import json
import math
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

if __package__ in (None, ""):  # run as `python bench/followups.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import redis
from sqlalchemy.engine import make_url

from bench.cpu import CpuMeter, machine_ticks
from bench.followups_worker import celery_worker
from tests.smtp_sink import start_smtp_sink
from tests.worker import worker_env

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DEFAULT_DB = "postgresql+psycopg://postgres@127.0.0.1:5432/crm_bench_followups"
DEFAULT_REDIS = "redis://127.0.0.1:6379/8"
SECRET_KEY = "bench"
GOAL = 0.80
RELAY_TICK = 2.0  # beat's "relay-due-outbox" schedule in config.py
# relay: the bench enqueues the outbox.relay runs the batch needs, back to back, on the
# worker; relay@2s: one outbox.relay every RELAY_TICK, as beat does in production.
TARGETS = ("raw", "relay", "relay@2s")
CONSUMES_ROWS = {"relay", "relay@2s"}  # these leave the rows sent; raw leaves them pending


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--emails", type=int, default=400, help="emails per round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds per target, alternating")
    parser.add_argument(
        "--targets",
        default="raw,relay",
        help=f"comma-separated, in round order, from {', '.join(TARGETS)}",
    )
    parser.add_argument("--concurrency", type=int, default=2, help="worker processes (both)")
    parser.add_argument("--timeout", type=float, default=90, help="seconds a round may take")
    parser.add_argument("--warmup", type=int, default=40, help="unmeasured emails per worker")
    parser.add_argument(
        "--profile",
        choices=("auto", "yes", "no"),
        default="auto",
        help="profile the relay path in-process afterwards (auto: if the goal is missed)",
    )
    parser.add_argument("--profile-emails", type=int, default=200)
    parser.add_argument("--database-url", default=DEFAULT_DB)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS)
    args = parser.parse_args(argv)
    args.targets = [t.strip() for t in args.targets.split(",") if t.strip()]
    unknown = set(args.targets) - set(TARGETS)
    if unknown or "raw" not in args.targets or len(args.targets) < 2:
        parser.error(f"--targets: raw and at least one of {TARGETS[1:]}; unknown {unknown or ''}")
    return args


# --- the database, the seed rows and the checks ----------------------------------------------


def prepare(url: str, redis_url: str, env: dict[str, str]) -> None:
    from bench.run import recreate_database  # imports app code: after the environment is set

    broker = redis.Redis.from_url(redis_url, socket_timeout=2)
    broker.ping()
    broker.flushdb()  # this bench's own Redis database: tasks of an earlier run name old rows
    recreate_database(url)
    flask = [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"]
    subprocess.run(flask, cwd=ROOT, env=env, check=True, capture_output=True)


def seed(app, count: int, numbers) -> list[int]:
    """Submit `count` guide requests through capture; return their due guide_email rows."""
    import sqlalchemy as sa

    from crm.extensions import db
    from crm.models import OutboxMessage, utcnow
    from crm.models.enums import ConsentChannel, FormKind, OutboxKind, OutboxStatus
    from crm.services.capture import submit_lead
    from crm.services.leads import LeadInput, RequestMeta

    meta = RequestMeta("203.0.113.7", "bench.followups", "https://www.example.org/guide")
    consents = {ConsentChannel.email: True, ConsentChannel.calls_texts: False}
    with app.app_context():
        for n in itertools.islice(numbers, count):
            lead = LeadInput(
                form=FormKind.guide,
                first_name="Maria",
                last_name=f"Bench{n}",
                email=f"bench.followups.{n}@example.com",
                phone_e164=None,
                zip_code="02110",
                state="MA",
                time_zone="America/New_York",
                consents=consents,
                details={"interests": ["treatment"], "printed_guide": False},
            )
            submit_lead(lead, meta, None)
        ids = db.session.scalars(
            sa.select(OutboxMessage.id)
            .where(
                OutboxMessage.kind == OutboxKind.guide_email,
                OutboxMessage.status == OutboxStatus.pending,
                OutboxMessage.due_at <= utcnow(),
            )
            .order_by(OutboxMessage.id)
        ).all()
        db.session.remove()
    if len(ids) != count:
        raise RuntimeError(f"seeded {count} guide requests but found {len(ids)} due guide emails")
    return list(ids)


def statuses(app, ids: list[int]) -> dict[str, int]:
    import sqlalchemy as sa

    from crm.extensions import db
    from crm.models import OutboxMessage

    with app.app_context():
        rows = db.session.execute(
            sa.select(OutboxMessage.status, sa.func.count())
            .where(OutboxMessage.id.in_(ids))
            .group_by(OutboxMessage.status)
        ).all()
        db.session.remove()
    return {status.value: count for status, count in rows}


def pending_due(app) -> int:
    import sqlalchemy as sa

    from crm.extensions import db
    from crm.models import OutboxMessage, utcnow
    from crm.models.enums import OutboxStatus

    with app.app_context():
        count = db.session.scalar(
            sa.select(sa.func.count()).where(
                OutboxMessage.status == OutboxStatus.pending, OutboxMessage.due_at <= utcnow()
            )
        )
        db.session.remove()
    return count


def clear(sink) -> None:
    with sink.lock:
        sink.messages.clear()


def delivered_once(sink, expected: set[str]) -> dict:
    """Each expected Message-ID exactly once, and nothing else."""
    counts = Counter(sink.message_ids())
    duplicates = sum(1 for mid, n in counts.items() if n > 1)
    missing = len(expected - counts.keys())
    unexpected = len(counts.keys() - expected)
    ok = not duplicates and not missing and not unexpected
    return {"ok": ok, "received": sum(counts.values()), "duplicates": duplicates,
            "missing": missing, "unexpected": unexpected}  # fmt: skip


# --- one round --------------------------------------------------------------------------------


def run_round(target: str, ids: list[int], ctx: dict, timeout: float) -> dict:
    """Start the target on the rows and time until the sink holds every email."""
    sink, app, celery_app = ctx["sink"], ctx["app"], ctx["celery_app"]
    batch = app.config["OUTBOX_BATCH_SIZE"]
    meter: CpuMeter = ctx["meters"]["raw" if target == "raw" else "relay"]
    clear(sink)
    wanted = len(ids)
    cpu_before = meter.snapshot()
    machine_before, bench_before = machine_ticks(), time.process_time()
    relays = 0
    started = time.perf_counter()
    if target == "raw":
        send = ctx["raw_send"]
        for message_id in ids:
            send.delay(message_id)
    elif target == "relay":
        # As many relay runs as the rows need, at once: each claims its own batch (SKIP
        # LOCKED) and enqueues outbox.deliver per id; no beat tick is waited for.
        relays = math.ceil(wanted / batch)
        for _ in range(relays):
            celery_app.send_task("outbox.relay")
    next_tick = started
    deadline = started + timeout
    while len(sink.messages) < wanted and time.perf_counter() < deadline:
        now = time.perf_counter()
        if target == "relay@2s" and now >= next_tick:
            celery_app.send_task("outbox.relay")  # what beat sends, on beat's schedule
            relays += 1
            next_tick += RELAY_TICK
        time.sleep(0.005)
    elapsed = time.perf_counter() - started
    machine_after, bench_cpu = machine_ticks(), time.process_time() - bench_before
    busy, ticks = (a - b for a, b in zip(machine_after, machine_before, strict=True))
    complete = len(sink.messages) >= wanted
    # Untimed: the last tasks' bookkeeping (relay: mark_sent after the SMTP reply).
    if target in CONSUMES_ROWS:
        with contextlib.suppress(TimeoutError):
            ctx["wait_until"](lambda: statuses(app, ids).get("sent", 0) >= wanted, 15)
    time.sleep(0.5)  # a redelivered duplicate would show up here
    cpu = CpuMeter.spent(cpu_before, meter.snapshot())
    check = delivered_once(sink, ctx["message_ids"](ids))
    # After a relay round every row is sent; raw must have left them as they were.
    check["rows"] = statuses(app, ids)
    expected_rows = {"sent" if target in CONSUMES_ROWS else "pending": wanted}
    check["ok"] = check["ok"] and check["rows"] == expected_rows
    return {
        "target": target,
        "emails": wanted,
        "complete": complete,
        "seconds": round(elapsed, 3),
        "emails_per_s": round(wanted / elapsed, 1) if complete else 0.0,
        "relay_runs": relays,
        "worker_cpu_ms_per_email": round(cpu["worker"] * 1000 / wanted, 2),
        "db_cpu_ms_per_email": round(cpu["db"] * 1000 / wanted, 2),
        # This process: the sink (parses every message), the publishing (raw), the polling.
        "bench_cpu_ms_per_email": round(bench_cpu * 1000 / wanted, 2),
        "worker_cores_busy": round(cpu["worker"] / elapsed, 2),
        "machine_cores_busy": round(busy / ticks * (os.cpu_count() or 1), 2) if ticks else None,
        "check": check,
    }


def warm_up(ctx: dict, numbers, count: int) -> None:
    """Both workers' first emails (pool connections, templates): raw, then the relay."""
    if count <= 0:
        return
    ids = seed(ctx["app"], count, numbers)
    for target in ("raw", "relay"):
        result = run_round(target, ids, ctx, 60)
        if not result["check"]["ok"]:
            raise RuntimeError(f"warm-up {target} failed: {result['check']}")


# --- the report -------------------------------------------------------------------------------


_SUMMARY_KEYS = (
    "emails_per_s",
    "seconds",
    "worker_cpu_ms_per_email",
    "db_cpu_ms_per_email",
    "bench_cpu_ms_per_email",
    "worker_cores_busy",
    "machine_cores_busy",
)


def summarise(rounds: list[dict], targets: list[str]) -> dict:
    summary = {}
    for target in targets:
        mine = [r for r in rounds if r["target"] == target]
        summary[target] = {key: statistics.median(r[key] for r in mine) for key in _SUMMARY_KEYS}
        summary[target]["rounds"] = len(mine)
    raw = summary["raw"]["emails_per_s"]
    ratios = {
        f"{target}/raw": round(summary[target]["emails_per_s"] / raw, 3) if raw else float("nan")
        for target in targets
        if target != "raw"
    }

    def cpu(target: str) -> float:  # worker and database CPU per email
        return summary[target]["worker_cpu_ms_per_email"] + summary[target]["db_cpu_ms_per_email"]

    # What the ratio would be on a machine that gave both targets the same CPU: raw's CPU
    # per email over relay's. A cross-check, less sensitive to other work on the machine.
    if "relay" in summary and cpu("relay"):
        ratios["relay/raw CPU-normalised"] = round(cpu("raw") / cpu("relay"), 3)
    return {"targets": summary, "ratios": ratios}


def print_report(report: dict, ok: bool) -> None:
    cores = os.cpu_count()
    print(
        f"\n{'target':<10}{'emails/s':>10}{'s/round':>9}  CPU ms/email: {'worker':>7}{'db':>6}"
        f"{'bench':>7}   cores busy: {'worker':>7}{'machine':>8}"
    )
    for target, s in report["targets"].items():
        print(
            f"{target:<10}{s['emails_per_s']:>10.1f}{s['seconds']:>9.2f}{'':>15}"
            f"{s['worker_cpu_ms_per_email']:>7.2f}{s['db_cpu_ms_per_email']:>6.2f}"
            f"{s['bench_cpu_ms_per_email']:>7.2f}{'':>15}{s['worker_cores_busy']:>7.2f}"
            f"{s['machine_cores_busy']:>8.2f}"
        )
    print(
        f"(medians of the rounds. CPU per email: the worker's process group, this database's "
        f"PostgreSQL backends,\n this process (the sink parses every message). Cores busy, of "
        f"{cores}: the worker's, and the whole machine's, other work included.)"
    )
    for name, value in report["ratios"].items():
        goal = f"goal >= {GOAL:.2f}: {'met' if value >= GOAL else 'MISSED'}"
        print(f"ratio {name} = {value:.2f} ({goal if name == 'relay/raw' else 'info'})")
    print(f"check: every round delivered each email exactly once -> {'OK' if ok else 'FAILED'}")


def _check_configured(app, url: str, redis_url: str, smtp_url: str) -> None:
    """Refuse to seed or send anywhere but this bench's own database, broker and sink."""
    found = (
        app.config["SQLALCHEMY_DATABASE_URI"],
        app.config["CELERY"]["broker_url"],
        app.config["SMTP_URL"],
    )
    if found != (url, redis_url, smtp_url):
        raise RuntimeError(f"the app is configured for {found}, not this bench's settings")


def _exit_on_sigterm(signum, frame):
    raise SystemExit(128 + signum)  # unwinds like Ctrl-C, so both workers and the sink stop


def main(argv=None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    # No app code (not even config.py) may be imported before the environment is set:
    # config.py reads it once, and would otherwise fall back to the shared dev SQLite.
    if "config" in sys.modules:
        raise RuntimeError("config was imported before the bench set the environment")
    RESULTS.mkdir(parents=True, exist_ok=True)
    url = args.database_url  # normalised by config.py's own function once the env is set
    load_before = os.getloadavg()[0]
    rounds: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="crm-bench-followups-") as instance_dir:
        controller, sink = start_smtp_sink()
        try:
            settings = {
                "DATABASE_URL": url,
                "REDIS_URL": args.redis_url,
                "SMTP_URL": f"smtp://127.0.0.1:{controller.port}?starttls=false",
                "SECRET_KEY": SECRET_KEY,
            }
            env = worker_env(Path(instance_dir), **settings)
            os.environ.clear()  # config.py reads it when app code is first imported: exactly
            os.environ.update(env)  # what the workers get (no stray OUTBOX_* from the shell)
            from config import normalise_database_url

            url = normalise_database_url(url)
            print(f"preparing {make_url(url).render_as_string(hide_password=True)} ...", flush=True)
            prepare(url, args.redis_url, env)
            rounds, profile = _run(args, env, sink, url)
        finally:
            controller.stop()
    report = summarise(rounds, args.targets)
    ok = all(r["complete"] and r["check"]["ok"] for r in rounds)
    print_report(report, ok)
    met = report["ratios"]["relay/raw"] >= GOAL if "relay/raw" in report["ratios"] else None
    results = {
        "command": ".venv/bin/python -m bench.followups " + " ".join(argv or sys.argv[1:]),
        "settings": {
            **{k: v for k, v in vars(args).items() if k != "database_url"},
            "database_url": make_url(url).render_as_string(hide_password=True),
            "outbox_batch_size": int(os.environ.get("OUTBOX_BATCH_SIZE", "200")),
        },
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_avg_1m_before": load_before,
        },
        "goal": {"relay/raw_min": GOAL},
        **report,
        "met": met,
        "ok": ok,
        "rounds": rounds,
        "profile": profile,
    }
    path = RESULTS / "followups.json"
    path.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {path}")
    if load_before > 0.5:
        print(f"note: load average {load_before:.2f} at start; other work skews the figures")
    return 0 if ok else 1


def _run(args, env: dict[str, str], sink, url: str) -> tuple[list, dict | None]:
    import sqlalchemy as sa

    from bench import followups_raw
    from crm.models.enums import OutboxKind
    from crm.services.email_content import message_id_for
    from tests.worker import wait_until
    from wsgi import app, celery_app

    def message_ids(ids: list[int]) -> set[str]:
        """The Message-IDs both paths give these rows (the app's own message_id_for)."""
        with app.app_context():
            return {message_id_for(SimpleNamespace(id=i, kind=OutboxKind.guide_email)) for i in ids}

    _check_configured(app, url, args.redis_url, env["SMTP_URL"])
    numbers = itertools.count()  # one counter for the whole run: every lead a new contact
    rounds = []
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    database = make_url(url).database
    with contextlib.ExitStack() as stack:
        workers = {
            name: stack.enter_context(
                celery_worker(spec, env, RESULTS / f"followups-worker-{name}.log", args.concurrency)
            )
            for name, spec in (("relay", "wsgi.celery_app"), ("raw", "bench.followups_raw"))
        }
        ctx = {
            "sink": sink,
            "app": app,
            "celery_app": celery_app,
            "raw_send": followups_raw.send,
            "message_ids": message_ids,
            "wait_until": wait_until,
            "meters": {n: CpuMeter(engine, database, p.pid) for n, p in workers.items()},
        }
        batch_size = app.config["OUTBOX_BATCH_SIZE"]
        print(
            f"workers: {args.concurrency} prefork processes each; relay = "
            f"ceil({args.emails}/{batch_size}) outbox.relay runs enqueued at t0 on the app's "
            f"worker (no beat wait); raw = {args.emails} {followups_raw.TASK} tasks",
            flush=True,
        )
        warm_up(ctx, numbers, args.warmup)
        batch = None
        for number, target in itertools.product(range(1, args.rounds + 1), args.targets):
            if batch is None:
                seeded = time.perf_counter()
                batch = seed(app, args.emails, numbers)
                seconds = time.perf_counter() - seeded
                print(f"seeded {len(batch)} due guide emails in {seconds:.1f} s", flush=True)
            result = run_round(target, batch, ctx, args.timeout)
            result["round"] = number
            rounds.append(result)
            check = result["check"]
            print(
                f"round {number} {target:<9}{result['emails_per_s']:7.1f} emails/s "
                f"{result['seconds']:6.2f} s  CPU ms/email worker "
                f"{result['worker_cpu_ms_per_email']:5.2f} db {result['db_cpu_ms_per_email']:4.2f} "
                f"bench {result['bench_cpu_ms_per_email']:4.2f}  cores busy worker "
                f"{result['worker_cores_busy']:4.2f} machine {result['machine_cores_busy']:4.2f}  "
                f"{'OK' if check['ok'] and result['complete'] else 'FAILED ' + str(check)}",
                flush=True,
            )
            if target in CONSUMES_ROWS:
                batch = None
                if pending_due(app):
                    raise RuntimeError("due rows left pending after a relay round")
    engine.dispose()
    profile = None
    report = summarise(rounds, args.targets)
    missed = report["ratios"].get("relay/raw", 1.0) < GOAL
    if args.profile == "yes" or (args.profile == "auto" and missed):
        from bench.followups_profile import profile_paths

        why = f"relay/raw below {GOAL:.2f}" if missed else "--profile yes"
        print(f"\n{why}: profiling the relay path in-process ...", flush=True)
        profile = profile_paths(app, args.profile_emails, lambda n: seed(app, n, numbers))
    return rounds, profile


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit("interrupted: both workers and the sink stopped, no results written")
