"""Liveness and readiness: is the database there, the broker, the schema, the beat heartbeat.

Each check is one cheap round trip with a short timeout, and says only "ok" or why not in a
word: a probe's answer is read by load balancers and people, so it names no host, URL,
exception text or secret.
"""

import functools
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import redis
import sqlalchemy as sa
from alembic.config import Config as AlembicConfig
from alembic.script import ScriptDirectory
from flask import current_app
from sqlalchemy.dialects.postgresql import insert as postgres_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from crm.extensions import db
from crm.models import Heartbeat

BEAT = "beat"
MIGRATIONS_DIR = Path(__file__).resolve().parents[3] / "migrations"
# A probe gives up on the broker after this long: a hung Redis must not hang the probe.
BROKER_TIMEOUT_SECONDS = 1.0


@dataclass
class Readiness:
    checks: dict[str, str] = field(default_factory=dict)

    @property
    def failed(self) -> list[str]:
        return [name for name, state in self.checks.items() if state != "ok"]

    @property
    def ready(self) -> bool:
        return not self.failed

    def as_json(self) -> dict:
        return {
            "status": "ready" if self.ready else "unavailable",
            "checks": self.checks,
            "failed": self.failed,
        }


def readiness(now: datetime) -> Readiness:
    """Database, migrations at head, beat heartbeat fresh, broker reachable."""
    report = Readiness()
    try:
        # One connection of its own (not the request's session): a failure here leaves no
        # half-open transaction behind, and the pool's pre-ping replaces a dead connection.
        with db.engine.connect() as connection:
            report.checks["database"] = "ok"
            _read_schema_and_beat(connection, report, now)
    except sa.exc.SQLAlchemyError:
        report.checks.update(database="unreachable", migrations="unknown", beat="unknown")
    report.checks["broker"] = "ok" if broker_reachable() else "unreachable"
    return report


def _read_schema_and_beat(connection, report: Readiness, now: datetime) -> None:
    try:
        revisions = set(connection.execute(_CURRENT_REVISIONS).scalars())
    except sa.exc.DBAPIError as error:
        if error.connection_invalidated:
            raise  # the database went away: unreachable, not unmigrated
        revisions = set()  # a database never migrated has no alembic_version table
    if revisions != migration_heads():
        # Behind (or ahead of) this code: the heartbeat's table may not even be there.
        report.checks.update(migrations="not at head", beat="unknown")
        return
    report.checks["migrations"] = "ok"
    beat_at = connection.execute(
        sa.select(Heartbeat.beat_at).where(Heartbeat.name == BEAT)
    ).scalar()
    report.checks["beat"] = _beat_state(beat_at, now)


_CURRENT_REVISIONS = sa.text("SELECT version_num FROM alembic_version")


def _beat_state(beat_at: datetime | None, now: datetime) -> str:
    if beat_at is None:
        return "never seen"
    age = (now - beat_at).total_seconds()
    return "ok" if age <= current_app.config["BEAT_HEARTBEAT_MAX_AGE_SECONDS"] else "stale"


@functools.cache
def migration_heads() -> set[str]:
    """The head revisions of the migrations this code ships with (read once per process)."""
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return set(ScriptDirectory.from_config(config).get_heads())


def broker_reachable() -> bool:
    url = current_app.config["CELERY"]["broker_url"]
    try:
        if url.startswith(("redis://", "rediss://", "unix://")):
            return bool(_redis_client(url).ping())
        # The embedded broker (kombu's SQLAlchemy transport) or any other: kombu connects.
        with current_app.extensions["celery"].connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT_SECONDS)
        return True
    except Exception:
        return False


@functools.cache
def _redis_client(url: str) -> redis.Redis:
    # Cached per process: each probe reuses a pooled connection instead of a new handshake.
    return redis.Redis.from_url(
        url,
        socket_connect_timeout=BROKER_TIMEOUT_SECONDS,
        socket_timeout=BROKER_TIMEOUT_SECONDS,
    )


def record_beat(now: datetime) -> None:
    """Upsert the beat heartbeat row and commit (any number of workers may race to do it)."""
    insert = postgres_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
    statement = insert(Heartbeat).values(name=BEAT, beat_at=now)
    statement = statement.on_conflict_do_update(
        index_elements=[Heartbeat.name], set_={"beat_at": statement.excluded.beat_at}
    )
    db.session.execute(statement)
    db.session.commit()
