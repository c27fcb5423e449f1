"""Who a submit is: the rules that keep one person's records apart from another's."""

import unicodedata

import sqlalchemy as sa

from crm.extensions import db
from crm.models import Contact
from crm.services.leads import LeadInput

_c = Contact.__table__.c
# Only the columns the rules below compare, in a statement built once: loading whole
# Contact objects cost more than the rest of the look-up.
_CANDIDATES = (
    sa.select(
        _c.id, _c.email, _c.phone_e164, _c.first_name, _c.last_name, _c.possible_duplicate_of_id
    )
    .where(
        sa.or_(
            _c.email == sa.bindparam("email", type_=_c.email.type),
            _c.phone_e164 == sa.bindparam("phone", type_=_c.phone_e164.type),
        )
    )
    .order_by(_c.id)
)


def match_contact(lead: LeadInput) -> tuple[sa.Row | None, sa.Row | None]:
    """Return the contact this person already is, and another contact to link as a duplicate.

    The same email is the same person. The same phone is the same person only under the
    same name: families share phones, and a phone number must never reveal who else used it.
    Each is a row of the contact's id, email, phone_e164, first_name, last_name and
    possible_duplicate_of_id, not a Contact object.
    """
    if not lead.email and not lead.phone_e164:
        return None, None
    if lead.phone_e164 and not lead.email:
        _serialise_same_phone(lead.phone_e164)
    # A missing email or phone is NULL, which equals nothing: only the given keys match.
    found = (
        db.session.connection()
        .execute(_CANDIDATES, {"email": lead.email or None, "phone": lead.phone_e164 or None})
        .all()
    )
    by_email = next((c for c in found if lead.email and c.email == lead.email), None)
    by_phone = [c for c in found if lead.phone_e164 and c.phone_e164 == lead.phone_e164]
    if by_email is not None:
        return by_email, next((c for c in by_phone if c.id != by_email.id), None)
    lead_name = name_key(lead.first_name, lead.last_name)
    same_name = next(
        (c for c in by_phone if name_key(c.first_name, c.last_name) == lead_name), None
    )
    if same_name is not None:
        return same_name, None
    return None, by_phone[0] if by_phone else None


# Built once too; the lock is PostgreSQL's own (SQLite serialises every writer anyway).
_PHONE_LOCK = sa.select(
    sa.func.pg_advisory_xact_lock(sa.func.hashtext(sa.bindparam("phone", type_=sa.Text)))
)


def _serialise_same_phone(phone_e164: str) -> None:
    # With no email there is no unique index to lose a race on: two first submits from one
    # phone would both find nobody. A transaction-scoped lock on the number queues them.
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(_PHONE_LOCK, {"phone": phone_e164})


def name_key(first_name: str, last_name: str) -> str:
    """A name as compared for dedupe: case, accents and spacing ignored."""
    decomposed = unicodedata.normalize("NFKD", f"{first_name} {last_name}")
    letters = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(letters.casefold().split())
