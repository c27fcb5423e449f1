"""Staff pages: every view names its roles, others get 403, and a request is one transaction."""

import pytest
import sqlalchemy as sa
from flask import abort

from crm.extensions import db
from crm.models import AuditEvent
from crm.models.enums import AuditAction, Role
from crm.services import audit
from crm.views.staff import ADMINS, ADVOCATES, MANAGERS, role_required, staff_blueprint
from tests.factories import make_user
from tests.staff import StaffClient


def practice_blueprint():
    bp = staff_blueprint("practice", __name__, url_prefix="/practice")

    @bp.route("/advocates")
    @role_required(*ADVOCATES)
    def for_advocates():
        return "advocate page"

    @bp.route("/managers")
    @role_required(*MANAGERS)
    def for_managers():
        return "manager page"

    @bp.route("/admins")
    @role_required(*ADMINS)
    def for_admins():
        return "admin page"

    @bp.route("/half-done", methods=["POST"])
    @role_required(*ADVOCATES)
    def half_done():
        audit.record(AuditAction.note_added, None, None, detail={"step": 1})
        abort(409)

    return bp


@pytest.fixture
def practice_app(make_app):
    app = make_app()
    app.register_blueprint(practice_blueprint())
    return app


def test_a_staff_view_that_names_no_roles_is_refused_when_the_app_is_built():
    bp = staff_blueprint("careless", __name__)

    with pytest.raises(TypeError, match="no @role_required"):

        @bp.route("/oops")
        def oops():
            return "anyone could see this"


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (Role.advocate, {"advocates"}),
        (Role.manager, {"advocates", "managers"}),
        (Role.admin, {"admins"}),
    ],
)
def test_each_role_opens_its_own_pages_and_gets_403_elsewhere(practice_app, role, allowed):
    with practice_app.app_context():
        email = make_user(role).email
    staff = StaffClient(practice_app.test_client())
    staff.sign_in(email)

    statuses = {
        page: staff.get(f"/practice/{page}").status_code
        for page in ("advocates", "managers", "admins")
    }

    assert statuses == {page: 200 if page in allowed else 403 for page in statuses}
    with practice_app.app_context():
        denied = db.session.scalars(
            sa.select(AuditEvent.detail).where(AuditEvent.action == AuditAction.access_denied)
        ).all()
    assert sorted(d["endpoint"] for d in denied) == sorted(
        f"practice.for_{page}" for page in statuses if page not in allowed
    )


def test_anonymous_requests_to_any_staff_page_go_to_sign_in(practice_app):
    client = practice_app.test_client()

    for page in ("advocates", "managers", "admins"):
        response = client.get(f"/practice/{page}")
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login?next=/practice/")


def test_a_request_that_fails_half_way_leaves_nothing_behind(practice_app):
    with practice_app.app_context():
        email = make_user(Role.advocate).email
    staff = StaffClient(practice_app.test_client())
    staff.sign_in(email)
    response = staff.post("/practice/half-done", data={"csrf_token": staff.csrf_token()})

    assert response.status_code == 409
    with practice_app.app_context():
        actions = db.session.scalars(sa.select(AuditEvent.action)).all()
    assert actions == [AuditAction.sign_in]


def test_a_state_change_without_the_csrf_token_is_refused(practice_app):
    with practice_app.app_context():
        email = make_user(Role.advocate).email
    staff = StaffClient(practice_app.test_client())
    staff.sign_in(email)

    assert staff.post("/practice/half-done", data={}).status_code == 400


def test_staff_pages_are_never_cached_by_the_browser(practice_app):
    with practice_app.app_context():
        email = make_user(Role.advocate).email
    staff = StaffClient(practice_app.test_client())
    staff.sign_in(email)

    assert staff.get("/practice/advocates").headers["Cache-Control"] == "no-store"
    assert staff.get("/login").headers["Cache-Control"] == "no-store"
