"""The migrations build exactly the schema the models describe, and can be undone and redone."""

import uuid
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
from crm.extensions import db, limiter
from tests.conftest import PG_ADMIN_URL

MIGRATIONS = str(Path(__file__).resolve().parents[2] / "migrations")


def schema_drift(connection) -> list:
    """What autogenerate would write into a new migration: empty when models and schema agree."""
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return compare_metadata(context, db.metadata)


def test_models_and_migrations_describe_the_same_schema(app_ctx):
    with db.engine.connect() as connection:
        drift = schema_drift(connection)

    assert drift == [], "models and migrations disagree; write a migration:\n" + pformat(drift)


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
        # create_app() rebinds the module-level limiter and the default Celery app.
        limiter.init_app(app)
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
