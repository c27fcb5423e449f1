"""The app served by gunicorn in a process group of its own, for tests that need real processes.

Configured from the environment as in production (tests/worker.py's `worker_env`), on a free
port of 127.0.0.1; stopped by its own pid and process group only.
"""

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from tests.worker import PROJECT_ROOT, STOP_TIMEOUT, wait_until

START_TIMEOUT = 60


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _answers(port: int, path: str) -> bool:
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        connection.request("GET", path)
        return connection.getresponse().status == 200
    except OSError:
        return False


@contextlib.contextmanager
def web_servers(env: dict[str, str], log_dir: Path, count: int = 2) -> Iterator[list[str]]:
    """Serve wsgi:app in `count` gunicorns (one gthread worker each), started side by side;
    yield their base URLs; always stop every one, by its own process group."""
    ports = [free_port() for _ in range(count)]
    logs = [log_dir / f"web-{n}.log" for n in range(1, count + 1)]
    processes: list[subprocess.Popen] = []
    try:
        for port, log_path in zip(ports, logs, strict=True):
            processes.append(_start(env, port, log_path))
        for process, port, log_path in zip(processes, ports, logs, strict=True):

            def ready(process=process, port=port, log_path=log_path) -> bool:
                if process.poll() is not None:
                    raise RuntimeError(f"gunicorn exited with {process.returncode}; {log_path}")
                return _answers(port, "/login")

            wait_until(ready, START_TIMEOUT, interval=0.2)
        yield [f"http://127.0.0.1:{port}" for port in ports]
    except BaseException:
        for log_path in logs:
            tail = log_path.read_text(errors="replace")[-4000:] if log_path.exists() else ""
            print(f"\n--- {log_path} ---\n{tail}", file=sys.stderr)
        raise
    finally:
        for process in processes:
            _stop(process)


def _start(env: dict[str, str], port: int, log_path: Path, threads: int = 8) -> subprocess.Popen:
    command = [sys.executable, "-m", "gunicorn", "-k", "gthread", "-w", "1"]
    command += ["--threads", str(threads), "-b", f"127.0.0.1:{port}", "wsgi:app"]
    # A stop waits this long for open requests: event streams never finish by themselves soon.
    command += ["--graceful-timeout", "1"]
    with log_path.open("ab") as log:
        return subprocess.Popen(
            command,
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()  # gunicorn's arbiter stops its worker and waits for it
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(STOP_TIMEOUT)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # a worker left behind: our own group only
    process.wait(STOP_TIMEOUT)


class WebClient:
    """One person's browser without JavaScript: a cookie jar, pages and their forms."""

    def __init__(self, base_url: str):
        import http.cookiejar
        import urllib.request

        self.base_url = base_url
        self._opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def get(self, path: str) -> str:
        with self._opener.open(self.base_url + path, timeout=30) as response:
            return response.read().decode()

    def submit(self, path: str, action: str, data: dict[str, str]) -> str:
        """Post the form of the page at `path` that posts to `action`; the page it leads to."""
        from urllib.parse import urlencode

        from tests.staff import forms_on

        [form] = [f for f in forms_on(path, self.get(path)) if f.action == action]
        body = urlencode({**form.values, **data}, doseq=True).encode()
        with self._opener.open(self.base_url + action, data=body, timeout=30) as response:
            return response.read().decode()

    def open_stream(self, path: str):
        """The open response of an event stream (read it line by line; close it when done)."""
        return self._opener.open(self.base_url + path, timeout=60)
