"""Staff sign-in: one message for every wrong guess, server-side sessions, throttling, roles."""

from datetime import timedelta

import pytest
import sqlalchemy as sa
from werkzeug.security import generate_password_hash

from crm.extensions import db
from crm.models import AuditEvent, StaffSession, User, utcnow
from crm.models.enums import AuditAction, Role
from crm.services import login_throttle, passwords, users
from crm.views.auth import WRONG_CREDENTIALS
from tests.factories import DEFAULT_PASSWORD, make_user
from tests.staff import StaffClient


@pytest.fixture
def staff(client) -> StaffClient:
    return StaffClient(client)


@pytest.fixture
def advocate(app_ctx) -> User:
    return make_user(Role.advocate, email="ada@example.org", name="Ada Vocate")


def audit_actions() -> list[AuditAction]:
    db.session.rollback()
    return list(db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)))


def test_anonymous_staff_page_redirects_to_sign_in_with_the_page_to_return_to(client):
    response = client.get("/staff")

    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/staff"


def test_advocate_signs_in_with_email_and_password_and_it_is_audited(staff, advocate):
    response = staff.sign_in("Ada@Example.org ", DEFAULT_PASSWORD)

    assert response.status_code == 302
    home = staff.get(response.headers["Location"], follow_redirects=True)
    assert "Ada Vocate" in home.get_data(as_text=True)
    assert audit_actions() == [AuditAction.sign_in]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(StaffSession)) == 1


def test_sign_in_returns_to_the_page_asked_for_but_never_to_another_site(staff, advocate):
    back = staff.sign_in(advocate.email, query_string={"next": "/staff?x=1"})
    staff.sign_out()
    elsewhere = staff.sign_in(advocate.email, query_string={"next": "https://evil.example/"})

    assert back.headers["Location"] == "/staff?x=1"
    assert "evil" not in elsewhere.headers["Location"]


@pytest.mark.parametrize("email", ["ada@example.org", "nobody@example.org"])
def test_a_wrong_password_and_an_unknown_email_get_the_same_answer(staff, advocate, email):
    response = staff.sign_in(email, "not the right password at all")

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert WRONG_CREDENTIALS.replace("'", "&#39;") in page
    assert email in page  # the email stays in the form, the password does not
    assert "not the right password" not in page
    assert audit_actions() == [AuditAction.sign_in_failed]


def test_a_disabled_account_cannot_sign_in_even_with_its_password(staff, advocate):
    advocate.active = False
    db.session.commit()

    response = staff.sign_in(advocate.email)

    assert WRONG_CREDENTIALS.replace("'", "&#39;") in response.get_data(as_text=True)


def test_sign_in_without_the_forms_csrf_token_is_refused(client, advocate):
    response = client.post("/login", data={"email": advocate.email, "password": DEFAULT_PASSWORD})

    assert response.status_code == 400
    assert audit_actions() == []


def test_a_cookie_copied_before_sign_out_no_longer_works_after_it(app, staff, advocate):
    staff.sign_in(advocate.email)
    copied = StaffClient(app.test_client())
    copied.client.set_cookie("session", staff.client.get_cookie("session").value)
    assert copied.get("/staff").status_code == 200

    staff.sign_out()

    assert copied.get("/staff").status_code == 302
    assert audit_actions() == [AuditAction.sign_in, AuditAction.sign_out]


def test_disabling_a_user_ends_their_sessions_at_once(staff, advocate):
    staff.sign_in(advocate.email)
    user = db.session.get(User, advocate.id)

    users.update_user(
        user,
        name=user.name,
        role=user.role,
        skills=user.skills,
        languages=user.languages,
        working_hours=user.working_hours,
        active=False,
    )
    db.session.commit()

    assert staff.get("/staff").status_code == 302


