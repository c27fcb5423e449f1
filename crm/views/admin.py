"""Admin pages: staff accounts, and the organisation's own guide PDF."""

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from crm.extensions import csrf, db
from crm.forms.admin import EditUserForm, GuideUploadForm, NewUserForm, language_list
from crm.models import User
from crm.models.enums import AuditAction, Role, Skill
from crm.services import guide_documents, users
from crm.services.guide_documents import GuideRefused
from crm.services.passwords import PasswordRefused
from crm.views.staff import ADMINS, audit_view, role_required, staff_blueprint

bp = staff_blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/users", endpoint="users")
@role_required(*ADMINS)
def user_list():
    """Every staff account, active first."""
    return render_template("admin/users.html", users=users.staff_list(), skill_labels=_skills())


@bp.route("/users/new", methods=["GET", "POST"])
@role_required(*ADMINS)
def new_user():
    """Add an account with an initial password the policy accepts."""
    form = NewUserForm()
    if form.validate_on_submit():
        try:
            user = users.create_user(
                form.email.data,
                form.name.data,
                Role(form.role.data),
                form.password.data,
                skills=form.skills.data,
                languages=language_list(form.languages.data),
                working_hours=form.working_hours.data,
            )
        except PasswordRefused as refused:
            form.password.errors.append(str(refused))
        except users.UserRefused as refused:
            form.form_errors.append(str(refused))
        else:
            audit_view(
                AuditAction.user_created, target_user_id=user.id, detail={"role": user.role.value}
            )
            flash(f"Added {user.name} ({user.role.label}).")
            return redirect(url_for("admin.users"))
    return _form_page("admin/new_user.html", form)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@role_required(*ADMINS)
def edit_user(user_id: int):
    """Change an account; disabling it or changing its role or password signs it out."""
    user = db.get_or_404(User, user_id)
    form = EditUserForm(
        email=user.email,
        data={
            "name": user.name,
            "role": user.role.value,
            "skills": list(user.skills),
            "languages": ", ".join(user.languages),
            "working_hours": user.working_hours or "",
            "active": user.active,
        },
    )
    if form.validate_on_submit():
        try:
            changed = users.update_user(
                user,
                name=form.name.data,
                role=Role(form.role.data),
                skills=form.skills.data,
                languages=language_list(form.languages.data),
                working_hours=form.working_hours.data,
                active=form.active.data,
                by_user_id=current_user.id,
            )
            if form.new_password.data:
                users.set_password(user, form.new_password.data)
                changed.append("password")
        except PasswordRefused as refused:
            db.session.rollback()
            form.new_password.errors.append(str(refused))
        except users.UserRefused as refused:
            db.session.rollback()
            form.form_errors.append(str(refused))
        else:
            _audit_change(user, changed)
            flash(f"Saved {user.name}." if changed else "Nothing changed.")
            return redirect(url_for("admin.users"))
    return _form_page("admin/edit_user.html", form, user=user)


@bp.route("/users/<int:user_id>/disable", methods=["POST"])
@role_required(*ADMINS)
def disable_user(user_id: int):
    """Disable an account at once: every session of it ends."""
    user = db.get_or_404(User, user_id)
    try:
        changed = users.disable_user(user, by_user_id=current_user.id)
    except users.UserRefused as refused:
        flash(str(refused))
        return redirect(url_for("admin.edit_user", user_id=user_id))
    _audit_change(user, changed)
    flash(f"Disabled {user.name}." if changed else f"{user.name} was already disabled.")
    return redirect(url_for("admin.users"))


def _audit_change(user: User, changed: list[str]) -> None:
    """Audit which fields changed (names only: never a value, never a password)."""
    if not changed:
        return
    action = AuditAction.user_disabled if "active" in changed and not user.active else None
    audit_view(
        action or AuditAction.user_updated, target_user_id=user.id, detail={"changed": changed}
    )


# --- the guide ---------------------------------------------------------------------------------

_UPLOAD_FORM_MEMORY_BYTES = 256 * 1024


# The upload is the one request allowed past the app-wide MAX_CONTENT_LENGTH, so the view sets
# its own limit before anything reads the body; CSRFProtect's global check would read (and
# refuse) it first, so the upload form checks its own CSRF token in validate_on_submit().
@bp.route("/guide", methods=["GET", "POST"])
@role_required(*ADMINS)
@csrf.exempt
def guide():
    """Upload a new version of the guide PDF; see every version and which one is emailed."""
    limit = guide_documents.max_bytes() + current_app.config["MAX_CONTENT_LENGTH"]
    if request.method == "POST" and (request.content_length or 0) > limit:
        form = GuideUploadForm(formdata=None)
        form.file.errors = [_too_big()]
        return _guide_page(form, status=413)
    request.max_content_length = limit
    # Werkzeug's multipart decoder counts its read buffer (64 KB chunks of the file) against
    # this limit too, so the app-wide 64 KB would refuse any file bigger than one chunk.
    request.max_form_memory_size = _UPLOAD_FORM_MEMORY_BYTES
    form = GuideUploadForm()
    if form.validate_on_submit():
        data = form.file.data.read(guide_documents.max_bytes() + 1)
        try:
            document = guide_documents.upload(data, form.file.data.filename, current_user.id)
        except GuideRefused as refused:
            form.file.errors.append(str(refused))
        else:
            audit_view(
                AuditAction.guide_uploaded,
                detail={"version": document.version, "pages": document.page_count},
            )
            flash(f"Version {document.version} uploaded: guide emails now use it.")
            return redirect(url_for("admin.guide"))
    if form.csrf_token.errors:
        form.form_errors.append("This page was open too long; upload the file again.")
    return _guide_page(form, status=422 if form.errors else 200)


@bp.route("/guide/<int:version>.pdf")
@role_required(*ADMINS)
def guide_file(version: int):
    """One uploaded version, as it was uploaded."""
    document = guide_documents.find(version) or abort(404)
    response = Response(guide_documents.content_of(document), mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="{document.filename}"'
    return response


@bp.route("/guide/<int:version>/use", methods=["POST"])
@role_required(*ADMINS)
def use_guide_version(version: int):
    """Email this version from now on (going back to it hides newer ones, keeping them)."""
    try:
        guide_documents.choose(version)
    except GuideRefused:
        abort(404)
    audit_view(AuditAction.guide_version_chosen, detail={"version": version})
    flash(f"Guide emails now use version {version}.")
    return redirect(url_for("admin.guide"))


@bp.route("/guide/generated", methods=["POST"])
@role_required(*ADMINS)
def use_generated_guide():
    """Email the generated guide again, as before any upload."""
    guide_documents.use_generated()
    audit_view(AuditAction.guide_version_chosen, detail={"version": None})
    flash("Guide emails now use the generated guide.")
    return redirect(url_for("admin.guide"))


def _too_big() -> str:
    limit = guide_documents.describe_size(guide_documents.max_bytes())
    return f"That file is over the {limit} limit."


def _guide_page(form: GuideUploadForm, status: int = 200):
    page = render_template(
        "admin/guide.html",
        form=form,
        current=guide_documents.current(),
        history=guide_documents.history(),
        max_size=guide_documents.describe_size(guide_documents.max_bytes()),
        describe_size=guide_documents.describe_size,
    )
    return page, status


def _form_page(template: str, form, **context):
    return render_template(template, form=form, **context), 422 if form.errors else 200


def _skills() -> dict[str, str]:
    return dict(Skill.choices())
