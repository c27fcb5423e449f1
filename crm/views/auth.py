"""Staff sign-in and sign-out."""

from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from crm.extensions import db
from crm.forms.auth import LoginForm
from crm.models.enums import AuditAction
from crm.services import login_throttle, staff_sessions, users
from crm.services.outage import (
    DATABASE_UNAVAILABLE,
    RETRY_AFTER_SECONDS,
    forget_failed_transaction,
)
from crm.views.staff import ALL_STAFF, ANYONE, audit_view, role_required, staff_blueprint
from crm.views.staff import staff_home_endpoint as home_endpoint

bp = staff_blueprint("auth", __name__)

WRONG_CREDENTIALS = "That email and password don't match an active staff account."
DATABASE_DOWN = (
    "Sign-in is unavailable just now: our database is not answering. Nothing is wrong with "
    "your account; try again in a minute, it comes back by itself."
)
# The limiter's storage (Redis) is down: refused rather than unthrottled (login_throttle.py).
LIMITER_DOWN = (
    "Sign-in is paused just now: the check that protects staff accounts from password "
    "guessing is not answering. Try again in a minute."
)
_DEVICE_COOKIE_DAYS = 90


@bp.route("/login", methods=["GET", "POST"])
@role_required(*ANYONE)
def login():
    """Sign a staff member in: a new server-side session and a new cookie."""
    form = LoginForm()
    try:
        response = _login(form)
        # Committed here rather than after the view, so that an outage answers with this page.
        db.session.commit()
    except DATABASE_UNAVAILABLE:
        forget_failed_transaction()
        # Nothing half-done survives: no session, then no user (cleared first, so that
        # logout_user finds no user id to look up in the database that is down).
        session.clear()
        logout_user()
        return _refused(form, DATABASE_DOWN, 503, RETRY_AFTER_SECONDS)
    return response


def _login(form: LoginForm):
    if current_user.is_authenticated:
        return redirect(url_for(home_endpoint(current_user.role)))
    if not form.validate_on_submit():
        return render_template("auth/login.html", form=form)
    email = form.email.data
    attempt = login_throttle.begin(
        email, request.remote_addr, request.cookies.get(login_throttle.DEVICE_COOKIE)
    )
    if attempt.storage_unavailable:
        audit_view(AuditAction.sign_in_throttled, detail={"counter": "unavailable"})
        return _refused(form, LIMITER_DOWN, 503, RETRY_AFTER_SECONDS)
    if not attempt.allowed:
        audit_view(AuditAction.sign_in_throttled, detail={"counter": attempt.full.scope})
        minutes = max(1, attempt.retry_after_seconds // 60)
        message = (
            f"Too many sign-in attempts. Wait {minutes} minutes and try again, "
            "or ask an admin to check your account."
        )
        return _refused(form, message, 429, attempt.retry_after_seconds)
    user = users.authenticate(email, form.password.data)
    if user is None:
        known = users.find_user(email)
        audit_view(AuditAction.sign_in_failed, target_user_id=known.id if known else None)
        form.form_errors.append(WRONG_CREDENTIALS)
        return render_template("auth/login.html", form=form)
    login_throttle.succeeded(attempt)
    # A fresh session at sign-in: nothing planted in the old cookie survives (fixation).
    session.clear()
    user.session_token = staff_sessions.start(user, request.remote_addr)
    login_user(user)
    audit_view(AuditAction.sign_in, actor_user_id=user.id)
    response = redirect(_safe_next(request.args.get("next")) or url_for(home_endpoint(user.role)))
    response.set_cookie(
        login_throttle.DEVICE_COOKIE,
        login_throttle.device_cookie_for(email),
        max_age=_DEVICE_COOKIE_DAYS * 24 * 3600,
        path=url_for("auth.login"),
        secure=current_app.config.get("SESSION_COOKIE_SECURE", False),
        httponly=True,
        samesite="Lax",
    )
    return response


def _refused(form: LoginForm, message: str, status: int, retry_after: int):
    """The sign-in page again, the email kept, saying why and when to try again."""
    form.form_errors.append(message)
    page = render_template("auth/login.html", form=form)
    return page, status, {"Retry-After": str(retry_after)}


@bp.route("/logout", methods=["POST"])
@role_required(*ALL_STAFF)
def logout():
    """End this session server-side, so a copy of the cookie is worth nothing."""
    staff_sessions.end(current_user.session_token, "signed_out")
    audit_view(AuditAction.sign_out)
    logout_user()
    session.clear()
    flash("You are signed out.")
    return redirect(url_for("auth.login"))


@bp.route("/staff")
@role_required(*ALL_STAFF)
def home():
    """The pages this user's role opens."""
    return render_template("staff/home.html")


def _safe_next(target: str | None) -> str | None:
    """Only a path on this site: never an open redirect to someone else's."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    if "\\" in target:
        return None
    return target
