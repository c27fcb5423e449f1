"""Who a submit is: the rules that keep one person's records apart from another's."""

import unicodedata

import sqlalchemy as sa

from crm.extensions import db
from crm.models import Contact
from crm.services.leads import LeadInput


def match_contact(lead: LeadInput) -> tuple[Contact | None, Contact | None]:
    """Return the contact this person already is, and another contact to link as a duplicate.

    The same email is the same person. The same phone is the same person only under the
    same name: families share phones, and a phone number must never reveal who else used it.
    """
    keys = []
    if lead.email:
        keys.append(Contact.email == lead.email)
    if lead.phone_e164:
        keys.append(Contact.phone_e164 == lead.phone_e164)
        if not lead.email:
            _serialise_same_phone(lead.phone_e164)
    found = (
        db.session.scalars(sa.select(Contact).where(sa.or_(*keys)).order_by(Contact.id)).all()
        if keys
        else []
    )
    by_email = next((c for c in found if lead.email and c.email == lead.email), None)
    by_phone = [c for c in found if lead.phone_e164 and c.phone_e164 == lead.phone_e164]
    if by_email is not None:
        return by_email, next((c for c in by_phone if c.id != by_email.id), None)
    same_name = next((c for c in by_phone if _same_name(c, lead)), None)
    if same_name is not None:
        return same_name, None
    return None, by_phone[0] if by_phone else None


def _serialise_same_phone(phone_e164: str) -> None:
    # With no email there is no unique index to lose a race on: two first submits from one
    # phone would both find nobody. A transaction-scoped lock on the number queues them.
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtext(phone_e164))))


def _same_name(contact: Contact, lead: LeadInput) -> bool:
    return name_key(contact.first_name, contact.last_name) == name_key(
        lead.first_name, lead.last_name
    )


def name_key(first_name: str, last_name: str) -> str:
    """A name as compared for dedupe: case, accents and spacing ignored."""
    decomposed = unicodedata.normalize("NFKD", f"{first_name} {last_name}")
    letters = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(letters.casefold().split())
