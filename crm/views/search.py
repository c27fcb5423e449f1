"""Staff contact search: one box for a name, an email address or a phone number; its CSV."""

from flask import current_app, redirect, render_template, request, url_for
from flask_login import current_user

from crm.models import utcnow
from crm.models.enums import AuditAction
from crm.reports.csv_export import csv_response, download_name
from crm.services import contact_export
from crm.services.contact_search import search_contacts
from crm.services.rollups.fold import org_day
from crm.views.staff import ADVOCATES, MANAGERS, audit_view, role_required, staff_blueprint

bp = staff_blueprint("search", __name__)


@bp.get("/contacts")
@role_required(*ADVOCATES)
def contacts():
    """Show one page of the contacts matching ?q=, after the contact ?after=."""
    query = request.args.get("q", "")
    after = request.args.get("after", type=int)
    page = search_contacts(query, after=after, limit=current_app.config["STAFF_PAGE_SIZE"])
    if page.kind is not None:
        # Which contacts were shown and how they were looked for; never what was typed.
        detail = {"kind": page.kind.value, "result_ids": [row.id for row in page.rows]}
        audit_view(AuditAction.search, detail=detail)
    return render_template(
        "staff/search.html",
        query=query,
        page=page,
        may_export=current_user.role in MANAGERS,
        may_export_health=current_user.role in contact_export.HEALTH_READERS,
    )


@bp.get("/contacts/export.csv")
@role_required(*MANAGERS)
def export_contacts():
    """Every contact the search for ?q= lists (up to EXPORT_MAX_ROWS), as CSV, streamed."""
    query = request.args.get("q", "")
    health = (
        request.args.get("health") == "y" and current_user.role in contact_export.HEALTH_READERS
    )
    chosen = contact_export.choose_contacts(query, current_app.config["EXPORT_MAX_ROWS"])
    if chosen is None:
        return redirect(url_for("search.contacts", q=query))
    # Audited before the first byte, and committed with this request: the ids are the very
    # contacts the file will hold (chosen above, read back by id as it streams), so the count
    # cannot overstate it, and a download cut short by a crash or a closed tab still leaves
    # its trail. Like the search, the trail keeps how the contacts were found, not what was typed.
    audit_view(
        AuditAction.contacts_exported,
        detail={
            "list": "contact_search",
            "kind": chosen.kind.value,
            "health_fields": health,
            "rows": len(chosen.contact_ids),
            "cut": chosen.cut,
            "contact_ids": chosen.contact_ids,
        },
    )
    return csv_response(
        download_name("contacts", org_day(utcnow())),
        contact_export.header(health),
        contact_export.contact_rows(chosen, health),
    )
