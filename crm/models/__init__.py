"""Every model, imported here so that metadata and migrations see them all."""

from crm.models.base import Base, utcnow
from crm.models.consent import ConsentRecord
from crm.models.contact import Contact
from crm.models.outbox import OutboxMessage
from crm.models.submission import Submission, SuspectedSpam
from crm.models.timeline import TimelineEvent
from crm.models.user import User

__all__ = [
    "Base",
    "ConsentRecord",
    "Contact",
    "OutboxMessage",
    "Submission",
    "SuspectedSpam",
    "TimelineEvent",
    "User",
    "utcnow",
]
