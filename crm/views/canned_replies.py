"""Managers' page for the canned chat replies advocates start from: list, add, change."""

from flask import flash, redirect, render_template, url_for

from crm.extensions import db
from crm.forms.chat import CannedReplyForm
from crm.models import CannedReply
from crm.models.enums import AuditAction, Role
from crm.services.chat import canned_replies
from crm.views.staff import audit_view, role_required, staff_blueprint

bp = staff_blueprint("canned_replies", __name__, url_prefix="/manager")

# No patient's data here: admins, who keep the app's other lists, may keep this one too.
KEEPERS = (Role.manager, Role.admin)


@bp.get("/chat-replies")
@role_required(*KEEPERS)
def replies():
    """Every canned reply, the ones offered to advocates first, in their order."""
    return render_template("manager/canned_replies.html", replies=canned_replies.all_replies())


@bp.route("/chat-replies/new", methods=["GET", "POST"])
@role_required(*KEEPERS)
def new_reply():
    """Add a canned reply."""
    form = CannedReplyForm()
    if form.validate_on_submit():
        try:
            reply = canned_replies.create_reply(_entry(form))
        except canned_replies.CannedReplyRefused as refused:
            form.form_errors.append(str(refused))
        else:
            audit_view(AuditAction.canned_reply_created, detail={"canned_reply_id": reply.id})
            flash(f"Added “{reply.title}”.")
            return redirect(url_for("canned_replies.replies"))
    return _form_page(form, None)


@bp.route("/chat-replies/<int:reply_id>", methods=["GET", "POST"])
@role_required(*KEEPERS)
def edit_reply(reply_id: int):
    """Change a canned reply; unticking "Offered to advocates" retires it."""
    reply = db.get_or_404(CannedReply, reply_id)
    form = CannedReplyForm(obj=reply)
    if form.validate_on_submit():
        try:
            changed = canned_replies.update_reply(reply, _entry(form))
        except canned_replies.CannedReplyRefused as refused:
            db.session.rollback()
            form.form_errors.append(str(refused))
        else:
            if changed:
                # Field names only: what changed, not the text before and after.
                audit_view(
                    AuditAction.canned_reply_updated,
                    detail={"canned_reply_id": reply.id, "changed": changed},
                )
            flash(f"Saved “{reply.title}”." if changed else "Nothing changed.")
            return redirect(url_for("canned_replies.replies"))
    return _form_page(form, reply)


def _entry(form: CannedReplyForm) -> canned_replies.CannedReplyInput:
    return canned_replies.CannedReplyInput(
        title=form.title.data or "",
        body=form.body.data or "",
        position=form.position.data or 0,
        active=bool(form.active.data),
    )


def _form_page(form: CannedReplyForm, reply: CannedReply | None):
    page = render_template("manager/canned_reply_form.html", form=form, reply=reply)
    return page, 422 if form.errors or form.form_errors else 200
