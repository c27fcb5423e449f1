"""What a bench target costs in CPU: its server's process group and its database backends.

Linux /proc only. On a small machine shared with other work the throughput of a
CPU-bound target moves with that work; CPU per request moves much less.
"""

import contextlib
import os
from pathlib import Path


def cpu_seconds(pids) -> dict[int, float]:
    """User plus system CPU seconds of each process, by pid."""
    ticks = os.sysconf("SC_CLK_TCK")
    found = {}
    for pid in pids:
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            found[pid] = (int(fields[11]) + int(fields[12])) / ticks  # utime + stime
    return found


def process_group(pgid: int) -> list[int]:
    """The pids of a process group: a server or worker started in a session of its own."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError):
            if int(stat.read_text().rsplit(")", 1)[1].split()[2]) == pgid:
                members.append(int(stat.parent.name))
    return members


def machine_ticks() -> tuple[int, int]:
    """(busy, all) CPU ticks of the whole machine since boot, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return sum(values) - values[3] - values[4], sum(values)  # minus idle and iowait


class CpuMeter:
    """CPU seconds of a server's or worker's process group and of this database's backends."""

    def __init__(self, engine, database: str, worker_pid: int) -> None:
        self.engine, self.database, self.worker_pid = engine, database, worker_pid

    def _backends(self) -> list[int]:
        import sqlalchemy as sa

        with self.engine.connect() as connection:
            query = sa.text(
                "SELECT pid FROM pg_stat_activity WHERE datname = :d AND pid <> pg_backend_pid()"
            )
            return list(connection.scalars(query, {"d": self.database}))

    def snapshot(self) -> dict:
        worker = cpu_seconds(process_group(self.worker_pid))
        return {"worker": worker, "db": cpu_seconds(self._backends())}

    @staticmethod
    def spent(before: dict, after: dict) -> dict[str, float]:
        return {
            part: round(sum(t - before[part].get(pid, 0.0) for pid, t in after[part].items()), 3)
            for part in ("worker", "db")
        }
