"""Admins manage staff accounts at /admin/users; every change is audited, nobody else gets in."""

import pytest
import sqlalchemy as sa

from crm.extensions import db
from crm.models import AuditEvent, User
from crm.models.enums import AuditAction, Role
from tests.factories import DEFAULT_PASSWORD, make_user
from tests.staff import StaffClient

NEW_PASSWORD = "Tide-Lantern-Quill-88"


@pytest.fixture
def admin(app):
    """A signed-in admin's client; .user_id and .email say who it is."""
    with app.app_context():
        user = make_user(Role.admin, name="Ada Minh")
        user_id, email = user.id, user.email
    staff = StaffClient(app.test_client())
    staff.sign_in(email)
    staff.user_id, staff.email = user_id, email
    return staff


def a_user(app, role=Role.advocate, **fields) -> tuple[int, str]:
    with app.app_context():
        user = make_user(role, **fields)
        return user.id, user.email


def account(app, email: str) -> User | None:
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.email == email))
        if user is not None:
            db.session.expunge(user)
        return user


def audit_rows(app, action: AuditAction) -> list[AuditEvent]:
    with app.app_context():
        rows = db.session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        ).all()
        db.session.expunge_all()
        return list(rows)


NEW_ADVOCATE = {
    "email": "Rosa.Diaz@Example.org",
    "name": "Rosa Diaz",
    "role": "advocate",
    "skills": ["va_benefits", "spanish"],
    "languages": "en, ES",
    "working_hours": "09:00-17:30",
    "password": NEW_PASSWORD,
}


def test_an_admin_adds_an_advocate_with_skills_languages_and_hours(app, admin):
    response = admin.submit("/admin/users/new", NEW_ADVOCATE)

    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/users"
    page = admin.get("/admin/users").get_data(as_text=True)
    assert "Rosa Diaz" in page and "VA benefits" in page and "Spanish" in page
    assert "09:00-17:30" in page and "en, es" in page
    rosa = account(app, "rosa.diaz@example.org")
    assert (rosa.role, rosa.skills, rosa.languages) == (
        Role.advocate,
        ["spanish", "va_benefits"],
        ["en", "es"],
    )
    assert (rosa.working_hours, rosa.active) == ("09:00-17:30", True)
    (created,) = audit_rows(app, AuditAction.user_created)
    assert (created.actor_user_id, created.target_user_id) == (admin.user_id, rosa.id)
    assert created.ip_address == "127.0.0.1" and created.created_at is not None
    assert NEW_PASSWORD not in str(created.detail)
    # The new advocate signs in with the initial password.
    assert StaffClient(app.test_client()).sign_in(rosa.email, NEW_PASSWORD).status_code == 302


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short-pass1", "Use at least 12 characters."),
        ("password1234", "That password is too common; choose another."),
        ("rosa-diaz-rules", "Don&#39;t use your name or email in your password."),
    ],
)
def test_a_weak_or_common_initial_password_is_refused_with_the_policys_message(
    app, admin, password, message
):
    response = admin.submit("/admin/users/new", {**NEW_ADVOCATE, "password": password})

    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert account(app, "rosa.diaz@example.org") is None
    assert audit_rows(app, AuditAction.user_created) == []


def test_an_email_already_in_use_is_refused_whatever_its_case(app, admin):
    a_user(app, email="rosa.diaz@example.org")

    response = admin.submit("/admin/users/new", NEW_ADVOCATE)

    assert response.status_code == 422
    assert "A user with that email already exists." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(User.id))) == 2


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("working_hours", "9-5", "Use HH:MM-HH:MM in 24-hour time"),
        ("working_hours", "17:00-09:00", "The end of the working hours comes after their start."),
        ("languages", "English", "List two- or three-letter codes"),
        ("skills", ["juggling"], "is not a valid choice"),
    ],
)
def test_malformed_account_details_are_refused_on_their_field(app, admin, field, value, message):
    response = admin.submit("/admin/users/new", {**NEW_ADVOCATE, field: value})

    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert account(app, "rosa.diaz@example.org") is None


def test_an_admin_edits_a_user_and_the_audit_names_only_the_changed_fields(app, admin):
    user_id, email = a_user(app, name="Ben Ortiz", skills=["pleural"])

    response = admin.submit(
        f"/admin/users/{user_id}",
        {
            "name": "Benjamin Ortiz",
            "skills": ["pleural", "peritoneal"],
            "working_hours": "07:00-15:00",
            "new_password": NEW_PASSWORD,
        },
        form_id="edit-user",
    )

    assert response.status_code == 302
    ben = account(app, email)
    assert (ben.name, ben.skills, ben.working_hours, ben.role, ben.active) == (
        "Benjamin Ortiz",
        ["peritoneal", "pleural"],
        "07:00-15:00",
        Role.advocate,
        True,
    )
    (updated,) = audit_rows(app, AuditAction.user_updated)
    assert updated.target_user_id == user_id and updated.actor_user_id == admin.user_id
    assert updated.detail == {"changed": ["name", "skills", "working_hours", "password"]}
    assert StaffClient(app.test_client()).sign_in(email, NEW_PASSWORD).status_code == 302
    assert StaffClient(app.test_client()).sign_in(email).status_code == 200  # old one refused


def test_saving_the_edit_page_unchanged_keeps_every_ticked_skill(app, admin):
    user_id, email = a_user(app, skills=["va_benefits", "spanish", "peritoneal"])

    response = admin.submit(f"/admin/users/{user_id}", {}, form_id="edit-user")

    assert response.status_code == 302
    assert account(app, email).skills == ["peritoneal", "spanish", "va_benefits"]
    assert audit_rows(app, AuditAction.user_updated) == []  # nothing changed, nothing to audit


