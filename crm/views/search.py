"""Staff contact search: one box for a name, an email address or a phone number."""

from flask import current_app, render_template, request

from crm.models.enums import AuditAction
from crm.services.contact_search import search_contacts
from crm.views.staff import ADVOCATES, audit_view, role_required, staff_blueprint

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
    return render_template("staff/search.html", query=query, page=page)
