"""Build the people tests talk about: staff through the users service, contacts through capture."""

import itertools
from datetime import datetime

from crm.extensions import db
from crm.models import Contact, User
from crm.models.enums import ConsentChannel, Diagnosis, FormKind, Relationship, Role
from crm.services.capture import submit_lead
from crm.services.leads import LeadInput, RequestMeta
from crm.services.users import create_user

DEFAULT_PASSWORD = "correct horse battery staple"
_numbers = itertools.count(1)


def make_user(
    role: Role = Role.advocate,
    *,
    email: str | None = None,
    name: str | None = None,
    password: str = DEFAULT_PASSWORD,
    **fields,
) -> User:
    """A staff user, committed (tests sign in with it from another request)."""
    number = next(_numbers)
    user = create_user(
        email or f"{role.value}{number}@example.org",
        name or f"{role.label} Number{number}",
        role,
        password,
        **fields,
    )
    db.session.commit()
    return user


def make_contact(
    form: FormKind = FormKind.guide,
    *,
    first_name: str = "Maria",
    last_name: str | None = None,
    email: str | None = "",
    phone: str | None = None,
    details: dict | None = None,
    diagnosis: Diagnosis | None = Diagnosis.pleural,
    received_at: datetime | None = None,
    **fields,
) -> Contact:
    """A contact created by a real submission through the capture service, committed.

    Email defaults to a fresh address (pass None for none); a callback gets a fresh phone.
    `received_at` fixes the submit's time (who is on shift for the new-lead round robin).
    """
    number = next(_numbers)
    if email == "":
        email = f"person{number}@example.com"
    if phone is None and form == FormKind.callback:
        phone = f"+1617555{number % 10000:04d}"
    default_details = {
        FormKind.guide: {"interests": ["treatment"], "printed_guide": False},
        FormKind.callback: {"best_time": "asap", "message": None},
        FormKind.specialist_match: {"cancer_stage": "2", "current_treatment": None},
    }[form]
    lead = LeadInput(
        form=form,
        first_name=first_name,
        last_name=last_name or f"Lopez{_letters(number).capitalize()}",
        email=email,
        phone_e164=phone,
        zip_code="02110",
        state="MA",
        time_zone="America/New_York",
        relationship=Relationship.patient,
        diagnosis=diagnosis,
        consents={
            ConsentChannel.email: email is not None,
            ConsentChannel.calls_texts: phone is not None,
        },
        details={**default_details, **(details or {})},
        **fields,
    )
    meta = RequestMeta(ip_address="203.0.113.9", user_agent="pytest", page_url="https://x.test/")
    result = submit_lead(lead, meta, f"factory:{number}", received_at)
    return db.session.get(Contact, result.contact_id)


def _letters(number: int) -> str:
    """A name-safe suffix (names take letters only): 1 -> a, 27 -> ba."""
    letters = ""
    while True:
        number, digit = divmod(number, 26)
        letters = "abcdefghijklmnopqrstuvwxyz"[digit] + letters
        if not number:
            return letters
