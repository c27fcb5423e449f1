"""Every model, imported here so that metadata and migrations see them all."""

from crm.models.api_key import ApiKey
from crm.models.audit import AuditEvent
from crm.models.base import Base, utcnow
from crm.models.call import Call
from crm.models.call_task import CallTask
from crm.models.chat import CannedReply, Chat, ChatMessage
from crm.models.chat_rollup import ChatDaily, RollupChat
from crm.models.consent import ConsentRecord
from crm.models.contact import Contact
from crm.models.fulfilment import GuideFulfilment
from crm.models.guide_document import GuideDocument
from crm.models.heartbeat import Heartbeat
from crm.models.note import Note
from crm.models.outbox import OutboxMessage
from crm.models.rollup import (
    CallDaily,
    ContactMilestone,
    FunnelDaily,
    GuideMilestone,
    ReferralGuideDaily,
    ReportSlice,
    RollupContact,
    RollupWatermark,
    SpeedDaily,
)
from crm.models.specialist import Referral, Specialist
from crm.models.stage_change import StageChange
from crm.models.submission import Submission, SuspectedSpam
from crm.models.suppression import EmailSuppression
from crm.models.timeline import TimelineEvent
from crm.models.user import StaffSession, User

__all__ = [
    "ApiKey",
    "AuditEvent",
    "Base",
    "Call",
    "CallDaily",
    "CallTask",
    "CannedReply",
    "Chat",
    "ChatDaily",
    "ChatMessage",
    "ConsentRecord",
    "Contact",
    "ContactMilestone",
    "EmailSuppression",
    "FunnelDaily",
    "GuideDocument",
    "GuideFulfilment",
    "GuideMilestone",
    "Heartbeat",
    "Note",
    "OutboxMessage",
    "Referral",
    "ReferralGuideDaily",
    "ReportSlice",
    "RollupChat",
    "RollupContact",
    "RollupWatermark",
    "Specialist",
    "SpeedDaily",
    "StaffSession",
    "StageChange",
    "Submission",
    "SuspectedSpam",
    "TimelineEvent",
    "User",
    "utcnow",
]
