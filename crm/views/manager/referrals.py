"""Referrals across contacts, for managers to follow up: filter by status."""

from flask import abort, render_template, request

from crm.models.enums import AuditAction, ReferralStatus
from crm.services import referrals as referral_service
from crm.views.manager import bp, unknown_value
from crm.views.staff import MANAGERS, audit_view, role_required

# Enough to review at once; older ones stay on each contact's page.
LIST_LIMIT = 200


@bp.get("/referrals")
@role_required(*MANAGERS)
def referrals():
    """Newest referrals first, all or of one status."""
    raw = request.args.get("status") or None
    status = ReferralStatus.from_value(raw) if raw else None
    if raw and status is None:
        abort(400, description=unknown_value("status", ReferralStatus))
    rows = referral_service.browse(status, limit=LIST_LIMIT)
    audit_view(
        AuditAction.referrals_viewed,
        detail={
            "status": status.value if status else None,
            "referral_ids": [row.referral.id for row in rows],
        },
    )
    return render_template(
        "manager/referrals.html",
        status=status,
        statuses=list(ReferralStatus),
        rows=rows,
        limit=LIST_LIMIT,
    )
