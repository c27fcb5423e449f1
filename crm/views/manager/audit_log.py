"""The audit log: read-only, filtered, newest first. Nothing here edits or deletes a row."""

from datetime import UTC, datetime, time, timedelta

from flask import render_template, request

from crm.forms.manager import AuditFilterForm
from crm.models.enums import AuditAction
from crm.services import audit, users
from crm.views.manager import before_id, bp, keyset_page, page_size
from crm.views.staff import MANAGERS, audit_view, role_required


@bp.get("/audit", endpoint="audit")
@role_required(*MANAGERS)
def audit_events():
    """Who looked at or changed what, and when, filtered by user, action, contact and dates."""
    staff = users.staff_list()
    form = AuditFilterForm(request.args, staff=staff)
    filters = _filters(form) if form.validate() else None
    rows, next_before = [], None
    if filters is not None:
        fetched = audit.browse(**filters, before_id=before_id(), limit=page_size() + 1)
        rows, next_before = keyset_page(fetched, page_size())
    # Codes and ids only: the filters say what was looked for, the ids what was shown.
    audit_view(
        AuditAction.audit_viewed,
        detail={
            "filters": _recorded(filters),
            "audit_ids": [row.id for row in rows],
        },
    )
    page = render_template(
        "manager/audit.html",
        form=form,
        rows=rows,
        names={user.id: user.name for user in staff},
        next_before=next_before,
        query={name: value for name, value in request.args.items() if name != "before_id"},
    )
    # An unknown user, action or an impossible date is said on the page, with a 400.
    return page, 200 if filters is not None else 400


def _filters(form: AuditFilterForm) -> dict:
    """The form's answers as audit.browse() arguments; dates are whole UTC days."""
    return {
        "actor_user_id": int(form.user.data) if form.user.data else None,
        "action": AuditAction.from_value(form.action.data),
        "contact_id": form.contact_id.data,
        "since": _start_of(form.since.data),
        "until": _start_of(form.until.data + timedelta(days=1)) if form.until.data else None,
    }


def _recorded(filters: dict | None) -> dict:
    """The filters as codes for the audit row (an invalid filter showed nothing)."""
    if filters is None:
        return {"invalid": True}
    return {
        name: value.isoformat() if isinstance(value, datetime) else str(value)
        for name, value in filters.items()
        if value is not None
    }


def _start_of(day) -> datetime | None:
    return datetime.combine(day, time.min, tzinfo=UTC) if day else None
