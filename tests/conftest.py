"""Fixtures: the app on real PostgreSQL and on SQLite, a clean database per test, form helpers."""

import os
import secrets
import shutil
import tempfile
from pathlib import Path

import psycopg
import pytest
import redis
import sqlalchemy as sa
from flask_migrate import upgrade

from config import normalise_database_url
from crm import create_app
from crm.extensions import db
from crm.models.enums import Role
from crm.services import rate_limits
from crm.services.api_keys import create_api_key
from crm.services.users import create_user
from tests.forms import FormClient
from tests.smtp_sink import start_smtp_sink

PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
PG_TEST_DB = os.environ.get("TEST_PG_DATABASE", "crm_test")
REDIS_TEST_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
SHARED_MEMORY = Path("/dev/shm")


def _fresh_postgres_url() -> str:
    """Recreate the test database so every run starts from the migrations."""
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
            (PG_TEST_DB,),
        )
        conn.execute(f'DROP DATABASE IF EXISTS "{PG_TEST_DB}"')
        conn.execute(f'CREATE DATABASE "{PG_TEST_DB}"')
        # A commit need not wait for its WAL to reach the disk: what other sessions see, and
        # when, is unchanged; only a crash of the server could lose the last commits, and
        # the database is thrown away anyway. Saves a disk flush on each of many commits.
        conn.execute(f'ALTER DATABASE "{PG_TEST_DB}" SET synchronous_commit = off')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    return normalise_database_url(f"{base}/{PG_TEST_DB}")


def pytest_configure(config):
    """Random Hypothesis examples on every run, with the seed printed to replay a failure."""
    if config.getoption("hypothesis_seed", None) is None:
        config.option.hypothesis_seed = secrets.randbelow(2**32)


def pytest_report_header(config):
    seed = config.getoption("hypothesis_seed", None)
    return f"hypothesis seed: {seed} (replay with --hypothesis-seed={seed})"


def pytest_collection_modifyitems(items):
    """Run tests marked postgres_only on the PostgreSQL backend only."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        on_sqlite = callspec is not None and callspec.params.get("backend") == "sqlite"
        if on_sqlite and item.get_closest_marker("postgres_only"):
            item.add_marker(pytest.mark.skip(reason="PostgreSQL only (postgres_only)"))


@pytest.fixture(scope="session", params=["postgresql", "sqlite"])
def backend(request) -> str:
    return request.param


@pytest.fixture(scope="session")
def app(backend, tmp_path_factory):
    """The app with its schema built by the migrations, as in production."""
    if backend == "postgresql":
        url = _fresh_postgres_url()
    else:
        sqlite_dir = _sqlite_dir(tmp_path_factory)
        url = f"sqlite:///{sqlite_dir / 'crm.sqlite3'}"
    redis.Redis.from_url(REDIS_TEST_URL).flushdb()
    mail_dir = tmp_path_factory.mktemp("mail")
    app = create_app(
        "testing",
        {"SQLALCHEMY_DATABASE_URI": url, "MAIL_DIR": str(mail_dir)},
    )
    with app.app_context():
        upgrade(directory=str(Path(__file__).resolve().parent.parent / "migrations"))
    yield app
    with app.app_context():
        db.engine.dispose()
    if backend == "sqlite" and sqlite_dir.parent == SHARED_MEMORY:
        shutil.rmtree(sqlite_dir, ignore_errors=True)


def _sqlite_dir(tmp_path_factory) -> Path:
    """Where the SQLite test database lives: in shared memory (/dev/shm) when there is one.

    SQLite flushes the file to disk at every commit; on tmpfs that flush costs nothing, and the
    database behaves the same otherwise (same file, locks and journal).
    """
    if SHARED_MEMORY.is_dir() and os.access(SHARED_MEMORY, os.W_OK):
        return Path(tempfile.mkdtemp(prefix="crm-test-sqlite-", dir=SHARED_MEMORY))
    return tmp_path_factory.mktemp("sqlite")


@pytest.fixture(autouse=True)
def _clean_state(request):
    """Empty every table and the rate-limit counters after each test that used the app."""
    yield
    if "app" not in request.fixturenames:
        return
    app = request.getfixturevalue("app")
    with app.app_context():
        empty_all_tables()
        rate_limits.reset()


def empty_all_tables() -> None:
    """Delete every row, append-only tables included (only tests may do this).

    Only the tables that hold rows, or whose id sequence has moved, are emptied: most tests
    touch a few of them, and emptying all of them after every test cost more than many tests.
    """
    db.session.remove()
    tables = [table.name for table in reversed(db.metadata.sorted_tables)]
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            _empty_used_postgres_tables(conn, tables)
            return
        used = _tables_with_rows(conn, tables)
        if not used:
            return
        # TRUNCATE skips row triggers; on SQLite the append-only triggers (consent records
        # refuse DELETE) step aside for the clean-up and come back after it.
        triggers = conn.execute(
            sa.text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
        ).all()
        for name, _ in triggers:
            conn.execute(sa.text(f"DROP TRIGGER {name}"))
        for table in used:
            conn.execute(sa.text(f"DELETE FROM {table}"))
        for _, sql in triggers:
            conn.execute(sa.text(sql))


def _tables_with_rows(conn, tables: list[str]) -> list[str]:
    """The given tables that hold at least one row, in the given order (one query)."""
    probes = " UNION ALL ".join(
        f"SELECT '{table}' WHERE EXISTS (SELECT 1 FROM {table})" for table in tables
    )
    with_rows = set(conn.execute(sa.text(probes)).scalars())
    return [table for table in tables if table in with_rows]


# The tables whose owned id sequence has handed out a value since it was last restarted: an
# empty table may still have one (rows deleted or rolled back), and RESTART IDENTITY must
# reach it, so ids start at 1 in every test as they did when every table was truncated.
_USED_SEQUENCES = sa.text(
    """
    SELECT owner.relname, quote_ident(s.sequencename)
    FROM pg_sequences AS s
    JOIN pg_class AS seq
      ON seq.relname = s.sequencename AND seq.relnamespace = s.schemaname::regnamespace
    JOIN pg_depend AS dep
      ON dep.classid = 'pg_class'::regclass AND dep.objid = seq.oid AND dep.deptype IN ('a', 'i')
    JOIN pg_class AS owner ON owner.oid = dep.refobjid
    WHERE s.schemaname = current_schema() AND s.last_value IS NOT NULL
    """
)


def _empty_used_postgres_tables(conn, tables: list[str]) -> None:
    with_rows = _tables_with_rows(conn, tables)
    sequences = conn.execute(_USED_SEQUENCES).all()
    if not with_rows and not sequences:
        return
    # TRUNCATE, not DELETE, though a DELETE of a few rows is quicker: TRUNCATE waits for any
    # transaction still writing to the table, and gives the next test fresh files, so rows
    # come back in the order they were written, as a new database's would.
    used = set(with_rows) | {table for table, _ in sequences}
    names = ", ".join(table for table in tables if table in used)
    conn.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture
def app_ctx(app):
    with app.app_context():
        yield app
        db.session.remove()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def api_key(app) -> str:
    """A live API key, created through the service as `flask crm api-key create` does."""
    with app.app_context():
        _, key = create_api_key("tests")
        db.session.remove()
    return key


@pytest.fixture
def api_client(app, api_key):
    """A test client that sends a live API key with every request, as a client's server does."""
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {api_key}"
    return client


