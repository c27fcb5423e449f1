"""One command: 200 live chats at once against the real app, a bare SSE echo and a hand floor.

Recreates a bench database, then serves each target in turn under the same gunicorn gthread
settings (`bare`: a Flask SSE echo through Redis pub/sub; `hand`: the message row by plain
SQL, then publish, the stream reading ids from the table; `real`: wsgi:app on PostgreSQL and
Redis as in production) and runs the same conversations against each from 127.0.0.1: every
chat's two sides hold an event stream each and take turns to write. It prints message
latency (send -> the other side's stream has the id; and -> the other side has fetched the
text) p50/p95/p99/max, messages/s and errors, each as a ratio against bare and hand, and
writes bench/results/chat-latest.json. Bounded in chats, messages and time; it stops every
server it started, by PID.

    .venv/bin/python -m bench.chat_load            # 200 chats, 8 messages each
"""

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

if __package__ in (None, ""):  # run as `python bench/chat_load.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import holidays
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from bench.chat_report import print_report, summarise
from bench.chat_rounds import Plan, baseline_round, real_round
from bench.cpu import CpuMeter
from bench.run import RESULTS, _exit_on_sigterm, prepare_database, serve
from bench.settings import server_env
from config import normalise_database_url

DEFAULT_DB = "postgresql+psycopg://postgres@127.0.0.1:5432/crm_bench_chat"
DEFAULT_REDIS = "redis://127.0.0.1:6379/10"
SERVERS = {
    "bare": ("bench.chat_bare_app:app", "/"),
    "hand": ("bench.chat_hand_app:app", "/"),
    "real": ("wsgi:app", "/login"),
}
PASSWORD = "quiet-harbour-lantern-7319"
# Limits the bench sets for the served app (printed with the results). High enough that no
# run reaches them, so they never refuse a message, while every send and start still pays
# for its limit check in Redis (a counter per chat, a counter per address), as in production.
LIMITS = {
    "CHAT_MESSAGE_LIMIT": "100000/minute",
    "CHAT_START_LIMIT": "100000/hour",
    "LOGIN_LIMIT_PER_IP": "100000/hour",  # every advocate signs in from 127.0.0.1
}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=200, help="concurrent chats")
    parser.add_argument("--advocates", type=int, default=20, help="signed-in advocates")
    parser.add_argument("--messages", type=int, default=8, help="per chat, sides alternating")
    parser.add_argument("--think", type=float, default=4.0, help="mean seconds between turns")
    parser.add_argument("--ramp", type=float, default=10.0, help="seconds to start all chats")
    parser.add_argument("--round-seconds", type=float, default=180, help="each round's bound")
    parser.add_argument("--targets", default="bare,hand,real")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, help="per worker (default: see thread_budget)")
    parser.add_argument("--database-url", default=DEFAULT_DB)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS)
    args = parser.parse_args(argv)
    args.threads = args.threads or thread_budget(args.chats, args.workers)
    return args


