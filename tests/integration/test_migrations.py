"""The migrations build exactly the schema the models describe, and can be undone and redone."""

import re
import uuid
import warnings
from collections import Counter
from datetime import date
from pathlib import Path
from pprint import pformat

import psycopg
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from config import normalise_database_url
from crm import create_app
from crm.extensions import db
from tests.conftest import PG_ADMIN_URL

MIGRATIONS = str(Path(__file__).resolve().parents[2] / "migrations")


def schema_drift(connection) -> list:
    """What autogenerate would write into a new migration: empty when models and schema agree."""
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    with warnings.catch_warnings():
        if connection.dialect.name == "sqlite":
            # SQLite cannot reflect expression indexes, so alembic skips them there; the
            # models declare theirs for PostgreSQL only (Index.ddl_if), where they are compared.
            warnings.filterwarnings("ignore", "autogenerate skipping .* expression-based index")
        return compare_metadata(context, db.metadata)


def test_models_and_migrations_describe_the_same_schema(app_ctx):
    with db.engine.connect() as connection:
        drift = schema_drift(connection)

    assert drift == [], "models and migrations disagree; write a migration:\n" + pformat(drift)


# Words that differ between how PostgreSQL, SQLite and SQLAlchemy spell the same CHECK.
_CHECK_NOISE = {"text", "character", "varying", "any", "array", "in", "="}
# Tables whose rows are evidence or trail: the database itself refuses UPDATE and DELETE.
APPEND_ONLY_TABLES = {
    mapper.class_.__tablename__
    for mapper in db.Model.registry.mappers
    if getattr(mapper.class_, "__append_only__", False)
}


def check_signature(sql: str) -> Counter:
    """The literals, columns and operators of a CHECK, whatever the dialect's spelling."""
    tokens = re.findall(r"'[^']*'|[A-Za-z_][A-Za-z0-9_]*|\d+|[<>!=]+", sql)
    spelled = {"<>": "!="}
    return Counter(
        token if token.startswith("'") else spelled.get(token, token.lower())
        for token in tokens
        if token.lower() not in _CHECK_NOISE
    )


def model_checks(dialect) -> dict[tuple[str, str], Counter]:
    checks = {}
    for table in db.metadata.sorted_tables:
        for constraint in table.constraints:
            if isinstance(constraint, sa.CheckConstraint):
                sql = constraint.sqltext.compile(
                    dialect=dialect, compile_kwargs={"literal_binds": True}
                )
                unqualified = str(sql).replace(f"{table.name}.", "")
                checks[(table.name, str(constraint.name))] = check_signature(unqualified)
    return checks


def database_checks(connection) -> dict[tuple[str, str], Counter]:
    inspector = sa.inspect(connection)
    return {
        (table, check["name"]): check_signature(check["sqltext"])
        for table in table_names(connection)
        for check in inspector.get_check_constraints(table)
    }


def guarded_events(connection, table: str) -> set[str]:
    """Which row changes a BEFORE trigger refuses on this table."""
    if connection.dialect.name == "postgresql":
        definitions = connection.scalars(
            sa.text(
                "SELECT pg_get_triggerdef(oid) FROM pg_trigger "
                "WHERE tgrelid = CAST(:table AS regclass) AND NOT tgisinternal"
            ),
            {"table": table},
        )
    else:
        definitions = connection.scalars(
            sa.text("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :table"),
            {"table": table},
        )
    text = " ".join(definitions).upper()
    return {
        event
        for event in ("UPDATE", "DELETE")
        if f"BEFORE {event}" in text or f"OR {event}" in text
    }


def test_the_databases_check_constraints_are_the_models(app_ctx):
    with db.engine.connect() as connection:
        in_database = database_checks(connection)
    in_models = model_checks(db.engine.dialect)

    assert in_database.keys() == in_models.keys()
    differ = {
        key: (in_models[key], in_database[key])
        for key in in_models
        if in_models[key] != in_database[key]
    }
    assert differ == {}, pformat(differ)


def test_append_only_tables_refuse_update_and_delete_in_the_database(app_ctx):
    assert {"consent_records", "timeline_events", "audit_events"} <= APPEND_ONLY_TABLES
    with db.engine.connect() as connection:
        guarded = {table: guarded_events(connection, table) for table in APPEND_ONLY_TABLES}

    assert guarded == {table: {"UPDATE", "DELETE"} for table in APPEND_ONLY_TABLES}


