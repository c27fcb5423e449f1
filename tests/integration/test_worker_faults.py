"""Workers killed mid-send and a broker that loses everything: every email still goes out.

At-least-once is the promise: an email whose SMTP transaction finished just before its worker
died is sent again, under the same Message-ID, so that mail clients can recognise the copy.
"""

import shutil
import subprocess
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis
import sqlalchemy as sa

from crm.extensions import db
from crm.models import OutboxMessage, Submission
from crm.models.enums import OutboxKind, OutboxStatus
from tests.forms import GUIDE, FormClient
from tests.smtp_sink import free_port
from tests.worker import WORKER_REDIS_URL, wait_until, worker_for

pytestmark = pytest.mark.postgres_only

CONCURRENCY = 2
# Short leases, checked every second by beat's own return_stuck, so that lost rows come back
# within the test; the sending lease stays well above a whole SMTP conversation.
LEASES = {
    "OUTBOX_DISPATCH_LEASE_SECONDS": 5,
    "OUTBOX_SENDING_LEASE_SECONDS": 10,
    "OUTBOX_SWEEP_INTERVAL_SECONDS": 1,
    "OUTBOX_RELAY_INTERVAL_SECONDS": 0.5,
    "SMTP_TIMEOUT_SECONDS": 3,
}
MIN_OUTAGE_SECONDS = 6
RECOVERY_TIMEOUT = 60


@pytest.fixture(autouse=True)
def _no_rate_limits_in_the_way(config_override):
    config_override(SUBMIT_LIMIT_PER_IP="100000/hour", SUBMIT_LIMIT_PER_CONTACT="100000/hour")


def submit_guide(forms: FormClient, n: int) -> None:
    answers = {**GUIDE, "email": f"visitor{n}@example.com", "phone": ""}
    assert forms.submit("/guide", answers).status_code == 303


def guide_rows(app) -> list[tuple[int, OutboxStatus]]:
    """(id, status) of every guide email row, fresh from the database."""
    with app.app_context():
        rows = db.session.execute(
            sa.select(OutboxMessage.id, OutboxMessage.status)
            .where(OutboxMessage.kind == OutboxKind.guide_email)
            .order_by(OutboxMessage.id)
        ).all()
        db.session.remove()
    return [tuple(row) for row in rows]


def all_sent(app) -> bool:
    return all(status == OutboxStatus.sent for _, status in guide_rows(app))


def assert_each_sent_at_least_once(app, sink, max_duplicates: int) -> int:
    """Every guide row is sent and received under its own Message-ID; return the duplicates."""
    rows = guide_rows(app)
    assert {status for _, status in rows} == {OutboxStatus.sent}
    expected = {f"<outbox-{row_id}.guide_email@example.org>" for row_id, _ in rows}
    received = sink.received()
    counts = Counter(message["Message-ID"] for message in received)
    assert set(counts) == expected
    duplicates = sum(counts.values()) - len(counts)
    assert duplicates <= max_duplicates, counts.most_common(max_duplicates + 1)
    # A copy is the same email, not another one that happens to share the Message-ID.
    for message_id in (message_id for message_id, count in counts.items() if count > 1):
        copies = {(m["To"], m["Subject"]) for m in received if m["Message-ID"] == message_id}
        assert len(copies) == 1, copies
    return duplicates


def sending_since(app, started: datetime) -> set[int]:
    """Ids of the rows a worker started after `started` took to send and has not finished."""
    with app.app_context():
        ids = db.session.scalars(
            sa.select(OutboxMessage.id).where(
                OutboxMessage.status == OutboxStatus.sending,
                OutboxMessage.dispatched_at >= started,
            )
        ).all()
        db.session.remove()
    return set(ids)


def row_id_of(message_id: str) -> int:
    return int(message_id.removeprefix("<outbox-").split(".", 1)[0])


def test_killing_the_worker_mid_send_three_times_loses_no_email(app, forms, smtp_sink, tmp_path):
    total, kills_at = 120, (25, 55, 85)
    for n in range(total):
        submit_guide(forms, n)

    database_url = app.config["SQLALCHEMY_DATABASE_URI"]
    # Per kill: the emails the server held at DATA, and the rows the killed worker was sending
    # (rows left `sending` by an earlier kill come back by the lease, in the meantime).
    kills: list[tuple[list[str], set[int]]] = []
    started = datetime.now(UTC)
    with worker_for(
        database_url,
        tmp_path,
        smtp_url=app.config["SMTP_URL"],
        concurrency=CONCURRENCY,
        **LEASES,
    ) as worker:
        for threshold in kills_at:
            wait_until(lambda t=threshold: len(smtp_sink.received()) >= t, 60, interval=0.02)
            # The server holds its answer to the end of DATA: a send is surely in flight,
            # its whole message already with the server, when the worker dies.
            held_before = len(smtp_sink.held_ids())
            smtp_sink.hold_data = True
            wait_until(lambda h=held_before: len(smtp_sink.held_ids()) > h, 30, interval=0.005)
            worker.kill9()
            in_flight = sending_since(app, started)
            smtp_sink.hold_data = False  # the client is gone; the server had each message
            kills.append((smtp_sink.held_ids()[held_before:], in_flight))
            started = datetime.now(UTC)
            worker.restart()
        wait_until(lambda: all_sent(app), RECOVERY_TIMEOUT, interval=0.5)

    assert_each_sent_at_least_once(app, smtp_sink, max_duplicates=len(kills_at) * CONCURRENCY)
    copies = Counter(smtp_sink.message_ids())
    for held, in_flight in kills:
        # A send was in flight at each kill, and at most one per pool process.
        assert held
        assert {row_id_of(message_id) for message_id in held} <= in_flight
        assert len(in_flight) <= CONCURRENCY
        # The server had those messages whole: each is the one duplicate of its row.
        assert all(copies[message_id] >= 2 for message_id in held)
    cut_by_a_kill = Counter(row_id for _, in_flight in kills for row_id in in_flight)
    for message_id, count in copies.items():
        assert count - 1 <= cut_by_a_kill[row_id_of(message_id)], (message_id, count)


