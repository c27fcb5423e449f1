"""Unsubscribes: once an address is suppressed, no commercial email goes to it again."""

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from crm.extensions import db
from crm.models import Contact, EmailSuppression, TimelineEvent, utcnow
from crm.models.enums import TimelineKind


def suppress_email(email: str, reason: str = "unsubscribe") -> bool:
    """Suppress the address (idempotent) and note it on its contact; True if it is new."""
    email = email.strip().lower()
    now = utcnow()
    contact_id = db.session.scalar(sa.select(Contact.id).where(Contact.email == email))
    db.session.add(EmailSuppression(email=email, reason=reason, created_at=now))
    if contact_id is not None:
        db.session.add(
            TimelineEvent(
                contact_id=contact_id,
                kind=TimelineKind.unsubscribed,
                detail={"reason": reason},
                created_at=now,
            )
        )
    try:
        db.session.commit()
    except IntegrityError:  # already suppressed: a second click, or a link scanner's POST
        db.session.rollback()
        return False
    return True


def is_suppressed(email: str | None) -> bool:
    if not email:
        return False
    found = db.session.scalar(
        sa.select(EmailSuppression.id).where(EmailSuppression.email == email.strip().lower())
    )
    return found is not None
