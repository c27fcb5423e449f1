"""A database that is down or stalled during a submit or a sign-in: nothing is lost or doubled.

The visitor keeps every answer on a 503 retry page; staff are told sign-in is unavailable; both
work again by themselves once the database answers.
"""

import sqlite3
import threading

import pytest
import sqlalchemy as sa

from crm.extensions import db
from crm.models import AuditEvent, Contact, StaffSession, Submission
from crm.models.enums import AuditAction, Role
from crm.views.auth import DATABASE_DOWN
from tests.factories import make_user
from tests.forms import CALLBACK, GUIDE, FormClient
from tests.staff import StaffClient
from tests.tcp_proxy import TcpProxy
from tests.worker import wait_until

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


def test_postgres_cut_in_the_middle_of_many_submits_loses_and_doubles_nothing(
    app, proxied_app, proxy, config_override
):
    """Submits run while a thread cuts the database mid-stream, then lets it back.

    A cut can land during a COMMIT, which then may or may not have happened: the visitor got
    the retry page either way. Sending that page again (as the page asks) stores it at most
    once, by its one-time form nonce. So in the end each visitor is stored exactly once.
    """
    proxied_app.config.update(SUBMIT_LIMIT_PER_IP="100000/hour")
    forms = FormClient(proxied_app.test_client())
    total, cut_after, refused_before_restore = 30, 8, 3
    refused: list = []

    def cut_then_restore() -> None:
        wait_until(lambda: stored_submissions(app) >= cut_after, 30, interval=0.01)
        proxy.cut()
        wait_until(lambda: len(refused) >= refused_before_restore, 30, interval=0.01)
        proxy.restore()

    cutter = threading.Thread(target=cut_then_restore, daemon=True)
    cutter.start()
    thanked = []
    for n in range(total):
        answers = {**GUIDE, "email": f"visitor{n}@example.com", "phone": None}
        page = forms.open("/guide")
        response = forms.submit("/guide", answers, page=page)
        if response.status_code == 503:
            assert f'value="visitor{n}@example.com"' in response.get_data(as_text=True)
            assert response.headers["Retry-After"].isdigit()
            refused.append((answers, page))
        else:
            assert response.status_code == 303, response.status_code
            thanked.append(n)
    cutter.join(30)
    assert not cutter.is_alive()

    assert len(refused) >= refused_before_restore
    for answers, page in refused:  # the visitor presses the button again
        assert forms.submit("/guide", answers, page=page).status_code == 303
    with app.app_context():
        emails = db.session.scalars(
            sa.select(Contact.email).join(Submission, Submission.contact_id == Contact.id)
        ).all()
        db.session.remove()
    assert sorted(emails) == sorted(f"visitor{n}@example.com" for n in range(total))


def audit_actions(app) -> list[AuditAction]:
    with app.app_context():
        actions = db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)).all()
        db.session.remove()
    return list(actions)


@pytest.mark.parametrize("outage", ["cut", "hang"])
def test_a_sign_in_while_postgres_is_down_says_so_then_recovers(app, proxied_app, proxy, outage):
    with app.app_context():
        email = make_user(Role.advocate, email="ada@example.org").email
        db.session.remove()
    staff = StaffClient(proxied_app.test_client())
    staff.get("/login")

    getattr(proxy, outage)()
    response = staff.sign_in(email)

    assert response.status_code == 503
    assert response.headers["Retry-After"].isdigit()
    page = response.get_data(as_text=True)
    assert "Sign-in is unavailable just now" in page
    assert 'value="ada@example.org"' in page  # the email kept, the password not
    assert "correct horse" not in page
    assert staff.client.get_cookie("session") is None or staff.get("/staff").status_code == 302

    proxy.restore()
    again = staff.sign_in(email)
    assert again.status_code == 302
    assert staff.get("/staff").status_code == 200
    assert audit_actions(app) == [AuditAction.sign_in]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(StaffSession)) == 1
        db.session.remove()


def test_the_sign_in_page_itself_opens_while_postgres_is_down(proxied_app, proxy):
    proxy.cut()
    response = proxied_app.test_client().get("/login")

    assert response.status_code == 200
    assert DATABASE_DOWN not in response.get_data(as_text=True)
