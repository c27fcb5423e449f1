"""The production Procfile under honcho, for tests: started, probed over HTTP, stopped by pid.

Each process honcho starts is a session of its own, so the stack is stopped the way an
operator stops it (SIGTERM to honcho, which passes it on), then every process of the tree
recorded at start is checked gone, and one left over is killed by its pid.
"""

import contextlib
import http.client
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

from tests.worker import PROJECT_ROOT, wait_until

START_TIMEOUT = 90
STOP_TIMEOUT = 30
# Settings config.py and the Procfile read: a test names every one it wants.
_STACK_SETTINGS = (
    "CRM_ENV",
    "CRM_INSTANCE_DIR",
    "DATABASE_URL",
    "REDIS_URL",
    "SMTP_URL",
    "SMTP_CA_FILE",
    "MAIL_DIR",
    "SECRET_KEY",
    "DATA_KEYS",
    "PUBLIC_BASE_URL",
    "TRUSTED_PROXY_HOPS",
    "METRICS_TOKEN",
    "PROMETHEUS_MULTIPROC_DIR",
    "LOG_FORMAT",
    "LOG_LEVEL",
    "PORT",
    "BIND",
)


def stack_env(**settings: str | int | float) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name not in _STACK_SETTINGS}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONUNBUFFERED"] = "1"
    env.update({name: str(value) for name, value in settings.items()})
    return env


def descendants(root: int) -> set[int]:
    """Every live process under `root` (Linux /proc), zombies left out."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z":
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = set(), [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


class Stack:
    def __init__(self, env: dict[str, str], workdir: Path, port: int):
        self.env, self.port = env, port
        self.log_path = workdir / "honcho.log"
        self.process: subprocess.Popen | None = None
        self.started: set[int] = set()

    def start(self) -> None:
        command = [
            str(Path(sys.executable).parent / "honcho"),
            "--no-colour",
            "--env",
            os.devnull,
            "--procfile",
            "Procfile",
            "start",
            "--port",
            str(self.port),
        ]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command,
                cwd=PROJECT_ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

    def get(self, path: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.request("GET", path, headers=headers or {})
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            connection.close()

    def post(self, path: str, body: bytes, headers: dict) -> tuple[int, dict, bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            connection.close()

    def wait_until_ready(self) -> None:
        def ready() -> bool:
            if self.process.poll() is not None:
                raise RuntimeError(f"honcho exited with {self.process.returncode}")
            # Everything started so far, noted while it runs: what stop() must see gone.
            self.started |= descendants(self.process.pid)
            with contextlib.suppress(OSError):
                return self.get("/readyz")[0] == 200
            return False

        wait_until(ready, START_TIMEOUT, interval=0.5)
        self.started |= descendants(self.process.pid)

    def stop(self) -> set[int]:
        """SIGTERM honcho; return the pids that outlived STOP_TIMEOUT (then SIGKILLed)."""
        if self.process is None:
            return set()
        self.started |= descendants(self.process.pid)
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(STOP_TIMEOUT)
        with contextlib.suppress(TimeoutError):
            wait_until(lambda: not any(alive(pid) for pid in self.started), STOP_TIMEOUT)
        left = {pid for pid in self.started if alive(pid)}
        for pid in left:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(STOP_TIMEOUT)
        return left

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@contextlib.contextmanager
def running_stack(env: dict[str, str], workdir: Path, port: int) -> Iterator[Stack]:
    stack = Stack(env, workdir, port)
    try:
        stack.start()
        yield stack
    except BaseException:
        print(f"\n--- honcho log ---\n{stack.log()[-8000:]}\n---", file=sys.stderr)
        raise
    finally:
        stack.stop()