@pytest.mark.parametrize(
    ("column", "age"),
    [("last_seen_at", timedelta(minutes=16)), ("created_at", timedelta(hours=12, minutes=1))],
)
def test_a_session_ends_after_15_idle_minutes_or_12_hours_in_all(staff, advocate, column, age):
    staff.sign_in(advocate.email)
    assert staff.get("/staff").status_code == 200
    db.session.execute(sa.update(StaffSession).values({column: utcnow() - age}))
    db.session.commit()

    response = staff.get("/staff", follow_redirects=True)

    assert "Your session ended; please sign in again." in response.get_data(as_text=True)
    ended = db.session.scalar(sa.select(StaffSession.ended_reason))
    assert ended == ("idle" if column == "last_seen_at" else "lifetime")


def test_each_sign_in_gets_a_new_session_token(app, advocate):
    first, second = StaffClient(app.test_client()), StaffClient(app.test_client())
    first.sign_in(advocate.email)
    second.sign_in(advocate.email)

    tokens = db.session.scalars(sa.select(StaffSession.token_hash)).all()
    assert len(set(tokens)) == 2
    assert first.client.get_cookie("session").value != second.client.get_cookie("session").value


def test_passwords_are_hashed_with_argon2id_at_least_as_strong_as_owasps_floor(advocate):
    params = dict(item.split("=") for item in advocate.password_hash.split("$")[3].split(","))

    assert advocate.password_hash.startswith("$argon2id$")
    assert int(params["t"]) >= 2 and int(params["m"]) >= 19 * 1024


def test_an_older_hash_is_replaced_by_argon2id_at_the_next_sign_in(staff, advocate):
    advocate.password_hash = generate_password_hash(DEFAULT_PASSWORD)
    db.session.commit()

    assert staff.sign_in(advocate.email).status_code == 302

    db.session.refresh(advocate)
    assert advocate.password_hash.startswith("$argon2id$")


def test_guessing_is_slowed_per_account_but_the_advocates_own_browser_still_gets_in(
    app, config_override, advocate
):
    config_override(LOGIN_LIMIT_PER_ACCOUNT="3/15 minutes")
    own_browser = StaffClient(app.test_client())
    own_browser.sign_in(advocate.email)
    own_browser.sign_out()
    attacker = StaffClient(app.test_client())

    answers = [attacker.sign_in(advocate.email, "guess number one!").status_code for _ in range(3)]
    refused = attacker.sign_in(advocate.email, DEFAULT_PASSWORD)

    assert answers == [200, 200, 200]
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert "Too many sign-in attempts" in refused.get_data(as_text=True)
    assert own_browser.client.get_cookie(login_throttle.DEVICE_COOKIE, path="/login")
    assert own_browser.sign_in(advocate.email).status_code == 302
    assert AuditAction.sign_in_throttled in audit_actions()


def test_one_address_guessing_many_accounts_is_slowed_too(app, config_override, app_ctx):
    config_override(LOGIN_LIMIT_PER_IP="4/15 minutes")
    attacker = StaffClient(app.test_client())

    answers = [
        attacker.sign_in(f"someone{n}@example.org", "guess number one!").status_code
        for n in range(5)
    ]

    assert answers == [200, 200, 200, 200, 429]


def test_successful_sign_ins_do_not_use_up_the_accounts_attempts(app, config_override, advocate):
    config_override(LOGIN_LIMIT_PER_ACCOUNT="2/15 minutes", LOGIN_LIMIT_PER_DEVICE="2/15 minutes")
    for _ in range(4):
        browser = StaffClient(app.test_client())
        assert browser.sign_in(advocate.email).status_code == 302


@pytest.mark.parametrize("email", ["ada@example.org", "nobody@example.org"])
def test_an_unknown_email_costs_one_argon2_verification_like_a_wrong_password(
    staff, advocate, email, monkeypatch
):
    checked = []
    real_verify = passwords.verify

    def counting_verify(stored_hash, password):
        checked.append(stored_hash.split("$")[1])
        return real_verify(stored_hash, password)

    monkeypatch.setattr(passwords, "verify", counting_verify)

    staff.sign_in(email, "not the right password at all")

    assert checked == ["argon2id"]