def thread_budget(chats: int, workers: int) -> int:
    """Threads per worker: every stream holds one (two per chat), plus room for requests.

    gunicorn does not balance connections between workers (whichever accepts first takes
    it), and a gthread worker queues a request behind its busy threads rather than refusing
    it, so each worker gets a quarter more than its even share of the streams, plus 25.
    """
    streams = 2 * chats
    return -(-streams * 5 // (4 * workers)) + 25


def open_around_the_clock() -> dict[str, str]:
    """Working hours all day, every day, in a zone where today is no US federal holiday."""
    now = datetime.now(UTC)
    zone = next(
        name
        for name in ("Etc/GMT+12", "Etc/GMT-14", "UTC")
        if now.astimezone(ZoneInfo(name)).date() not in holidays.country_holidays("US")
    )
    days = "mon,tue,wed,thu,fri,sat,sun"
    return {"ORG_TIME_ZONE": zone, "WORKING_HOURS": "00:00-23:59:59.999999", "WORKING_DAYS": days}


def chat_env(url: str, args, instance_dir: str) -> dict[str, str]:
    env = server_env(url, args.redis_url, instance_dir)
    env.update(LIMITS)
    env.update(open_around_the_clock())
    env["CHAT_HEARTBEAT_SECONDS"] = "15"  # the default, said out loud
    env["CHAT_STREAM_SECONDS"] = str(int(args.round_seconds) + 60)  # no reconnect mid-round
    return env


def seed(url: str, args) -> tuple[list[tuple[str, str]], list[int], int]:
    """The advocates (through the app's user service), and the hand floor's waiting chats."""
    from crm import create_app
    from crm.extensions import db
    from crm.models.enums import Role
    from crm.services.users import create_user

    app = create_app("development", {"SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": ""})
    advocates = [(f"bench-chat-{n}@example.org", PASSWORD) for n in range(1, args.advocates + 1)]
    with app.app_context():
        users = [
            create_user(email, f"Advocate {n}", Role.advocate, PASSWORD)
            for n, (email, _) in enumerate(advocates, 1)
        ]
        db.session.commit()
        user_id = users[0].id
        db.engine.dispose()
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        chat_ids = list(
            connection.scalars(
                sa.text(
                    # Held by an advocate: never on the real round's waiting list.
                    """INSERT INTO chats (public_token, status, visitor_name, claimed_by_user_id,
                        claimed_at, created_at)
                    SELECT 'hand-' || g, 'active', 'Hand ' || g, :user_id, now(), now()
                    FROM generate_series(1, :n) AS g ORDER BY g RETURNING id"""
                ),
                {"n": args.chats, "user_id": user_id},
            )
        )
    engine.dispose()
    return advocates, chat_ids, user_id


def run_target(target: str, port: int, args, advocates, chat_ids, user_id) -> tuple:
    base_url = f"http://127.0.0.1:{port}"
    plan = Plan(
        args.chats, args.messages, args.think, args.ramp, time.monotonic() + args.round_seconds
    )
    if target == "real":
        round_ = real_round(base_url, advocates, plan)
    else:
        ids = list(range(1, args.chats + 1)) if target == "bare" else chat_ids
        round_ = baseline_round(base_url, ids, user_id if target == "hand" else None, plan)
    return asyncio.run(round_)


def main(argv=None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    # The app's log set-up (made by create_user) would print a line per request of the client.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    url = normalise_database_url(args.database_url)
    RESULTS.mkdir(parents=True, exist_ok=True)
    targets = args.targets.split(",")
    streams = 2 * args.chats
    print(
        f"{args.chats} chats x {args.messages} messages, {args.advocates} advocates, think "
        f"{args.think}s; gunicorn gthread {args.workers} workers x {args.threads} threads = "
        f"{args.workers * args.threads} threads for {streams} streams; limits set: "
        + ", ".join(f"{k}={v}" for k, v in LIMITS.items()),
        flush=True,
    )
    results = {}
    with tempfile.TemporaryDirectory(prefix="crm-chat-bench-") as instance_dir:
        env = chat_env(url, args, instance_dir)
        load_before = os.getloadavg()[0]
        prepare_database(url, args.redis_url, env)
        advocates, chat_ids, user_id = seed(url, args)
        engine = sa.create_engine(url)
        for target in targets:
            options = ["--graceful-timeout", "2"]  # streams never finish by themselves
            with serve(target, args, env, f"chat-{target}", SERVERS, options) as (port, process):
                meter = CpuMeter(engine, make_url(url).database, process.pid)
                before, client_before, wall = meter.snapshot(), time.process_time(), time.time()
                tally = run_target(target, port, args, advocates, chat_ids, user_id)
                cpu = CpuMeter.spent(before, meter.snapshot())
                client_cores = (time.process_time() - client_before) / (time.time() - wall)
            results[target] = summarise(tally, cpu, client_cores, args)
            print(f"{target}: {json.dumps(results[target]['headline'])}", flush=True)
        engine.dispose()
    ratios = print_report(results, args)
    settings = {**vars(args), "database_url": make_url(url).render_as_string(hide_password=True)}
    out = {
        "settings": settings,
        "limits": LIMITS,
        "load_avg_1m_before": load_before,
        "results": results,
        "ratios": ratios,
    }
    (RESULTS / "chat-latest.json").write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {RESULTS / 'chat-latest.json'}")
    errors = sum(sum(r["errors"].values()) for r in results.values())
    return 0 if errors == 0 else 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit("interrupted: all servers stopped, no results written")