class RedisServer:
    """A redis-server of the test's own that keeps nothing on disk: a restart starts empty."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        command = [
            shutil.which("redis-server") or "redis-server",
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(self.workdir),
            "--logfile",
            str(self.workdir / "redis.log"),
        ]
        self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, start_new_session=True)
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.2)

        def answers() -> bool:
            assert self.process.poll() is None, "redis-server exited"
            try:
                return client.ping()
            except redis.ConnectionError:
                return False

        wait_until(answers, 10)

    def crash(self) -> None:
        """SIGKILL by pid: whatever was queued in it is gone."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


def test_submits_while_the_broker_is_down_are_all_sent_after_it_returns_empty(
    app, forms, smtp_sink, tmp_path
):
    total, backlog, return_at = 250, 50, 200
    # A backlog first (as after a deploy), so that the crash takes queued tasks with it.
    for n in range(backlog):
        submit_guide(forms, n)
    broker = RedisServer(tmp_path)
    broker.start()
    database_url = app.config["SQLALCHEMY_DATABASE_URI"]
    try:
        with worker_for(
            database_url,
            tmp_path,
            smtp_url=app.config["SMTP_URL"],
            broker_url=broker.url,
            concurrency=CONCURRENCY,
            **LEASES,
        ):
            wait_until(smtp_sink.received, 15, interval=0.01)
            broker.crash()
            down_since = time.monotonic()
            lost_with_the_broker = sum(
                status == OutboxStatus.dispatched for _, status in guide_rows(app)
            )
            for n in range(backlog, total):
                if n == return_at:
                    # Down for many relay cycles, however fast the submits are.
                    time.sleep(max(0.0, MIN_OUTAGE_SECONDS - (time.monotonic() - down_since)))
                    broker.start()
                submit_guide(forms, n)
            with app.app_context():
                stored = db.session.scalar(sa.select(sa.func.count()).select_from(Submission))
                db.session.remove()
            assert stored == total

            # Rows whose tasks went down with the broker come back through the dispatch lease;
            # a send in flight when the connection dropped is cancelled by the worker
            # (worker_cancel_long_running_tasks_on_connection_loss) and comes back through
            # the sending lease. Beat's return_stuck checks both every second here.
            wait_until(lambda: all_sent(app), RECOVERY_TIMEOUT, interval=0.5)
    finally:
        broker.crash()

    assert lost_with_the_broker >= 10
    assert_each_sent_at_least_once(app, smtp_sink, max_duplicates=CONCURRENCY)


def queued_tasks(broker_url: str) -> int:
    """Tasks waiting in the broker's default queue (kombu's Redis list `celery`)."""
    return redis.Redis.from_url(broker_url).llen("celery")


def test_flushing_the_broker_while_tasks_are_queued_loses_no_email(app, forms, smtp_sink, tmp_path):
    """FLUSHDB of a live broker (an operator's mistake, an eviction): the outbox re-sends."""
    total = 20
    for n in range(total):
        submit_guide(forms, n)
    with worker_for(
        app.config["SQLALCHEMY_DATABASE_URI"],
        tmp_path,
        smtp_url=app.config["SMTP_URL"],
        broker_url=WORKER_REDIS_URL,
        concurrency=CONCURRENCY,
        **LEASES,
    ):
        # Each pool process stuck in a send, the rest of the tasks queued behind them.
        smtp_sink.hold_data = True
        wait_until(lambda: len(smtp_sink.held_ids()) >= CONCURRENCY, 30, interval=0.01)
        wait_until(lambda: queued_tasks(WORKER_REDIS_URL) >= 5, 30, interval=0.01)

        redis.Redis.from_url(WORKER_REDIS_URL).flushdb()
        assert queued_tasks(WORKER_REDIS_URL) == 0
        flushed = sum(status == OutboxStatus.dispatched for _, status in guide_rows(app))
        smtp_sink.hold_data = False

        # The flushed tasks' rows stay `dispatched` until the lease returns them to the relay.
        wait_until(lambda: all_sent(app), RECOVERY_TIMEOUT, interval=0.5)

    assert flushed >= 5  # rows whose only task went with the flush
    assert len(guide_rows(app)) == total
    assert_each_sent_at_least_once(app, smtp_sink, max_duplicates=CONCURRENCY)
