"""Privacy requests: everything we hold about a person, and erasing them.

The person is found by their email: the contact with it, and every contact merged into it.
Their rows are every row of a model with a `contact_id` (the roll-ups aside: counts, derived
again from the rest), and the messages of their chats.

Erasure anonymises rather than deletes, so that the reports keep their counts: the contact
stays, with its stage, form, dates, state and codes, but its name, email, phone, ZIP and
landing page go, and so does everything anyone typed about them (answers, notes, call notes,
stage reasons, chat messages, mailing addresses). Open calls and unsent emails are cancelled.
Their consent records are kept whole: they are the evidence of what the person agreed to
that the law asks us to be able to show (and the only place their address at the time
remains). The audit log keeps every earlier entry (ids only) and gains one saying that an
erasure happened, by whom.
"""

import enum
import logging
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from crm.extensions import db
from crm.models import (
    Call,
    CallTask,
    Chat,
    ChatMessage,
    Contact,
    EmailSuppression,
    GuideFulfilment,
    Note,
    OutboxMessage,
    StageChange,
    Submission,
)
from crm.models.enums import AuditAction, CallOutcome, CallTaskStatus, OutboxStatus, Stage
from crm.services import audit
from crm.services.lookups import InvalidInput, normalise_email
from crm.services.sealed_columns import guard_lifted

log = logging.getLogger(__name__)

ERASED_NAME = "Erased"
ERASED_TEXT = "[erased]"
_UNSENT = (OutboxStatus.pending, OutboxStatus.dispatched)


class PersonNotFound(LookupError):
    pass


def contacts_of(email: str) -> list[Contact]:
    """The contact with this email and every contact merged into it, oldest first."""
    try:
        address = normalise_email(email)
    except InvalidInput as bad:
        raise PersonNotFound(f"not an email address: {bad}") from bad
    main = db.session.scalar(sa.select(Contact).where(Contact.email == address))
    if main is None:
        raise PersonNotFound("no contact has that email")
    return with_merged(main)


def with_merged(contact: Contact) -> list[Contact]:
    """The contact and every contact merged into it, oldest first."""
    merged = db.session.scalars(
        sa.select(Contact).where(Contact.merged_into_id == contact.id).order_by(Contact.id)
    ).all()
    return [contact, *merged]


def export_person(email: str) -> dict[str, Any]:
    """Everything held about the person with this email, as plain JSON-ready data."""
    return export_contacts(contacts_of(email))


def export_contacts(contacts: list[Contact]) -> dict[str, Any]:
    """Everything held about these contacts (one person), as plain JSON-ready data."""
    ids = [contact.id for contact in contacts]
    held: dict[str, Any] = {"contacts": [_row(contact) for contact in contacts]}
    for model in _models_with_contact_id():
        rows = db.session.scalars(
            sa.select(model).where(model.contact_id.in_(ids)).order_by(model.id)
        ).all()
        held[model.__tablename__] = [_row(row) for row in rows]
    chat_ids = [chat["id"] for chat in held.get(Chat.__tablename__, [])]
    messages = db.session.scalars(
        sa.select(ChatMessage).where(ChatMessage.chat_id.in_(chat_ids)).order_by(ChatMessage.id)
    ).all()
    held[ChatMessage.__tablename__] = [_row(message) for message in messages]
    return held


def erase_person(
    email: str, actor_user_id: int | None, ip_address: str | None, now: datetime
) -> dict[str, int]:
    """Anonymise the person in the caller's transaction; how many rows each step changed."""
    return erase_contacts(contacts_of(email), actor_user_id, ip_address, now)


