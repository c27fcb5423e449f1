"""Suspected spam: look, release a real person into a lead, or delete."""

from flask import flash, redirect, render_template, url_for

from crm.models.enums import AuditAction
from crm.services import spam as spam_service
from crm.views.manager import ID, before_id, bp, keyset_page, page_size
from crm.views.staff import MANAGERS, audit_view, role_required


@bp.get("/spam")
@role_required(*MANAGERS)
def spam():
    """Kept submits, newest first, with what they said (as text: a bot wrote some of it)."""
    rows, next_before = keyset_page(spam_service.newest(before_id(), page_size() + 1), page_size())
    audit_view(AuditAction.spam_viewed, detail={"spam_ids": [row.id for row in rows]})
    contacts = spam_service.released_contacts(
        [row.released_submission_id for row in rows if row.released_submission_id]
    )
    return render_template(
        "manager/spam.html", rows=rows, contacts=contacts, next_before=next_before
    )


@bp.post(f"/spam/<{ID}:spam_id>/release")
@role_required(*MANAGERS)
def release_spam(spam_id: int):
    """Turn a kept submit into the lead it should have been, through capture (once)."""
    try:
        released = spam_service.release(spam_id)
    except spam_service.ReleaseRefused as refused:
        flash(f"Not released. {refused}")
        return redirect(url_for(".spam"))
    audit_view(
        AuditAction.spam_released,
        contact_id=released.contact_id,
        detail={"spam_id": spam_id, "already": released.already},
    )
    flash(
        f"Suspected spam {spam_id} was already released (contact {released.contact_id})."
        if released.already
        else f"Released suspected spam {spam_id} as a lead (contact {released.contact_id})."
    )
    return redirect(url_for(".spam"))


@bp.post(f"/spam/<{ID}:spam_id>/delete")
@role_required(*MANAGERS)
def delete_spam(spam_id: int):
    """Remove a kept submit for good."""
    if spam_service.delete(spam_id):
        audit_view(AuditAction.spam_deleted, detail={"spam_id": spam_id})
        flash(f"Deleted suspected spam {spam_id}.")
    else:
        flash(f"Suspected spam {spam_id} was already gone.")
    return redirect(url_for(".spam"))
