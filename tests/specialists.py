"""Directory entries for tests: clearly fictional specialists at known distances from Boston."""

from crm.extensions import db
from crm.models.enums import SpecialistKind
from crm.services.specialists import SpecialistInput, create_specialist

# Distances from the factories' contact ZIP 02110 (downtown Boston), as the crow flies.
NEAR_BOSTON = dict(city="Boston", state="MA", zip_code="02114")  # ~1 mile
PROVIDENCE = dict(city="Providence", state="RI", zip_code="02903")  # ~42 miles
NEW_HAVEN = dict(city="New Haven", state="CT", zip_code="06510")  # ~121 miles
NEW_YORK = dict(city="New York", state="NY", zip_code="10016")  # ~188 miles
HOUSTON = dict(city="Houston", state="TX", zip_code="77030")  # ~1,600 miles


def make_specialist(name: str, specialties: list[str], place: dict, **fields) -> int:
    """A committed directory entry; returns its id."""
    entry = SpecialistInput(
        name=name,
        kind=fields.pop("kind", SpecialistKind.doctor),
        specialties=specialties,
        organisation=fields.pop("organisation", "Example Cancer Institute"),
        phone=fields.pop("phone", "(617) 555-0142"),
        **place,
        **fields,
    )
    specialist_id = create_specialist(entry).id
    db.session.commit()
    return specialist_id
