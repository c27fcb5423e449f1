"""What every staff blueprint shares: sign-in and role checks, one commit per request, audit.

A staff blueprint refuses, when the app is built, any view that does not say who may use it
(DESIGN.md rule 8: anything unnamed is closed). Each view runs as one unit of work: services
flush, and the request commits once after the view returns, or rolls everything back when it
raises (an outage then answers 503 through the app's error handlers). Capture and the outbox
keep their own commits: a visitor's "thank you" and an email's "sent" must each be durable on
their own, whatever else happens in the process afterwards.
"""

from functools import wraps

from flask import Blueprint, current_app, render_template, request
from flask_login import current_user

from crm.extensions import db, login_manager
from crm.models.enums import AuditAction, Role
from crm.services import audit

ADVOCATES = (Role.advocate, Role.manager)
MANAGERS = (Role.manager,)
ADMINS = (Role.admin,)
# Reports are aggregates and ids, no one's details: admins may read them too.
REPORT_READERS = (Role.manager, Role.admin)
ALL_STAFF = (Role.advocate, Role.manager, Role.admin)
# The sign-in page itself, and nothing else, is open to everyone on a staff blueprint.
ANYONE = ("anyone",)


class StaffBlueprint(Blueprint):
    def add_url_rule(self, rule, endpoint=None, view_func=None, **options):
        if view_func is not None:
            if getattr(view_func, "allowed_roles", None) is None:
                raise TypeError(
                    f"{self.name}: {rule} has no @role_required(...) under its @route: "
                    "every staff view must name who may use it"
                )
            view_func = _unit_of_work(view_func)
        super().add_url_rule(rule, endpoint, view_func, **options)


def staff_blueprint(name: str, import_name: str, **options) -> StaffBlueprint:
    # Never cached, like every dynamic response (crm/security_headers.py).
    return StaffBlueprint(name, import_name, **options)


def role_required(*roles):
    """Let only signed-in staff with one of these roles in; send others to sign in, or 403."""

    def decorate(view):
        @wraps(view)
        def checked(*args, **kwargs):
            if roles == ANYONE:
                return view(*args, **kwargs)
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles:
                audit_view(AuditAction.access_denied, detail={"endpoint": request.endpoint})
                return render_template("errors/403.html"), 403
            return view(*args, **kwargs)

        checked.allowed_roles = roles
        return checked

    return decorate


def _unit_of_work(view):
    @wraps(view)
    def committed(*args, **kwargs):
        try:
            response = view(*args, **kwargs)
        except BaseException:
            db.session.rollback()
            raise
        db.session.commit()
        return response

    return committed


def audit_view(
    action: AuditAction,
    *,
    contact_id: int | None = None,
    target_user_id: int | None = None,
    detail: dict | None = None,
    actor_user_id: int | None = None,
) -> None:
    """Audit what the signed-in user (or the named one) did in this request, with their address."""
    if actor_user_id is None and current_user.is_authenticated:
        actor_user_id = current_user.id
    audit.record(
        action,
        actor_user_id,
        request.remote_addr,
        contact_id=contact_id,
        target_user_id=target_user_id,
        detail=detail,
    )


def staff_home_endpoint(role: Role) -> str:
    """Where a user lands after signing in: their main page, or the staff home that lists them."""
    endpoint = "admin.users" if role == Role.admin else "queue.queue"
    return endpoint if endpoint in current_app.view_functions else "auth.home"