@pytest.fixture
def throwaway_database_url(backend, tmp_path):
    """An empty database of the same kind, apart from the one the other tests share."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.sqlite3'}"
        return
    name = f"crm_migrations_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield normalise_database_url(f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}")
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (name,),
            )
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


@pytest.fixture
def throwaway_app(app, throwaway_database_url):
    """A second app on the throwaway database; the shared extensions go back to `app` after."""
    other = create_app("testing", {"SQLALCHEMY_DATABASE_URI": throwaway_database_url})
    try:
        yield other
    finally:
        with other.app_context():
            db.engine.dispose()
        # create_app() rebinds the default Celery app.
        app.extensions["celery"].set_default()


def table_names(connection) -> set[str]:
    return set(sa.inspect(connection).get_table_names()) - {"alembic_version"}


def test_migrations_downgrade_to_nothing_and_upgrade_again(throwaway_app):
    expected_tables = set(db.metadata.tables)
    with throwaway_app.app_context():
        upgrade(directory=MIGRATIONS)
        with db.engine.connect() as connection:
            assert table_names(connection) == expected_tables

        downgrade(directory=MIGRATIONS, revision="base")
        with db.engine.connect() as connection:
            assert table_names(connection) == set()
            if connection.dialect.name == "postgresql":
                functions = connection.scalar(
                    sa.text("SELECT count(*) FROM pg_proc WHERE proname = :name"),
                    {"name": "consent_records_immutable"},
                )
                assert functions == 0, "downgrade left the consent trigger function behind"

        upgrade(directory=MIGRATIONS)
        with db.engine.connect() as connection:
            assert table_names(connection) == expected_tables
            drift = schema_drift(connection)
    assert drift == [], pformat(drift)


def test_upgrading_a_database_that_holds_leads_keeps_every_row(throwaway_app):
    # SQLite alters a table by rebuilding it; with foreign keys on, dropping the old contacts
    # table used to cascade to every submission and consent record.
    now = "2026-11-20 10:00:00"
    rows = [
        "INSERT INTO contacts (id, first_name, last_name, email, is_veteran, stage,"
        " submission_count, created_at, updated_at)"
        f" VALUES (1, 'Maria', 'Lopez', 'maria@example.com', false, 'new', 1, '{now}', '{now}')",
        "INSERT INTO submissions (id, public_id, form, contact_id, idempotency_key,"
        " is_reengagement, fields, created_at)"
        f" VALUES (1, 'p1', 'guide', 1, 'api:retry-1', false, '{{}}', '{now}')",
        "INSERT INTO consent_records (id, contact_id, submission_id, channel, granted, text,"
        " text_version, recorded_at, form)"
        f" VALUES (1, 1, 1, 'email', true, 'I agree', 'v1', '{now}', 'guide')",
    ]
    with throwaway_app.app_context():
        upgrade(directory=MIGRATIONS, revision="0002")
        with db.engine.begin() as connection:
            for statement in rows:
                connection.execute(sa.text(statement))

        upgrade(directory=MIGRATIONS)

        with db.engine.connect() as connection:
            kept = connection.execute(
                sa.text(
                    "SELECT s.idempotency_key, c.email FROM consent_records r"
                    " JOIN submissions s ON s.id = r.submission_id"
                    " JOIN contacts c ON c.id = s.contact_id"
                )
            ).all()
            if connection.dialect.name == "sqlite":
                assert connection.scalar(sa.text("PRAGMA foreign_keys")) == 1
    assert [tuple(row) for row in kept] == [("api:retry-1", "maria@example.com")]


def test_upgrading_a_database_with_roll_ups_fills_the_report_slices(throwaway_app):
    # 0018 adds the slices; the reports read them at once, so the upgrade must fill them
    # from the daily roll-ups already there, as a rebuild would.
    from tests.rollup_data import expected_slices

    funnel = {
        (date(2026, 10, 30), "guide", "fb", "", "=cmd", "pleural", True, "CA", 0, "new"): 3,
        (date(2026, 10, 30), "guide", "fb", "", "=cmd", "pleural", True, "CA", 0, "lost:spam"): 1,
        (date(2026, 11, 2), "callback", "", "", "", "", False, "", 7, "new"): 2,
        (date(2026, 11, 2), "callback", "", "", "", "", False, "", 7, "contacted"): 0,
    }
    speed = {(date(2026, 10, 30), "guide", 7, 45): 2, (date(2026, 11, 2), "callback", 7, 3): 1}
    calls = {(date(2026, 11, 2), 7, "reached", 300): (2, 640)}
    tables = {
        "funnel_daily": ("day, form, source, medium, campaign, diagnosis, is_veteran, state,"
                         " advocate_id, stage, contacts", funnel),
        "speed_daily": ("day, form, advocate_id, minutes_bucket, contacts", speed),
        "call_daily": ("day, user_id, outcome, seconds_bucket, calls, seconds_total", calls),
    }  # fmt: skip
    with throwaway_app.app_context():
        upgrade(directory=MIGRATIONS, revision="0017")
        with db.engine.begin() as connection:
            for table, (columns, rows) in tables.items():
                names = [name.strip() for name in columns.split(",")]
                for key, amounts in rows.items():
                    values = (*key, *(amounts if isinstance(amounts, tuple) else (amounts,)))
                    connection.execute(
                        sa.text(
                            f"INSERT INTO {table} ({columns})"
                            f" VALUES ({', '.join(':' + name for name in names)})"
                        ),
                        dict(zip(names, values, strict=True)),
                    )
        upgrade(directory=MIGRATIONS)
        with db.engine.connect() as connection:
            filled = {
                tuple(row[:6]): (row[6], row[7])
                for row in connection.execute(
                    sa.text(
                        "SELECT family, dimension, span, day, value, measure, n, total"
                        " FROM report_slices WHERE n != 0 OR total != 0"
                    )
                )
            }
    # SQLite hands dates back as text through a plain SELECT.
    filled = {(*key[:3], date.fromisoformat(str(key[3])), *key[4:]): v for key, v in filled.items()}
    assert filled == expected_slices(funnel, speed, calls)