@pytest.fixture
def forms(client) -> FormClient:
    return FormClient(client)


@pytest.fixture
def make_app(app):
    """Build more apps on the test database (other settings); the shared extensions come back."""
    made = []

    def make(config_name: str = "testing", **overrides):
        defaults = {
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "MAIL_DIR": app.config["MAIL_DIR"],
        }
        other = create_app(config_name, {**defaults, **overrides})
        made.append(other)
        return other

    yield make
    for other in made:
        with other.app_context():
            db.engine.dispose()
    # create_app() rebinds the default Celery app.
    app.extensions["celery"].set_default()


@pytest.fixture
def managers(app_ctx):
    """Two managers on duty, one who has left, and an advocate; returns the ids on duty."""
    on_duty = [
        create_user("dana@example.org", "Dana Park", Role.manager, "pw-1-long-enough").id,
        create_user("lee@example.org", "Lee Wong", Role.manager, "pw-2-long-enough").id,
    ]
    departed = create_user("old@example.org", "Old Boss", Role.manager, "pw-3-long-enough")
    departed.active = False
    create_user("adv@example.org", "Ada Vocate", Role.advocate, "pw-4-long-enough")
    db.session.commit()
    return on_duty


@pytest.fixture
def config_override(app):
    """Change app config for one test and put it back afterwards."""
    saved = {}

    def override(**values):
        for key, value in values.items():
            saved.setdefault(key, app.config.get(key))
            app.config[key] = value

    yield override
    app.config.update(saved)


@pytest.fixture
def smtp_sink(app):
    """A real aiosmtpd server the app sends to for one test; yields its received messages."""
    controller, sink = start_smtp_sink()
    saved = app.config["SMTP_URL"]
    # The sink speaks plain SMTP: opting out of STARTTLS is said out loud, as it must be.
    app.config["SMTP_URL"] = f"smtp://{controller.hostname}:{controller.port}?starttls=false"
    try:
        yield sink
    finally:
        app.config["SMTP_URL"] = saved
        controller.stop()
