"""The rows a submit writes, as SQL statements built once at import.

The submit is the app's hottest write: through the ORM (objects, unit of work, four
flushes) it cost about twice the CPU of the same rows written with Core statements. Each
statement here is built once, so SQLAlchemy compiles and caches it once; a call passes
only parameters (a `.values(...)` per call would rebuild its cache key every time).
Executed on the session's connection, so they share the submit's one transaction.

Core INSERTs bypass ORM events: the consent records' immutability is enforced by the
database triggers (migrations), which no INSERT needs to step around.
"""

from typing import Any

import sqlalchemy as sa

from crm.models import ConsentRecord, Contact, Submission
from crm.models.attribution import ATTRIBUTION_FIELDS
from crm.models.enums import Diagnosis
from crm.services.consent import disclosure
from crm.services.leads import LeadInput, RequestMeta

_contacts, _submissions = Contact.__table__, Submission.__table__
_c = _contacts.c

# What the follow-up planning needs of the contact (its zone when the submit gave none).
_CONTACT_RETURNS = (_c.id, _c.time_zone)
NEW_CONTACT = sa.insert(_contacts).returning(*_CONTACT_RETURNS)
NEW_SUBMISSION = sa.insert(_submissions).returning(_submissions.c.id, _submissions.c.public_id)
CONSENTS = sa.insert(ConsentRecord.__table__)


def _lead_value(name: str, column: sa.Column) -> sa.BindParameter:
    # Typed: the value is converted as the column's own (enums by value), and PostgreSQL
    # knows what `:x IS NOT NULL` compares (psycopg renders a cast for strings).
    return sa.bindparam(name, type_=column.type)


def _returning_contact_update() -> sa.Update:
    """A returning contact: blanks completed, count and time moved on, in one UPDATE.

    The rules are decided in SQL on the row as it is when updated (under its row lock), so
    concurrent submits by one person neither lose a count nor undo each other's fills. Email
    and phone are never set: an address or number typed on a public form proves nothing
    about who owns it (the submission keeps everything that was sent).
    """
    zip_code, state = _lead_value("lead_zip", _c.zip_code), _lead_value("lead_state", _c.state)
    time_zone = _lead_value("lead_time_zone", _c.time_zone)
    relationship = _lead_value("lead_relationship", _c.relationship_to_patient)
    diagnosis = _lead_value("lead_diagnosis", _c.diagnosis)
    veteran = sa.bindparam("lead_veteran", type_=sa.Boolean)
    branch = _lead_value("lead_branch", _c.veteran_branch)
    duplicate_of = _lead_value("duplicate_of", _c.possible_duplicate_of_id)

    def blank(column):
        return sa.or_(column.is_(None), column == "")

    # ZIP and state go together: a state without its ZIP would contradict the ZIP we have.
    fills_zip = sa.and_(zip_code.is_not(None), blank(_c.zip_code))
    # A ZIP-derived zone for the contact's own ZIP beats whatever we guessed before.
    same_zip = sa.or_(fills_zip, _c.zip_code == zip_code)
    unsure = sa.or_(_c.diagnosis.is_(None), _c.diagnosis == Diagnosis.not_sure)
    return (
        sa.update(_contacts)
        .where(_c.id == sa.bindparam("contact_id"))
        .values(
            zip_code=sa.case((fills_zip, zip_code), else_=_c.zip_code),
            state=sa.case((fills_zip, state), else_=_c.state),
            time_zone=sa.case(
                (sa.and_(time_zone.is_not(None), sa.or_(blank(_c.time_zone), same_zip)), time_zone),
                else_=_c.time_zone,
            ),
            relationship_to_patient=sa.func.coalesce(_c.relationship_to_patient, relationship),
            diagnosis=sa.case(
                (unsure, sa.func.coalesce(diagnosis, _c.diagnosis)), else_=_c.diagnosis
            ),
            is_veteran=sa.or_(_c.is_veteran, veteran),
            veteran_branch=sa.case(
                (veteran, sa.func.coalesce(_c.veteran_branch, branch)), else_=_c.veteran_branch
            ),
            # Linked once: a link staff (or an earlier submit) made is kept.
            possible_duplicate_of_id=sa.func.coalesce(_c.possible_duplicate_of_id, duplicate_of),
            # In SQL: concurrent submits by one person must not overwrite each other's count.
            submission_count=_c.submission_count + 1,
            last_submitted_at=sa.bindparam("now", type_=_c.last_submitted_at.type),
        )
        .returning(*_CONTACT_RETURNS)
    )


RETURNING_CONTACT = _returning_contact_update()


def attribution(lead: LeadInput) -> dict[str, str | None]:
    return {name: lead.attribution.get(name) for name in ATTRIBUTION_FIELDS}


def new_contact(lead: LeadInput, duplicate_of: int | None, now) -> dict[str, Any]:
    """The parameters of NEW_CONTACT (always the same keys: one cached statement)."""
    return {
        "first_name": lead.first_name,
        "last_name": lead.last_name,
        "email": lead.email,
        "phone_e164": lead.phone_e164,
        "zip_code": lead.zip_code,
        "state": lead.state,
        "time_zone": lead.time_zone,
        "relationship_to_patient": lead.relationship,
        "diagnosis": lead.diagnosis,
        "is_veteran": lead.is_veteran,
        "veteran_branch": lead.veteran_branch,
        "possible_duplicate_of_id": duplicate_of,
        "submission_count": 1,
        "last_submitted_at": now,
        "created_at": now,
        **attribution(lead),
    }


def returning_contact(contact_id: int, lead: LeadInput, duplicate_of: int | None, now) -> dict:
    """The parameters of RETURNING_CONTACT; falsy answers count as not given, as on the forms."""
    return {
        "contact_id": contact_id,
        "lead_zip": lead.zip_code or None,
        "lead_state": lead.state,
        "lead_time_zone": lead.time_zone or None,
        "lead_relationship": lead.relationship,
        "lead_diagnosis": lead.diagnosis,
        "lead_veteran": bool(lead.is_veteran),
        "lead_branch": lead.veteran_branch,
        "duplicate_of": duplicate_of,
        "now": now,
    }


def seen(meta: RequestMeta) -> dict[str, str | None]:
    """Where the submit came from, as kept on the submission and on each consent record."""
    return {
        "ip_address": meta.ip_address,
        "user_agent": _clip(meta.user_agent, 500),
        "page_url": _clip(meta.page_url, 1000),
    }


def consents(lead: LeadInput, where: dict, ids: dict, now) -> list[dict[str, Any]]:
    """The parameters of CONSENTS: one record per channel asked, granted or not."""
    rows = []
    for channel, granted in lead.consents.items():
        text = disclosure(channel)
        rows.append(
            {
                **ids,
                **where,
                "channel": channel,
                "granted": granted,
                "text": text.text,
                "text_version": text.version,
                "recorded_at": now,
                "form": lead.form,
            }
        )
    return rows


def _clip(value: str | None, length: int) -> str | None:
    return value[:length] if value else None
