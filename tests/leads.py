"""Leads with every answer a test needs, sent through the capture service as a submit would be."""

import itertools

from crm.extensions import db
from crm.models import Contact
from crm.models.enums import ConsentChannel, Diagnosis, FormKind, Language, Relationship
from crm.services.capture import submit_lead
from crm.services.leads import LeadInput, RequestMeta

_keys = itertools.count(1)


def send_lead(
    form: FormKind,
    *,
    first_name: str = "Maria",
    last_name: str = "Lopez",
    email: str | None = None,
    phone: str | None = None,
    relationship: Relationship | None = Relationship.patient,
    consents: dict[ConsentChannel, bool] | None = None,
    details: dict | None = None,
    attribution: dict | None = None,
    meta: RequestMeta | None = None,
    preferred_language: Language = Language.en,
) -> Contact:
    """Store one submit and return its contact (committed, as after a real submit)."""
    lead = LeadInput(
        form=form,
        first_name=first_name,
        last_name=last_name,
        email=email,
        phone_e164=phone,
        zip_code="02110",
        state="MA",
        time_zone="America/New_York",
        relationship=relationship,
        diagnosis=Diagnosis.pleural,
        consents=consents
        if consents is not None
        else {ConsentChannel.email: email is not None, ConsentChannel.calls_texts: bool(phone)},
        details=details or {},
        attribution=attribution or {},
        preferred_language=preferred_language,
    )
    meta = meta or RequestMeta("203.0.113.9", "pytest", "https://x.test/guide")
    result = submit_lead(lead, meta, f"test-lead:{next(_keys)}")
    return db.session.get(Contact, result.contact_id)


MAILING_ADDRESS = {
    "line1": "12 Harbor Street",
    "line2": "Apt 4",
    "city": "Boston",
    "state": "MA",
    "zip": "02110",
}
