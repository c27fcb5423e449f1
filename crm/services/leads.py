"""The validated, normalised shape of one public submit, shared by the forms and the API."""

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from crm.models.enums import (
    ConsentChannel,
    Diagnosis,
    FormKind,
    Language,
    Relationship,
    VeteranBranch,
)


@dataclass(frozen=True)
class RequestMeta:
    """Where a submit came from, as recorded on its submission and consent records."""

    ip_address: str | None
    user_agent: str | None
    page_url: str | None


@dataclass
class LeadInput:
    form: FormKind
    first_name: str
    last_name: str
    email: str | None
    phone_e164: str | None
    zip_code: str | None = None
    state: str | None = None
    time_zone: str | None = None
    relationship: Relationship | None = None
    diagnosis: Diagnosis | None = None
    is_veteran: bool = False
    veteran_branch: VeteranBranch | None = None
    preferred_language: Language = Language.en
    consents: dict[ConsentChannel, bool] = field(default_factory=dict)
    # Form-specific answers (interests, best time, mailing address, message, ...).
    details: dict[str, Any] = field(default_factory=dict)
    attribution: dict[str, str | None] = field(default_factory=dict)

    def stored_fields(self) -> dict[str, Any]:
        """Everything the visitor sent, normalised, as kept on the submission."""
        return {
            "first_name": self.first_name,
            "last_name": self.last_name,
            "email": self.email,
            "phone": self.phone_e164,
            "zip": self.zip_code,
            "state": self.state,
            "time_zone": self.time_zone,
            "relationship": self.relationship.value if self.relationship else None,
            "diagnosis": self.diagnosis.value if self.diagnosis else None,
            "is_veteran": self.is_veteran,
            "veteran_branch": self.veteran_branch.value if self.veteran_branch else None,
            "preferred_language": self.preferred_language.value,
            **self.details,
        }

    def content_digest(self) -> str:
        """A fingerprint of the answers and consents: equal only for an identical repeat."""
        answers = {
            "form": self.form.value,
            "fields": self.stored_fields(),
            "consents": {channel.value: granted for channel, granted in self.consents.items()},
        }
        canonical = json.dumps(answers, sort_keys=True, separators=(",", ":"), default=str)
        return hashlib.sha256(canonical.encode()).hexdigest()