def test_a_weak_new_password_on_the_edit_page_changes_nothing(app, admin):
    user_id, email = a_user(app, name="Ben Ortiz")

    response = admin.submit(
        f"/admin/users/{user_id}",
        {"name": "Benjamin Ortiz", "new_password": "qwertyuiop12"},
        form_id="edit-user",
    )

    assert response.status_code == 422
    assert "That password is too common; choose another." in response.get_data(as_text=True)
    assert account(app, email).name == "Ben Ortiz"
    assert audit_rows(app, AuditAction.user_updated) == []


def test_a_disabled_user_is_signed_out_at_their_next_request(app, admin):
    user_id, email = a_user(app, name="Ben Ortiz")
    ben = StaffClient(app.test_client())
    ben.sign_in(email)
    assert ben.get("/staff").status_code == 200

    response = admin.submit(f"/admin/users/{user_id}", {}, form_id="disable-user")

    assert response.status_code == 302
    next_request = ben.get("/staff")
    assert next_request.status_code == 302
    assert next_request.headers["Location"].startswith("/login")
    assert StaffClient(app.test_client()).sign_in(email).status_code == 200  # refused
    assert account(app, email).active is False
    (disabled,) = audit_rows(app, AuditAction.user_disabled)
    assert (disabled.actor_user_id, disabled.target_user_id) == (admin.user_id, user_id)
    assert disabled.detail == {"changed": ["active"]}
    assert "Disabled" in admin.get("/admin/users").get_data(as_text=True)


def test_unticking_active_on_the_edit_page_disables_the_user_too(app, admin):
    user_id, email = a_user(app)

    admin.submit(f"/admin/users/{user_id}", {"active": None}, form_id="edit-user")

    assert account(app, email).active is False
    assert [row.target_user_id for row in audit_rows(app, AuditAction.user_disabled)] == [user_id]


def test_an_admin_cannot_disable_themselves(app, admin):
    response = admin.submit(
        f"/admin/users/{admin.user_id}", {}, form_id="disable-user", follow_redirects=True
    )

    assert "You cannot disable your own account; ask another admin." in response.get_data(
        as_text=True
    )
    assert account(app, admin.email).active is True
    assert audit_rows(app, AuditAction.user_disabled) == []


def test_the_last_active_admin_cannot_give_up_the_role(app, admin):
    a_user(app, Role.admin, name="Gone Admin")
    with app.app_context():
        db.session.execute(sa.update(User).where(User.name == "Gone Admin").values(active=False))
        db.session.commit()

    response = admin.submit(
        f"/admin/users/{admin.user_id}", {"role": "manager"}, form_id="edit-user"
    )

    assert response.status_code == 422
    assert "This is the last active admin: make another admin first." in response.get_data(
        as_text=True
    )
    assert account(app, admin.email).role == Role.admin


def test_an_admin_can_step_down_when_another_admin_remains(app, admin):
    a_user(app, Role.admin)

    admin.submit(f"/admin/users/{admin.user_id}", {"role": "manager"}, form_id="edit-user")

    assert account(app, admin.email).role == Role.manager
    # A role taken away does not live on in the cookie issued before.
    assert admin.get("/admin/users").headers["Location"].startswith("/login")


def admin_urls(app, user_id: int) -> list[tuple[str, str]]:
    """(method, url) of every admin page, so a page added later is checked too."""
    urls = []
    with app.test_request_context():
        from flask import url_for

        for rule in app.url_map.iter_rules():
            if rule.endpoint.startswith("admin."):
                values = {"user_id": user_id, "version": 1}
                url = url_for(rule.endpoint, **{a: values[a] for a in rule.arguments})
                urls.append(("GET" if "GET" in rule.methods else "POST", url))
    return urls


@pytest.mark.parametrize("role", [Role.advocate, Role.manager])
def test_advocates_and_managers_get_403_on_every_admin_page(app, role):
    user_id, email = a_user(app, role)
    staff = StaffClient(app.test_client())
    staff.sign_in(email)
    token = staff.csrf_token()

    statuses = {
        url: (
            staff.get(url) if method == "GET" else staff.post(url, data={"csrf_token": token})
        ).status_code
        for method, url in admin_urls(app, user_id)
    }

    assert len(statuses) >= 7
    assert set(statuses.values()) == {403}, statuses
    assert account(app, email).active is True


def test_anonymous_requests_to_admin_pages_go_to_sign_in(app, client):
    for url in [url for method, url in admin_urls(app, 1) if method == "GET"]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.headers["Location"] == f"/login?next={url}"


def test_the_admin_home_after_sign_in_is_the_users_page(app):
    _, email = a_user(app, Role.admin)

    response = StaffClient(app.test_client()).sign_in(email)

    assert response.headers["Location"] == "/admin/users"


# --- flask crm create-user keeps working ---------------------------------------------------------


def create_user_command(app, email: str, password: str):
    """Run `flask crm create-user` as an operator would."""
    options = ["--email", email, "--name", "Lee Wong", "--role", "manager", "--password", password]
    return app.test_cli_runner().invoke(args=["crm", "create-user", *options])


def test_create_user_on_the_command_line_makes_an_account_that_signs_in(app):
    result = create_user_command(app, "Lee@Example.org", DEFAULT_PASSWORD)

    assert result.exit_code == 0, result.output
    assert "Created manager lee@example.org" in result.output
    assert account(app, "lee@example.org").role == Role.manager
    assert StaffClient(app.test_client()).sign_in("lee@example.org").status_code == 302


def test_create_user_on_the_command_line_refuses_a_short_password_clearly(app):
    result = create_user_command(app, "lee@example.org", "short")

    assert result.exit_code == 1
    assert "Error: Use at least 12 characters." in result.output
    assert account(app, "lee@example.org") is None
