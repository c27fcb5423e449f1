"""A real Celery worker, with its embedded beat, in a process group of its own, for tests.

The worker reads its settings from the environment, as in production (config.py at import
time), so each test hands it the database, broker and SMTP server it should use.
"""

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import redis

PROJECT_ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 30
STOP_TIMEOUT = 15
LOG_TAIL_LINES = 60
# The broker of the workers the tests start: a Redis database of their own, flushed per worker.
WORKER_REDIS_URL = os.environ.get("TEST_WORKER_REDIS_URL", "redis://127.0.0.1:6379/9")
# Settings config.py reads: a test names every one it wants, none leaks in from the shell.
_APP_SETTINGS = (
    "CRM_ENV",
    "CRM_INSTANCE_DIR",
    "DATABASE_URL",
    "REDIS_URL",
    "SMTP_URL",
    "SMTP_CA_FILE",
    "MAIL_DIR",
    "ESCALATION_INTERVAL_SECONDS",
    "DEAD_ALERT_INTERVAL_SECONDS",
)


def wait_until(predicate: Callable[[], object], timeout: float, interval: float = 0.1):
    """Return predicate()'s first truthy value, or raise TimeoutError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(f"not true after {timeout}s: {getattr(predicate, '__name__', '')}")
        time.sleep(interval)


def worker_env(instance_dir: Path, **settings: str | int | float | None) -> dict[str, str]:
    """The environment of a worker on the development config, plus the given settings."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in _APP_SETTINGS and not name.startswith("OUTBOX_")
    }
    env.update(CRM_ENV="development", CRM_INSTANCE_DIR=str(instance_dir), PYTHONUNBUFFERED="1")
    env.update({name: str(value) for name, value in settings.items() if value is not None})
    return env


class Worker:
    """One `celery worker --beat` process group: started, killed and restarted by its pid only."""

    def __init__(
        self, env: dict[str, str], workdir: Path, concurrency: int = 2, loglevel: str = "info"
    ):
        self.env = env
        self.concurrency = concurrency
        self.loglevel = loglevel
        self.log_path = workdir / "worker.log"
        self.schedule_path = workdir / "beat-schedule"
        self.node_name = f"test-{uuid.uuid4().hex[:8]}@%h"
        self.process: subprocess.Popen | None = None
        self.starts = 0

    @property
    def pid(self) -> int:
        assert self.process is not None, "the worker is not running"
        return self.process.pid

    def start(self) -> None:
        """Start the worker and return once it consumes tasks."""
        assert self.process is None or self.process.poll() is not None, "already running"
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "wsgi.celery_app",
            "worker",
            "--beat",
            "--pool=prefork",
            f"--concurrency={self.concurrency}",
            f"--loglevel={self.loglevel}",
            "-s",
            str(self.schedule_path),
            "-n",
            self.node_name,
            # Nothing to gossip with, and mingling only adds a second to every start.
            "--without-mingle",
            "--without-gossip",
            "--without-heartbeat",
        ]
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        with self.log_path.open("ab") as log:
            # A session of its own: kill9() reaches the pool children and beat by its pgid.
            self.process = subprocess.Popen(
                command,
                cwd=PROJECT_ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self.starts += 1

        def ready() -> bool:
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited with {self.process.returncode}\n{self.tail()}")
            with self.log_path.open("rb") as log:
                log.seek(offset)
                return b" ready." in log.read()

        try:
            wait_until(ready, START_TIMEOUT, interval=0.1)
        except TimeoutError:
            self.kill9()
            raise TimeoutError(f"worker not ready in {START_TIMEOUT}s\n{self.tail()}") from None

    def kill9(self) -> None:
        """SIGKILL the worker, its pool children and beat at once, as an OOM killer would."""
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(STOP_TIMEOUT)
        self._wait_for_group_to_exit()

    def stop(self) -> None:
        """Warm shutdown (SIGTERM); SIGKILL whatever is left after STOP_TIMEOUT."""
        if self.process is None:
            return
        if self.process.poll() is None:
            # The main process only: it lets running tasks finish, then ends its children.
            self.process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(STOP_TIMEOUT)
        # Children outlive a main process that died first; the group signal reaches them too.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(STOP_TIMEOUT)
        self._wait_for_group_to_exit()

    def restart(self) -> None:
        """Start again after a kill or a stop (a running worker is stopped first)."""
        self.stop()
        self.start()

    def tail(self, lines: int = LOG_TAIL_LINES) -> str:
        if not self.log_path.exists():
            return "(no worker log)"
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    def _wait_for_group_to_exit(self) -> None:
        # Orphaned children die a moment after the main process; zombies do not count.
        with contextlib.suppress(TimeoutError):
            wait_until(lambda: not _live_members(self.process.pid), STOP_TIMEOUT, interval=0.05)


def _live_members(pgid: int) -> list[int]:
    """The pids of the group's processes that are still running (Linux /proc)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # "pid (comm) state ppid pgrp ...": comm may hold spaces, so split after ")".
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(stat.parent.name))
    return members


@contextlib.contextmanager
def running_worker(
    env: dict[str, str], workdir: Path, concurrency: int = 2, loglevel: str = "info"
) -> Iterator[Worker]:
    """Run a worker for the block; always stop it, and print its log if the block failed."""
    worker = Worker(env, workdir, concurrency, loglevel)
    try:
        worker.start()
        yield worker
    except BaseException:
        print(f"\n--- worker log ({worker.log_path}) ---\n{worker.tail()}\n---", file=sys.stderr)
        raise
    finally:
        worker.stop()


@contextlib.contextmanager
def worker_for(
    database_url: str,
    workdir: Path,
    *,
    smtp_url: str,
    broker_url: str = WORKER_REDIS_URL,
    concurrency: int = 2,
    loglevel: str = "info",
    **settings: str | int | float,
) -> Iterator[Worker]:
    """Run a worker on this database, broker and SMTP server, with these config settings."""
    if broker_url.startswith("redis"):
        # Tasks an earlier test left behind name rows of that test: never deliver them.
        redis.Redis.from_url(broker_url).flushdb()
    env = worker_env(
        workdir / "instance",
        DATABASE_URL=database_url,
        REDIS_URL=broker_url,
        SMTP_URL=smtp_url,
        **settings,
    )
    with running_worker(env, workdir, concurrency, loglevel) as worker:
        yield worker
