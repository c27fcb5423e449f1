"""A database that is down or stalled during a submit: the visitor keeps every answer."""

import sqlite3

import pytest
import sqlalchemy as sa

from crm.extensions import db
from crm.models import Submission
from tests.forms import CALLBACK, FormClient
from tests.tcp_proxy import TcpProxy

BOUNDS = {"DB_CONNECT_TIMEOUT_SECONDS": 1, "DB_STATEMENT_TIMEOUT_MS": 1000}


@pytest.fixture
def proxy(app):
    """A proxy between a second app and the test database (PostgreSQL only)."""
    url = sa.make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() != "postgresql":
        pytest.skip("the TCP proxy stands in front of PostgreSQL")
    tcp = TcpProxy((url.host, url.port or 5432))
    yield tcp
    tcp.stop()


@pytest.fixture
def proxied_app(app, proxy, make_app):
    """The app on a PostgreSQL connection that goes through the proxy."""
    url = sa.make_url(app.config["SQLALCHEMY_DATABASE_URI"]).set(host="127.0.0.1", port=proxy.port)
    return make_app(SQLALCHEMY_DATABASE_URI=url.render_as_string(hide_password=False), **BOUNDS)


@pytest.fixture
def sqlite_app(app, make_app):
    if sa.make_url(app.config["SQLALCHEMY_DATABASE_URI"]).get_backend_name() != "sqlite":
        pytest.skip("SQLite's own outage: another process holding the write lock")
    return make_app(**BOUNDS)


def stored_submissions(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Submission))


def assert_answers_kept_with_a_way_out(response, app) -> None:
    assert response.status_code == 503
    assert response.headers["Retry-After"].isdigit()
    page = response.get_data(as_text=True)
    assert 'value="James"' in page
    assert "My father was just diagnosed." in page
    assert app.config["ORG_PHONE"] in page
    assert "nothing was sent" in page


def test_a_submit_while_postgres_is_down_gives_the_form_back_then_recovers(app, proxied_app, proxy):
    forms = FormClient(proxied_app.test_client())
    assert forms.submit("/callback", CALLBACK).status_code == 303  # the pool holds a connection
    page = forms.open("/callback")

    proxy.cut()
    response = forms.submit("/callback", CALLBACK, page=page)

    assert_answers_kept_with_a_way_out(response, proxied_app)
    assert stored_submissions(app) == 1
    proxy.restore()
    again = forms.submit("/callback", CALLBACK, page=page)
    assert again.status_code == 303
    assert "/thank-you/" in again.location
    assert stored_submissions(app) == 2


def test_a_submit_while_postgres_does_not_answer_gives_the_form_back(app, proxied_app, proxy):
    forms = FormClient(proxied_app.test_client())
    page = forms.open("/callback")

    proxy.hang()
    response = forms.submit("/callback", CALLBACK, page=page)

    assert_answers_kept_with_a_way_out(response, proxied_app)
    proxy.restore()
    assert forms.submit("/callback", CALLBACK, page=page).status_code == 303
    assert stored_submissions(app) == 1


def test_the_api_answers_503_with_retry_after_while_postgres_is_down(
    app, proxied_app, proxy, api_key
):
    client = proxied_app.test_client()
    proxy.cut()

    response = client.post(
        "/api/v1/submissions/callback",
        json={**CALLBACK, "consent_calls": True},
        headers={"Authorization": f"Bearer {api_key}"},
    )

    assert response.status_code == 503
    assert response.headers["Retry-After"].isdigit()
    assert response.is_json


def test_a_submit_while_sqlite_is_locked_gives_the_form_back(app, sqlite_app):
    forms = FormClient(sqlite_app.test_client())
    page = forms.open("/callback")
    database = sa.make_url(app.config["SQLALCHEMY_DATABASE_URI"]).database
    blocker = sqlite3.connect(database, timeout=0)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        response = forms.submit("/callback", CALLBACK, page=page)
    finally:
        blocker.rollback()
        blocker.close()

    assert_answers_kept_with_a_way_out(response, sqlite_app)
    assert forms.submit("/callback", CALLBACK, page=page).status_code == 303
    assert stored_submissions(app) == 1
