"""A submission's stored answers as label and text pairs for staff pages.

Values stay the visitor's own strings: the template escapes them (never marked safe).
"""

from typing import Any

from crm.models.enums import (
    BestTime,
    CancerStage,
    Diagnosis,
    Interest,
    Language,
    Relationship,
    VeteranBranch,
)

# In the order staff read them; anything else a form stores comes after, under its own name.
LABELS = {
    "first_name": "First name",
    "last_name": "Last name",
    "email": "Email",
    "phone": "Phone",
    "zip": "ZIP code",
    "state": "State",
    "time_zone": "Time zone",
    "relationship": "Who wrote",
    "diagnosis": "Diagnosis",
    "cancer_stage": "Cancer stage",
    "current_treatment": "Current treatment",
    "is_veteran": "Veteran",
    "veteran_branch": "Branch of service",
    "preferred_language": "Preferred language for calls",
    "interests": "Interested in",
    "best_time": "Best time to call",
    "message": "Message",
    "printed_guide": "Printed guide",
    "mailing_address": "Mailing address",
}
ATTRIBUTION_LABELS = {
    "utm_source": "Source",
    "utm_medium": "Medium",
    "utm_campaign": "Campaign",
    "utm_term": "Term",
    "utm_content": "Content",
    "gclid": "Google click id",
    "landing_page": "Landing page",
    "referrer": "Referrer",
}
# Who wrote, in staff words: the submitter and the patient are often not the same person.
SUBMITTER = {
    Relationship.patient: "The patient themselves",
    Relationship.spouse: "The patient's spouse or partner",
    Relationship.child: "The patient's son or daughter",
    Relationship.other_family: "Another family member of the patient",
    Relationship.caregiver: "The patient's caregiver",
    Relationship.other: "Someone else writing for the patient",
}
# Why commercial email to an address stopped (crm/services/suppressions.py reasons).
SUPPRESSED = {
    "unsubscribe": "they unsubscribed",
    "bounced": "the address bounced",
    "staff_do_not_contact": "do not contact",
}
_ENUMS = {
    "relationship": Relationship,
    "diagnosis": Diagnosis,
    "cancer_stage": CancerStage,
    "veteran_branch": VeteranBranch,
    "best_time": BestTime,
    "interests": Interest,
    "preferred_language": Language,
}


def answers(fields: dict[str, Any]) -> list[tuple[str, str]]:
    """The answers that were given (blanks left out), labelled, known keys first."""
    keys = [key for key in LABELS if key in fields]
    keys += sorted(key for key in fields if key not in LABELS)
    shown = []
    for key in keys:
        text = _text(key, fields[key])
        if text:
            shown.append((LABELS.get(key, key.replace("_", " ").capitalize()), text))
    return shown


def _text(key: str, value: Any) -> str:
    if value is None or value == "" or value == []:
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if key == "mailing_address" and isinstance(value, dict):
        lines = [value.get("line1"), value.get("line2"), _city_line(value)]
        return "\n".join(str(line) for line in lines if line)
    if isinstance(value, list):
        return ", ".join(_enum_text(key, item) for item in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items() if v)
    return _enum_text(key, value)


def _enum_text(key: str, value: Any) -> str:
    enum_cls = _ENUMS.get(key)
    member = enum_cls.from_value(value) if enum_cls is not None else None
    if member is None:
        return str(value)
    return SUBMITTER[member] if enum_cls is Relationship else member.label


def _city_line(address: dict) -> str:
    city = address.get("city") or ""
    region = " ".join(str(part) for part in (address.get("state"), address.get("zip")) if part)
    return ", ".join(part for part in (city, region) if part)
