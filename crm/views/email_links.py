"""Pages reached from links in emails: one-click unsubscribe and the guide download."""

import sqlalchemy as sa
from flask import Blueprint, Response, abort, render_template

from crm.extensions import db
from crm.models import Submission
from crm.services import guide_links, suppressions
from crm.services.email_content import read_guide_token, unsubscribe_address
from crm.services.guide_pdf import build_guide_pdf

bp = Blueprint("email_links", __name__)


@bp.get("/unsubscribe/<token>")
def unsubscribe(token: str):
    """Ask to confirm: link scanners follow GET links, so a GET alone changes nothing."""
    if unsubscribe_address(token) is None:
        abort(404)
    return render_template("email_links/unsubscribe.html", token=token, done=False)


@bp.post("/unsubscribe/<token>")
def confirm_unsubscribe(token: str):
    """Suppress the address (RFC 8058 one-click: no cookies, the signed token is the proof)."""
    email = unsubscribe_address(token)
    if email is None:
        abort(404)
    suppressions.suppress_email(email)
    return render_template("email_links/unsubscribe.html", token=token, done=True)


@bp.get("/guide/download/<token>")
def download_guide(token: str):
    """Serve the guide PDF to whoever holds a valid, unexpired link from the guide email."""
    public_id = read_guide_token(token)
    if public_id is None:
        return render_template("email_links/link_expired.html"), 410
    # Personalised from the submission the link was made for, never from its contact record.
    submission = db.session.execute(
        sa.select(Submission.id, Submission.contact_id, Submission.fields).where(
            Submission.public_id == public_id
        )
    ).first()
    if submission is None:
        abort(404)
    fields = submission.fields
    guide_links.record_first_open(submission.id, submission.contact_id)
    response = Response(build_guide_pdf(fields.get("first_name")), mimetype="application/pdf")
    response.headers["Content-Disposition"] = 'inline; filename="mesothelioma-guide.pdf"'
    return response
