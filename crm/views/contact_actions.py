"""What staff do from the contact page: each a POST, one transaction, audited, then back to it.

A refusal (a move not in the table, a stale page, an opted-out address) rolls back whatever
the service had begun, says why, and changes nothing.
"""

import sqlalchemy as sa
from flask import abort, flash, redirect, request, url_for
from flask_login import current_user

from crm.extensions import db
from crm.forms.advocate import (
    ActionForm,
    AssignForm,
    DoNotContactForm,
    DuplicateForm,
    NoteForm,
    StageForm,
)
from crm.models import Contact
from crm.models.enums import AuditAction, CloseOutcome, ConsentChannel, Stage
from crm.services import assignment, do_not_contact, guide_resend, merge, notes, stages
from crm.services.actors import Actor
from crm.views.staff import ADVOCATES, audit_view, role_required, staff_blueprint

bp = staff_blueprint("contact_actions", __name__, url_prefix="/contacts/<int:contact_id>")


class ActionRefused(ValueError):
    """The form itself was wrong (a field missing or out of range), or the record is merged."""


# What each service raises when it will not act; the message is written for staff.
REFUSALS = (
    ActionRefused,
    notes.NoteRefused,
    stages.StageChangeRefused,
    do_not_contact.DoNotContactRefused,
    guide_resend.ResendRefused,
    assignment.AssignmentRefused,
    merge.MergeRefused,
)


def refused(error):
    """Say why nothing was done, and show the contact again (the transaction is rolled back)."""
    db.session.rollback()
    flash(f"Not done: {error}")
    return _back(request.view_args["contact_id"])


for _refusal in REFUSALS:
    bp.register_error_handler(_refusal, refused)


@bp.post("/notes")
@role_required(*ADVOCATES)
def add_note(contact_id: int):
    """Add a note (append-only) to the contact's timeline."""
    form = _valid(NoteForm(), contact_id)
    note = notes.add_note(contact_id, current_user.id, form.body.data)
    audit_view(AuditAction.note_added, contact_id=contact_id, detail={"note_id": note.id})
    flash("Note added.")
    return _back(contact_id)


@bp.post("/stage")
@role_required(*ADVOCATES)
def change_stage(contact_id: int):
    """Move the contact along the transition table, from the stage the advocate saw."""
    form = _valid(StageForm(), contact_id)
    to_stage = Stage(form.to_stage.data)
    # The outcome list is always on the form; it means something only when closing.
    outcome = CloseOutcome.from_value(form.outcome.data) if to_stage == Stage.closed else None
    expected = Stage.from_value(form.expected_from.data)
    if expected is None:
        raise ActionRefused("Open the contact again and retry.")
    change = stages.change_stage(
        contact_id,
        stages.StageMove(to_stage, form.reason.data or "", outcome),
        Actor.user(current_user.id),
        expected_from=expected,
    )
    audit_view(
        AuditAction.stage_changed,
        contact_id=contact_id,
        detail={
            "stage_change_id": change.id,
            "from": change.from_stage.value,
            "to": change.to_stage.value,
            "outcome": outcome.value if outcome else None,
        },
    )
    flash(f"Stage changed to {to_stage.label}.")
    return _back(contact_id)


@bp.post("/do-not-contact")
@role_required(*ADVOCATES)
def mark_do_not_contact(contact_id: int):
    """Record a refusal for one channel and cancel what was queued on it, at once."""
    form = _valid(DoNotContactForm(), contact_id)
    channel = ConsentChannel(form.channel.data)
    result = do_not_contact.mark_do_not_contact(
        contact_id, channel, current_user.id, request.remote_addr
    )
    audit_view(
        AuditAction.do_not_contact,
        contact_id=contact_id,
        detail={
            "channel": channel.value,
            "consent_record_id": result.consent_record_id,
            "cancelled_call_tasks": result.cancelled_call_tasks,
            "cancelled_emails": result.cancelled_emails,
        },
    )
    cancelled = (
        f"{result.cancelled_call_tasks} open call(s) cancelled"
        if channel == ConsentChannel.calls_texts
        else f"{result.cancelled_emails} queued email(s) cancelled"
    )
    flash(f"Recorded: do not contact by {channel.label.lower()}. {cancelled}.")
    return _back(contact_id)


@bp.post("/guide")
@role_required(*ADVOCATES)
def resend_guide(contact_id: int):
    """Queue the guide email once more, to the address the person gave."""
    _valid(ActionForm(), contact_id)
    message = guide_resend.resend_guide(contact_id, current_user.id)
    audit_view(AuditAction.guide_resent, contact_id=contact_id, detail={"outbox_id": message.id})
    flash("The guide email is queued and goes out within a minute.")
    return _back(contact_id)


@bp.post("/assign")
@role_required(*ADVOCATES)
def assign(contact_id: int):
    """Managers assign to anyone on the phones or to nobody; advocates take an unowned contact."""
    form = _valid(AssignForm(), contact_id)
    raw = (form.assignee.data or "").strip()
    if raw and not raw.isdigit():
        raise ActionRefused("Choose an active advocate or manager.")
    assignee = int(raw) if raw else None
    before = assignment.assign(contact_id, assignee, current_user.id, current_user.role)
    audit_view(
        AuditAction.contact_assigned,
        contact_id=contact_id,
        target_user_id=assignee,
        detail={"from_user_id": before, "to_user_id": assignee},
    )
    flash("Assigned." if assignee is not None else "Unassigned.")
    return _back(contact_id)


@bp.post("/merge")
@role_required(*ADVOCATES)
def merge_duplicate(contact_id: int):
    """Fold a possible duplicate into this contact, which keeps its own email and phone."""
    other_id = _other_id(_valid(DuplicateForm(), contact_id))
    merge.merge(contact_id, other_id, current_user.id)
    for this, that in ((contact_id, other_id), (other_id, contact_id)):
        key = "merged_contact_id" if this == contact_id else "merged_into_id"
        audit_view(AuditAction.contacts_merged, contact_id=this, detail={key: that})
    flash(f"Contact #{other_id} merged into this one.")
    return _back(contact_id)


@bp.post("/not-duplicate")
@role_required(*ADVOCATES)
def not_duplicate(contact_id: int):
    """Say a possible duplicate is another person; the link goes from both records."""
    other_id = _other_id(_valid(DuplicateForm(), contact_id))
    merge.mark_not_duplicate(contact_id, other_id, current_user.id)
    for this, that in ((contact_id, other_id), (other_id, contact_id)):
        audit_view(AuditAction.not_duplicate, contact_id=this, detail={"other_contact_id": that})
    flash(f"Marked: contact #{other_id} is not the same person.")
    return _back(contact_id)


def _valid(form, contact_id: int):
    if not form.validate_on_submit():
        raise ActionRefused(form.first_error() or "Check the form and try again.")
    _live(contact_id)
    return form


def _live(contact_id: int):
    # Columns, not the ORM object: a Contact loaded here, unlocked, would stay in the
    # session's identity map and the service's locked re-read would not refresh it.
    contact = db.session.execute(
        sa.select(Contact.merged_into_id).where(Contact.id == contact_id)
    ).first()
    if contact is None:
        abort(404)
    if contact.merged_into_id is not None:
        raise ActionRefused(f"This record was merged into #{contact.merged_into_id}; act there.")
    return contact


def _other_id(form: DuplicateForm) -> int:
    raw = (form.other_id.data or "").strip()
    if not raw.isdigit():
        raise ActionRefused("Choose the possible duplicate from the page.")
    return int(raw)


def _back(contact_id: int):
    return redirect(url_for("contacts.page", contact_id=contact_id), code=303)
