"""Suspected spam that staff judge to be a real person: released into a lead, once."""

from dataclasses import dataclass

import sqlalchemy as sa
from werkzeug.datastructures import MultiDict

from crm.extensions import db
from crm.forms.public import PUBLIC_FORMS  # a release passes the same checks as a live submit
from crm.models import Submission, SuspectedSpam, utcnow
from crm.services import capture
from crm.services.leads import RequestMeta


class ReleaseRefused(ValueError):
    """The kept submit cannot become a lead (unknown id, or answers a form would refuse)."""


@dataclass(frozen=True)
class Released:
    spam_id: int
    submission_public_id: str
    already: bool


def release(spam_id: int) -> Released:
    """Store a kept submit as the lead it should have been, through the capture service.

    Idempotent: the submission is keyed by the spam row, so a second release (or a retry after
    a crash between the two commits) finds the same submission.
    """
    spam = db.session.get(SuspectedSpam, spam_id)
    if spam is None:
        raise ReleaseRefused(f"No suspected spam with id {spam_id}.")
    if spam.released_submission_id is not None:
        public_id = db.session.scalar(
            sa.select(Submission.public_id).where(Submission.id == spam.released_submission_id)
        )
        return Released(spam_id, public_id, already=True)
    form = PUBLIC_FORMS[spam.form](formdata=_formdata(spam.fields), meta={"csrf": False})
    if not form.validate():
        problems = "; ".join(f"{name}: {errors[0]}" for name, errors in form.errors.items())
        raise ReleaseRefused(f"Its answers would not pass the form: {problems}")
    meta = RequestMeta(spam.ip_address, spam.user_agent, spam.fields.get("page_url") or None)
    result = capture.submit_lead(form.to_lead(), meta, idempotency_key=f"spam:{spam.id}")
    spam = db.session.get(SuspectedSpam, spam_id)
    spam.released_at = utcnow()
    spam.released_submission_id = db.session.scalar(
        sa.select(Submission.id).where(Submission.public_id == result.submission_public_id)
    )
    db.session.commit()
    return Released(spam_id, result.submission_public_id, already=False)


def _formdata(fields: dict) -> MultiDict:
    items = []
    for name, value in fields.items():
        if name in ("website", "form_token"):
            continue  # the honeypot and the bot checks are what staff overrule
        items.extend((name, str(item)) for item in (value if isinstance(value, list) else [value]))
    return MultiDict(items)
