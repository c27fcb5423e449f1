"""A Celery worker process for bench.followups: started, and stopped by its own pid only.

Like tests/worker.py's, but for any app and without beat: the bench decides when the relay
runs. The worker reads its settings from the environment it is given (config.py reads
them at import), in a session of its own so that its pool children go with it.
"""

import contextlib
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

from tests.worker import PROJECT_ROOT, START_TIMEOUT, STOP_TIMEOUT, wait_until


@contextlib.contextmanager
def celery_worker(
    app_spec: str, env: dict[str, str], log_path: Path, concurrency: int
) -> Iterator[subprocess.Popen]:
    """Run `celery -A app_spec worker` until the block ends; always stop it, by its pid."""
    command = [sys.executable, "-m", "celery", "-A", app_spec, "worker", "--pool=prefork"]
    command += [f"--concurrency={concurrency}", "--loglevel=info"]
    command += ["-n", f"bench-{uuid.uuid4().hex[:8]}@%h"]
    command += ["--without-mingle", "--without-gossip", "--without-heartbeat"]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    try:

        def ready() -> bool:
            if process.poll() is not None:
                code = process.returncode
                raise RuntimeError(f"worker {app_spec} exited with {code}; see {log_path}")
            return b" ready." in log_path.read_bytes()

        wait_until(ready, START_TIMEOUT, interval=0.1)
        yield process
    finally:
        _stop(process)


def _stop(process: subprocess.Popen) -> None:
    """Warm shutdown of the main process, then SIGKILL to what is left of its own group."""
    if process.poll() is None:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(STOP_TIMEOUT)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # the group this worker leads, nothing else
    process.wait(STOP_TIMEOUT)
