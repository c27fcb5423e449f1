"""Referrals from the contact page: send the match email, hand off a VA claim, move a status."""

from dataclasses import dataclass, field

from flask import flash, redirect, request, url_for
from flask_login import current_user

from crm.forms.advocate import ActionForm
from crm.forms.specialists import ReferralStatusForm
from crm.models import Contact
from crm.models.enums import AuditAction, ReferralStatus
from crm.services import referrals, specialists
from crm.views.contact_actions import ActionRefused, refused
from crm.views.staff import ADVOCATES, audit_view, role_required, staff_blueprint

bp = staff_blueprint("referrals", __name__, url_prefix="/contacts/<int:contact_id>/referrals")
bp.register_error_handler(ActionRefused, refused)
bp.register_error_handler(referrals.ReferralRefused, refused)


@dataclass(frozen=True)
class ReferralPanel:
    """What the contact page's referral section shows."""

    asked_for_match: bool
    matches: list[specialists.Match] = field(default_factory=list)
    rows: list[referrals.ReferralRow] = field(default_factory=list)
    moves: dict[int, list[ReferralStatus]] = field(default_factory=dict)


def panel_for(contact: Contact, merged_ids: list[int]) -> ReferralPanel:
    """Matches for a specialist-match contact, and the referrals of the contact and its merges."""
    ids = [contact.id, *merged_ids]
    asked = referrals.match_submission(ids) is not None
    rows = referrals.for_contacts(ids)
    return ReferralPanel(
        asked_for_match=asked,
        matches=specialists.matches_for(contact) if asked else [],
        rows=rows,
        moves={row.referral.id: referrals.allowed_moves(row.referral.status) for row in rows},
    )


@bp.post("/match")
@role_required(*ADVOCATES)
def send_match(contact_id: int):
    """Email the chosen specialists to the person and open a referral for each."""
    _valid(ActionForm())
    chosen = [int(raw) for raw in request.form.getlist("specialist_id") if raw.isdigit()]
    sent = referrals.send_match(contact_id, chosen, current_user.id)
    audit_view(
        AuditAction.referral_sent,
        contact_id=contact_id,
        detail={
            "referral_ids": [referral.id for referral in sent],
            "outbox_id": sent[0].outbox_id,
        },
    )
    flash(f"Match email queued with {len(sent)} specialist(s); referral(s) opened.")
    return _back(contact_id)


@bp.post("/va-claims")
@role_required(*ADVOCATES)
def hand_off_va_claims(contact_id: int):
    """Hand a veteran's VA claim over to the claims team, tracked as a referral."""
    _valid(ActionForm())
    referral = referrals.hand_off_va_claims(contact_id, current_user.id)
    audit_view(
        AuditAction.referral_sent,
        contact_id=contact_id,
        detail={"referral_ids": [referral.id], "kind": referral.kind.value},
    )
    flash("VA claims hand-off recorded.")
    return _back(contact_id)


@bp.post("/<int:referral_id>/status")
@role_required(*ADVOCATES)
def change_status(contact_id: int, referral_id: int):
    """Move a referral along sent, appointment scheduled, seen (or declined)."""
    form = _valid(ReferralStatusForm())
    expected = ReferralStatus.from_value(form.expected_from.data)
    if expected is None:
        raise ActionRefused("Open the contact again and retry.")
    to_status = ReferralStatus(form.to_status.data)
    referrals.update_status(
        contact_id, referral_id, to_status, current_user.id, expected_from=expected
    )
    audit_view(
        AuditAction.referral_updated,
        contact_id=contact_id,
        detail={"referral_id": referral_id, "from": expected.value, "to": to_status.value},
    )
    flash(f"Referral is now {to_status.label.lower()}.")
    return _back(contact_id)


def _valid(form):
    if not form.validate_on_submit():
        raise ActionRefused(form.first_error() or "Check the form and try again.")
    return form


def _back(contact_id: int):
    return redirect(url_for("contacts.page", contact_id=contact_id, _anchor="referrals"), code=303)
