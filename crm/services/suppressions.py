"""Unsubscribes and bounces: once an address is suppressed, no commercial email goes to it again."""

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from crm.extensions import db
from crm.models import Contact, EmailSuppression, utcnow
from crm.models.enums import TimelineKind
from crm.services import events
from crm.services.actors import VISITOR


def suppress_email(email: str, reason: str = "unsubscribe") -> bool:
    """Suppress the address (idempotent) and note it on its contact; commit; True if it is new."""
    email = email.strip().lower()
    now = utcnow()
    added = add_suppression(email, reason)
    contact_id = db.session.scalar(sa.select(Contact.id).where(Contact.email == email))
    # A second click, or a link scanner's POST, changes nothing and notes nothing.
    if added and contact_id is not None:
        events.record(
            contact_id, TimelineKind.unsubscribed, VISITOR, detail={"reason": reason}, at=now
        )
    db.session.commit()
    return added


def add_suppression(email: str, reason: str, outbox_id: int | None = None) -> bool:
    """Suppress the address inside the caller's transaction; True if it was not already."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    # ON CONFLICT, not a caught IntegrityError: the caller's other writes must survive a repeat.
    added = db.session.scalar(
        insert(EmailSuppression.__table__)
        .values(
            email=email.strip().lower(), reason=reason, outbox_id=outbox_id, created_at=utcnow()
        )
        .on_conflict_do_nothing(index_elements=["email"])
        .returning(EmailSuppression.id)
    )
    return added is not None


def suppression_reason(email: str | None) -> str | None:
    """Why commercial mail to this address stopped ("unsubscribe", "bounced"), or None."""
    if not email:
        return None
    return db.session.scalar(
        sa.select(EmailSuppression.reason).where(EmailSuppression.email == email.strip().lower())
    )
