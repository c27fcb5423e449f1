"""The specialist directory: adding and changing entries, and matching them to a contact."""

from dataclasses import dataclass

import sqlalchemy as sa

from crm.extensions import db
from crm.models import Contact, Specialist
from crm.models.enums import Diagnosis, SpecialistKind, Specialty
from crm.services import geo, lookups

# Who treats what: surgeons for the site of the disease, oncologists for every diagnosis.
_ONCOLOGY = frozenset({Specialty.thoracic_oncology, Specialty.medical_oncology})
SPECIALTIES_FOR: dict[Diagnosis | None, frozenset[Specialty]] = {
    Diagnosis.pleural: frozenset(
        {Specialty.pleural_surgery, Specialty.thoracic_oncology, Specialty.medical_oncology}
    ),
    Diagnosis.peritoneal: frozenset({Specialty.peritoneal_surgery, Specialty.medical_oncology}),
}
# The most matches the contact page lists: enough to choose from, few enough to read.
MATCH_LIMIT = 10
EDITABLE = (
    "name",
    "kind",
    "specialties",
    "organisation",
    "city",
    "state",
    "zip_code",
    "phone",
    "email",
    "accepts_va",
    "active",
)


class SpecialistRefused(ValueError):
    """The entry would be unusable (no specialty, an unknown ZIP, a bad phone); says why."""


@dataclass(frozen=True)
class SpecialistInput:
    name: str
    kind: SpecialistKind
    specialties: list[str]
    organisation: str
    city: str
    state: str
    zip_code: str
    phone: str
    email: str | None = None
    accepts_va: bool = False
    active: bool = True


@dataclass(frozen=True)
class Match:
    specialist: Specialist
    miles: float | None


def specialties_for(diagnosis: Diagnosis | None) -> frozenset[Specialty]:
    """The specialties that treat this diagnosis (oncology for anything else or unknown)."""
    return SPECIALTIES_FOR.get(diagnosis, _ONCOLOGY)


def create_specialist(entry: SpecialistInput) -> Specialist:
    """Add a directory entry (flushed) after checking every field."""
    specialist = Specialist(**_checked(entry))
    db.session.add(specialist)
    db.session.flush()
    return specialist


def update_specialist(specialist: Specialist, entry: SpecialistInput) -> list[str]:
    """Change an entry; returns the names of the fields that changed (flushed)."""
    wanted = _checked(entry)
    changed = [field for field in EDITABLE if getattr(specialist, field) != wanted[field]]
    for field in changed:
        setattr(specialist, field, wanted[field])
    db.session.flush()
    return changed


def deactivate(specialist: Specialist) -> list[str]:
    """Take an entry out of matches (its referrals keep pointing at it); returns what changed."""
    if not specialist.active:
        return []
    specialist.active = False
    db.session.flush()
    return ["active"]


def directory() -> list[Specialist]:
    """Every entry, active ones first, by state then name."""
    return list(
        db.session.scalars(
            sa.select(Specialist).order_by(
                Specialist.active.desc(), Specialist.state, Specialist.name
            )
        )
    )


def matches_for(contact: Contact, limit: int = MATCH_LIMIT) -> list[Match]:
    """Active specialists for the diagnosis, nearest first; for veterans VA-accepting ones first."""
    wanted = {specialty.value for specialty in specialties_for(contact.diagnosis)}
    candidates = db.session.scalars(sa.select(Specialist).where(Specialist.active.is_(True)))
    matches = [
        Match(specialist, geo.miles_between(contact.zip_code, specialist.zip_code))
        for specialist in candidates
        if wanted.intersection(specialist.specialties)
    ]

    def order(match: Match):
        va_last = contact.is_veteran and not match.specialist.accepts_va
        unknown = match.miles is None
        return (va_last, unknown, match.miles or 0.0, match.specialist.name, match.specialist.id)

    return sorted(matches, key=order)[:limit]


def _checked(entry: SpecialistInput) -> dict:
    name, organisation, city = (entry.name.strip(), entry.organisation.strip(), entry.city.strip())
    if not name or not organisation or not city:
        raise SpecialistRefused("Name, organisation and city are required.")
    unknown = [code for code in entry.specialties if Specialty.from_value(code) is None]
    specialties = sorted(set(entry.specialties))
    if unknown or not specialties:
        raise SpecialistRefused("Choose at least one specialty.")
    try:
        place = lookups.lookup_zip(entry.zip_code)
        phone = lookups.normalise_us_phone(entry.phone)
        email = lookups.normalise_email(entry.email) if (entry.email or "").strip() else None
    except lookups.InvalidInput as error:
        raise SpecialistRefused(str(error)) from error
    state = entry.state.strip().upper()
    if state != place.state:
        raise SpecialistRefused(f"ZIP code {place.zip_code} is in {place.state}, not {state}.")
    return {
        "name": name,
        "kind": SpecialistKind(entry.kind),
        "specialties": specialties,
        "organisation": organisation,
        "city": city,
        "state": state,
        "zip_code": place.zip_code,
        "phone": phone,
        "email": email,
        "accepts_va": bool(entry.accepts_va),
        "active": bool(entry.active),
    }
