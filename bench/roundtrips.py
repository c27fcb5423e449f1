"""Count the round trips a request makes to PostgreSQL (psycopg 3) and Redis (redis-py).

For bench.profile_submit only: it patches the two drivers in its own process. A
PostgreSQL round trip is one call of psycopg's `execute` generator (send, then wait for
all results): a statement, or a BEGIN, COMMIT, ROLLBACK, pre-ping or PREPARE. A Redis
round trip is one `send_packed_command` (a command, or a whole pipeline).
"""

import re
from collections import Counter

import psycopg._connection_base
import psycopg._cursor_base
import psycopg.generators
import redis.connection
import sqlalchemy as sa
from sqlalchemy import event

_COMMAND = re.compile(rb"\*\d+\r\n\$\d+\r\n([A-Za-z]+)\r\n")
_SPACE = re.compile(r"\s+")


class RoundTrips:
    """Counts while `on`: totals and, for the report, what each round trip was."""

    def __init__(self) -> None:
        self.on = False
        self.totals: Counter = Counter()
        self.sql: Counter = Counter()
        self.redis: Counter = Counter()

    def install(self) -> "RoundTrips":
        self._patch_psycopg()
        self._patch_redis()
        event.listen(sa.Engine, "before_cursor_execute", self._statement)
        return self

    def _patch_psycopg(self) -> None:
        original = psycopg.generators.execute

        def execute(pgconn):
            if self.on:
                self.totals["postgres"] += 1
            return original(pgconn)

        # Statements run through the cursor's import, BEGIN/COMMIT through the module's.
        psycopg._cursor_base.execute = execute
        psycopg.generators.execute = execute
        assert psycopg._connection_base.generators is psycopg.generators

    def _patch_redis(self) -> None:
        original = redis.connection.AbstractConnection.send_packed_command
        counter = self

        def send_packed_command(self, command, check_health=True):
            if counter.on:
                counter.totals["redis"] += 1
                packed = command if isinstance(command, bytes | str) else b"".join(command)
                packed = packed.encode() if isinstance(packed, str) else packed
                names = [n.decode().upper() for n in _COMMAND.findall(packed)]
                counter.redis[" + ".join(names) or "?"] += 1
            return original(self, command, check_health)

        redis.connection.AbstractConnection.send_packed_command = send_packed_command

    def _statement(self, conn, cursor, statement, parameters, context, executemany):
        if self.on:
            self.totals["sql statements"] += 1
            self.sql[_SPACE.sub(" ", statement).strip()[:90]] += 1

    def print_per_request(self, requests: int) -> None:
        postgres, statements = self.totals["postgres"], self.totals["sql statements"]
        print(
            f"round trips per request: PostgreSQL {postgres / requests:.2f} "
            f"({statements / requests:.2f} SQL statements, the rest BEGIN/COMMIT/ping/prepare), "
            f"Redis {self.totals['redis'] / requests:.2f}"
        )
        for title, counts in (("SQL", self.sql), ("Redis", self.redis)):
            for text, count in counts.most_common():
                print(f"  {title:<5} {count / requests:5.2f}  {text}")
