"""Suspected spam: listed for review, released into a lead (once), deleted, purged when old."""

from dataclasses import dataclass
from datetime import datetime, timedelta

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
    contact_id: int


def newest(before_id: int | None = None, limit: int = 25) -> list[SuspectedSpam]:
    """Kept submits, newest first, one keyset page (pass the last id seen as before_id)."""
    query = sa.select(SuspectedSpam).order_by(SuspectedSpam.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(SuspectedSpam.id < before_id)
    return list(db.session.scalars(query))


def release(spam_id: int) -> Released:
    """Store a kept submit as the lead it should have been, through the capture service.

    The lead itself is committed by capture (a lead is durable on its own, as a visitor's is);
    marking the spam row released is flushed into the caller's transaction. Idempotent: the
    submission is keyed by the spam row, so a second release (or a retry after a failure
    between the two) finds the same submission.
    """
    spam = db.session.get(SuspectedSpam, spam_id)
    if spam is None:
        raise ReleaseRefused(f"No suspected spam with id {spam_id}.")
    if spam.released_submission_id is not None:
        public_id, contact_id = db.session.execute(
            sa.select(Submission.public_id, Submission.contact_id).where(
                Submission.id == spam.released_submission_id
            )
        ).one()
        return Released(spam_id, public_id, already=True, contact_id=contact_id)
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
    db.session.flush()
    return Released(
        spam_id, result.submission_public_id, already=False, contact_id=result.contact_id
    )


def released_contacts(submission_ids: list[int]) -> dict[int, int]:
    """The contact each released submission went to, by submission id."""
    if not submission_ids:
        return {}
    rows = db.session.execute(
        sa.select(Submission.id, Submission.contact_id).where(Submission.id.in_(submission_ids))
    )
    return dict(rows.all())


def delete(spam_id: int) -> bool:
    """Remove one kept submit for good (flushed); False when it is already gone."""
    deleted = db.session.execute(
        sa.delete(SuspectedSpam)
        .where(SuspectedSpam.id == spam_id)
        .execution_options(synchronize_session=False)
    )
    return deleted.rowcount > 0


def purge_expired(now: datetime, retention_days: float) -> int:
    """Delete the unreleased kept submits older than the retention period; return how many.

    Released rows stay: they say where a lead came from.
    """
    purged = db.session.execute(
        sa.delete(SuspectedSpam)
        .where(
            SuspectedSpam.released_at.is_(None),
            SuspectedSpam.created_at < now - timedelta(days=retention_days),
        )
        .execution_options(synchronize_session=False)
    )
    return purged.rowcount


def _formdata(fields: dict) -> MultiDict:
    items = []
    for name, value in fields.items():
        if name in ("website", "form_token"):
            continue  # the honeypot and the bot checks are what staff overrule
        items.extend((name, str(item)) for item in (value if isinstance(value, list) else [value]))
    return MultiDict(items)
