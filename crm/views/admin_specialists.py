"""Admin pages for the specialist directory: list, add, edit, deactivate."""

from flask import flash, redirect, render_template, url_for

from crm.extensions import db
from crm.forms.specialists import SpecialistForm
from crm.models import Specialist
from crm.models.enums import AuditAction, SpecialistKind
from crm.services import specialists
from crm.views.staff import ADMINS, audit_view, role_required, staff_blueprint

bp = staff_blueprint("admin_specialists", __name__, url_prefix="/admin")


@bp.get("/specialists", endpoint="specialists")
@role_required(*ADMINS)
def specialist_list():
    """Every directory entry, active first."""
    return render_template("admin/specialists.html", specialists=specialists.directory())


@bp.route("/specialists/new", methods=["GET", "POST"])
@role_required(*ADMINS)
def new_specialist():
    """Add a doctor or cancer centre to the directory."""
    form = SpecialistForm()
    if form.validate_on_submit():
        try:
            specialist = specialists.create_specialist(_entry(form))
        except specialists.SpecialistRefused as refused:
            form.form_errors.append(str(refused))
        else:
            audit_view(AuditAction.specialist_created, detail={"specialist_id": specialist.id})
            flash(f"Added {specialist.name}.")
            return redirect(url_for("admin_specialists.specialists"))
    return _form_page(form, None)


@bp.route("/specialists/<int:specialist_id>", methods=["GET", "POST"])
@role_required(*ADMINS)
def edit_specialist(specialist_id: int):
    """Change a directory entry; unticking Active takes it out of matches."""
    specialist = db.get_or_404(Specialist, specialist_id)
    form = SpecialistForm(obj=specialist, data={"kind": specialist.kind.value})
    if form.validate_on_submit():
        try:
            changed = specialists.update_specialist(specialist, _entry(form))
        except specialists.SpecialistRefused as refused:
            db.session.rollback()
            form.form_errors.append(str(refused))
        else:
            _audit(specialist, changed)
            flash(f"Saved {specialist.name}." if changed else "Nothing changed.")
            return redirect(url_for("admin_specialists.specialists"))
    return _form_page(form, specialist)


@bp.post("/specialists/<int:specialist_id>/deactivate")
@role_required(*ADMINS)
def deactivate(specialist_id: int):
    """Take an entry out of matches; its referrals keep pointing at it."""
    specialist = db.get_or_404(Specialist, specialist_id)
    changed = specialists.deactivate(specialist)
    _audit(specialist, changed)
    flash(f"Deactivated {specialist.name}." if changed else f"{specialist.name} was inactive.")
    return redirect(url_for("admin_specialists.specialists"))


def _entry(form: SpecialistForm) -> specialists.SpecialistInput:
    return specialists.SpecialistInput(
        name=form.name.data or "",
        kind=SpecialistKind(form.kind.data),
        specialties=list(form.specialties.data or []),
        organisation=form.organisation.data or "",
        city=form.city.data or "",
        state=form.state.data or "",
        zip_code=form.zip_code.data or "",
        phone=form.phone.data or "",
        email=form.email.data or None,
        accepts_va=bool(form.accepts_va.data),
        active=bool(form.active.data),
    )


def _audit(specialist: Specialist, changed: list[str]) -> None:
    """Audit which fields changed (names only)."""
    if changed:
        audit_view(
            AuditAction.specialist_updated,
            detail={"specialist_id": specialist.id, "changed": changed},
        )


def _form_page(form: SpecialistForm, specialist: Specialist | None):
    page = render_template("admin/specialist_form.html", form=form, specialist=specialist)
    return page, 422 if form.errors or form.form_errors else 200