def erase_contacts(
    contacts: list[Contact], actor_user_id: int | None, ip_address: str | None, now: datetime
) -> dict[str, int]:
    ids = [contact.id for contact in contacts]
    emails = [contact.email for contact in contacts if contact.email]
    for contact in contacts:
        contact.first_name = contact.last_name = ERASED_NAME
        # The reachable CHECK wants an email or a phone: one that names no one and can
        # never be delivered (.invalid is reserved for exactly this).
        contact.email = f"erased-{contact.id}@erased.invalid"
        contact.phone_e164 = None
        contact.zip_code = None
        contact.landing_page = contact.referrer = None
        contact.erased_at = now
    counts = {"contacts": len(contacts)}
    counts["submissions"] = _update(
        Submission,
        Submission.contact_id.in_(ids),
        fields={},
        ip_address=None,
        user_agent=None,
        page_url=None,
        landing_page=None,
        referrer=None,
    )
    counts["guide_fulfilments"] = _update(
        GuideFulfilment, GuideFulfilment.contact_id.in_(ids), mailing_address={}
    )
    chat_ids = sa.select(Chat.id).where(Chat.contact_id.in_(ids)).scalar_subquery()
    counts["chats"] = _update(Chat, Chat.contact_id.in_(ids), visitor_name=ERASED_NAME)
    # Append-only trails: the facts stay (who, when, what kind), the words go.
    counts["notes"] = _update(Note, Note.contact_id.in_(ids), guarded=True, body=ERASED_TEXT)
    counts["calls"] = _update(Call, Call.contact_id.in_(ids), guarded=True, note=None)
    counts["stage_changes"] = _update(
        StageChange, StageChange.contact_id.in_(ids), guarded=True, reason=""
    )
    counts["chat_messages"] = _update(
        ChatMessage, ChatMessage.chat_id.in_(chat_ids), guarded=True, body=ERASED_TEXT
    )
    counts["call_tasks_cancelled"] = _update(
        CallTask,
        CallTask.contact_id.in_(ids) & (CallTask.status == CallTaskStatus.open),
        status=CallTaskStatus.cancelled,
        claimed_by_user_id=None,
        lease_expires_at=None,
    )
    counts["emails_cancelled"] = _update(
        OutboxMessage,
        OutboxMessage.contact_id.in_(ids) & OutboxMessage.status.in_(_UNSENT),
        status=OutboxStatus.cancelled,
    )
    counts["email_suppressions"] = db.session.execute(
        sa.delete(EmailSuppression).where(EmailSuppression.email.in_(emails))
    ).rowcount
    for contact_id in ids:
        audit.record(
            AuditAction.contact_erased,
            actor_user_id,
            ip_address,
            contact_id=contact_id,
            detail={"contacts": len(ids), "automatic": actor_user_id is None},
        )
    db.session.flush()
    log.info("erased contacts %s", ids)
    return counts


def erase_never_reached(now: datetime, retention_days: int, batch: int = 200) -> int:
    """Anonymise contacts nobody ever reached, created before the retention period."""
    cutoff = now - timedelta(days=retention_days)
    reached = sa.select(Call.contact_id).where(
        Call.outcome.in_([CallOutcome.reached, CallOutcome.call_back_at])
    )
    contacts = db.session.scalars(
        sa.select(Contact)
        .where(
            Contact.created_at < cutoff,
            Contact.erased_at.is_(None),
            Contact.merged_into_id.is_(None),
            Contact.stage.in_([Stage.new, Stage.attempting, Stage.closed]),
            Contact.id.not_in(reached),
        )
        .order_by(Contact.id)
        .limit(batch)
    ).all()
    for contact in contacts:
        erase_contacts(with_merged(contact), None, None, now)
    return len(contacts)


def _update(model, where, *, guarded: bool = False, **values) -> int:
    statement = (
        sa.update(model).where(where).values(**values).execution_options(synchronize_session=False)
    )
    if not guarded:
        return db.session.execute(statement).rowcount
    with guard_lifted(model.__tablename__):
        return db.session.execute(statement).rowcount


def _models_with_contact_id() -> list[type]:
    return sorted(
        (
            mapper.class_
            for mapper in db.Model.registry.mappers
            if "contact_id" in mapper.columns
            and mapper.class_ is not Contact
            # The report roll-ups are counts derived from the rest, not the person's data.
            and mapper.class_.__module__ != "crm.models.rollup"
        ),
        key=lambda model: model.__tablename__,
    )


def _row(instance) -> dict[str, Any]:
    return {
        column.key: _plain(getattr(instance, column.key))
        for column in sa.inspect(type(instance)).column_attrs
    }


def _plain(value):
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value
