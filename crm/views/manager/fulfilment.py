"""Printed guides: print address labels, mark printed, mark shipped with tracking."""

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user

from crm.models import utcnow
from crm.models.enums import AuditAction, FulfilmentStatus
from crm.services import fulfilment as fulfilment_service
from crm.services.actors import Actor
from crm.services.address_labels import render_labels_pdf
from crm.views.manager import (
    ID,
    before_id,
    bp,
    keyset_page,
    page_size,
    row_id,
    unknown_value,
)
from crm.views.staff import MANAGERS, audit_view, role_required


@bp.get("/fulfilment")
@role_required(*MANAGERS)
def fulfilment():
    """Printed guides in one status (to print first), newest first, with their addresses."""
    status = FulfilmentStatus.from_value(request.args.get("status", "to_print"))
    if status is None:
        abort(400, description=unknown_value("status", FulfilmentStatus))
    fetched = fulfilment_service.listing(status, before_id=before_id(), limit=page_size() + 1)
    items, next_before = keyset_page(fetched, page_size())
    audit_view(
        AuditAction.fulfilment_viewed,
        detail={"status": status.value, "fulfilment_ids": [item.id for item in items]},
    )
    return render_template(
        "manager/fulfilment.html",
        status=status,
        statuses=list(FulfilmentStatus),
        items=items,
        next_before=next_before,
    )


@bp.post("/fulfilment/printed")
@role_required(*MANAGERS)
def mark_printed():
    """Mark the ticked guides printed (all of them or, when one cannot be, none)."""
    try:
        items = fulfilment_service.mark_many_printed(_ticked_ids(), Actor.user(current_user.id))
    except fulfilment_service.FulfilmentError as refused:
        flash(str(refused))
        return redirect(url_for(".fulfilment", status=FulfilmentStatus.to_print.value))
    for item in items:
        _audit_update(item)
    flash(f"Marked {len(items)} printed guide{'s' if len(items) != 1 else ''} printed.")
    return redirect(url_for(".fulfilment", status=FulfilmentStatus.to_print.value))


@bp.post(f"/fulfilment/<{ID}:item_id>/shipped")
@role_required(*MANAGERS)
def mark_shipped(item_id: int):
    """Mark one printed guide shipped; its tracking number is required."""
    try:
        item = fulfilment_service.mark_shipped(
            item_id, request.form.get("tracking_number", ""), Actor.user(current_user.id)
        )
    except fulfilment_service.FulfilmentError as refused:
        flash(f"Not marked shipped. {refused}")
    else:
        _audit_update(item)
        flash(f"Printed guide {item_id} shipped, tracking {item.tracking_number}.")
    return redirect(url_for(".fulfilment", status=FulfilmentStatus.printed.value))


@bp.route("/fulfilment/labels", methods=["GET", "POST"])
@role_required(*MANAGERS)
def labels():
    """A sheet of address labels (PDF) for the ticked guides still to print."""
    items = fulfilment_service.to_print(_ticked_ids())
    if not items:
        flash("Tick at least one guide still to print first.")
        return redirect(url_for(".fulfilment", status=FulfilmentStatus.to_print.value))
    audit_view(AuditAction.labels_printed, detail={"fulfilment_ids": [item.id for item in items]})
    response = make_response(render_labels_pdf([item.address_lines for item in items]))
    response.headers["Content-Type"] = "application/pdf"
    filename = f"guide-labels-{utcnow():%Y%m%d-%H%M}.pdf"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _ticked_ids() -> list[int]:
    return request.values.getlist("item_id", type=row_id)


def _audit_update(item) -> None:
    audit_view(
        AuditAction.fulfilment_updated,
        contact_id=item.contact_id,
        detail={"fulfilment_id": item.id, "status": item.status.value},
    )
