"""The staff contact page: who the person is, everything they sent, and all that happened since."""

import json

from flask import Response, abort, flash, redirect, render_template, url_for
from flask_login import current_user

from crm.extensions import db
from crm.models import Contact, utcnow
from crm.models.enums import AuditAction, CallOutcome, CloseOutcome, Role
from crm.services import calls as call_log
from crm.services import contact_page, privacy
from crm.views import calls
from crm.views.referrals import panel_for
from crm.views.staff import ADVOCATES, MANAGERS, audit_view, role_required, staff_blueprint

bp = staff_blueprint("contacts", __name__)


@bp.get("/contacts/<int:contact_id>")
@role_required(*ADVOCATES)
def page(contact_id: int):
    """Show one contact with the records merged into it; every view is audited."""
    contact = db.session.get(Contact, contact_id)
    if contact is None:
        abort(404)
    if contact.merged_into_id is not None:
        flash(
            f"Contact #{contact.id} was merged into #{contact.merged_into_id}: "
            "this record holds both."
        )
        return redirect(url_for("contacts.page", contact_id=contact.merged_into_id))
    now = utcnow()
    view = contact_page.load(contact, with_assignable=current_user.role == Role.manager)
    merged_ids = [merged.id for merged in view.merged]
    audit_view(
        AuditAction.contact_viewed,
        contact_id=contact.id,
        detail={"merged_contact_ids": merged_ids} if merged_ids else None,
    )
    return render_template(
        "staff/contact.html",
        page=view,
        contact=contact,
        is_manager=current_user.role == Role.manager,
        outcomes=list(CloseOutcome),
        referrals=panel_for(contact, merged_ids),
        now=now,
        call_panel=calls.panel_for(contact, [contact.id, *merged_ids], now),
        call_outcomes=list(CallOutcome),
        calls_logged=call_log.for_contacts([contact.id, *merged_ids]),
    )


@bp.get("/contacts/<int:contact_id>/privacy-export")
@role_required(*MANAGERS)
def privacy_export(contact_id: int):
    """Everything held about this person (and the records merged into it), as a JSON file."""
    contact = db.session.get(Contact, contact_id)
    if contact is None or contact.merged_into_id is not None:
        abort(404)
    held = privacy.export_contacts(privacy.with_merged(contact))
    audit_view(AuditAction.privacy_exported, contact_id=contact.id)
    body = json.dumps(held, indent=2, ensure_ascii=False, default=str)
    return Response(
        body,
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="contact-{contact.id}-data.json"'},
    )
