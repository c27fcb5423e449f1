"""Search pages come in byte order on a database whose own collation orders text otherwise."""

import uuid
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from config import normalise_database_url
from crm import create_app
from crm.extensions import db
from crm.models import Contact
from crm.services.contact_search import search_contacts
from tests.conftest import PG_ADMIN_URL

MIGRATIONS = str(Path(__file__).resolve().parents[2] / "migrations")


@pytest.fixture
def english_app(app, backend):
    """The app on a new PostgreSQL database that sorts text as American English does (ICU)."""
    if backend != "postgresql":
        pytest.skip("PostgreSQL only (a database collation)")
    name = f"crm_search_icu_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(
            f"CREATE DATABASE \"{name}\" TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US'"
        )
    other = create_app(
        "testing",
        {
            "SQLALCHEMY_DATABASE_URI": normalise_database_url(
                f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
            )
        },
    )
    try:
        with other.app_context():
            upgrade(directory=MIGRATIONS)
            yield other
            db.session.remove()
            db.engine.dispose()
    finally:
        app.extensions["celery"].set_default()  # create_app() rebinds the default Celery app
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_pages_follow_byte_order_whatever_the_databases_collation(english_app):
    firsts = ["Ann", "Ann B", "Ann'e", "Ann-Marie", "Anna"]
    for number, first in enumerate(firsts):
        db.session.add(
            Contact(first_name=first, last_name="Smith", phone_e164=f"+1202555010{number}")
        )
    db.session.commit()
    # This database puts a hyphen before an apostrophe; bytes put it after.
    assert db.session.scalar(sa.text("SELECT 'ann-marie' < 'ann''e'"))

    names, after = [], None
    while True:
        page = search_contacts("ann", after=after, limit=2)
        names += [row.name for row in page.rows]
        if page.next_cursor is None:
            break
        after = page.next_cursor

    # Byte order of the keys ("ann b smith" < "ann smith" < "ann'e smith" < "ann-marie ..."),
    # which is Python's order of the same strings.
    assert names == sorted((f"{first} Smith" for first in firsts), key=str.lower)
