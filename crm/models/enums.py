"""Enumerations stored by value behind CHECK constraints, each with a human label."""

from enum import StrEnum


class LabeledEnum(StrEnum):
    """A string enum whose members also carry the label shown to people."""

    def __new__(cls, value: str, label: str):
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        return [(member.value, member.label) for member in cls]

    @classmethod
    def from_value(cls, value: object):
        """Return the member with this value, or None for anything else a visitor may send."""
        return cls._value2member_map_.get(value) if isinstance(value, str) else None


class FormKind(LabeledEnum):
    guide = "guide", "Free guide"
    callback = "callback", "Callback request"
    specialist_match = "specialist-match", "Specialist match"
    # The pre-chat step, when the visitor gave an email or phone (crm/services/chat/).
    chat = "chat", "Chat"


class Relationship(LabeledEnum):
    patient = "patient", "I am the patient"
    spouse = "spouse", "Spouse or partner"
    child = "child", "Son or daughter"
    other_family = "other_family", "Other family member"
    caregiver = "caregiver", "Caregiver"
    other = "other", "Other"


class Diagnosis(LabeledEnum):
    pleural = "pleural", "Pleural mesothelioma"
    peritoneal = "peritoneal", "Peritoneal mesothelioma"
    pericardial = "pericardial", "Pericardial mesothelioma"
    testicular = "testicular", "Testicular mesothelioma"
    not_sure = "not_sure", "Not sure yet"
    other = "other", "Other"


class Language(LabeledEnum):
    """The language a visitor would like to be called in; labels are in that language."""

    en = "en", "English"
    es = "es", "Español"


class CancerStage(LabeledEnum):
    stage_1 = "1", "Stage 1"
    stage_2 = "2", "Stage 2"
    stage_3 = "3", "Stage 3"
    stage_4 = "4", "Stage 4"
    unknown = "unknown", "Not known"


class VeteranBranch(LabeledEnum):
    army = "army", "Army"
    navy = "navy", "Navy"
    air_force = "air_force", "Air Force"
    marine_corps = "marine_corps", "Marine Corps"
    coast_guard = "coast_guard", "Coast Guard"
    space_force = "space_force", "Space Force"
    other = "other", "Other / prefer not to say"


class Interest(LabeledEnum):
    treatment = "treatment", "Treatment options"
    financial = "financial", "Financial assistance"
    va_benefits = "va_benefits", "VA benefits help"


class BestTime(LabeledEnum):
    asap = "asap", "As soon as possible"
    morning = "morning", "Morning (8am to noon)"
    afternoon = "afternoon", "Afternoon (noon to 5pm)"
    evening = "evening", "Evening (5pm to 9pm)"


class Stage(LabeledEnum):
    new = "new", "New"
    attempting = "attempting", "Attempting"
    contacted = "contacted", "Contacted"
    qualified = "qualified", "Qualified"
    referred = "referred", "Referred"
    closed = "closed", "Closed"


class CloseOutcome(LabeledEnum):
    helped = "helped", "Helped"
    not_interested = "not_interested", "Not interested"
    unreachable = "unreachable", "Unreachable"
    not_eligible = "not_eligible", "Not eligible"
    duplicate = "duplicate", "Duplicate"
    do_not_contact = "do_not_contact", "Do not contact"
    deceased = "deceased", "Deceased"


class ConsentChannel(LabeledEnum):
    calls_texts = "calls_texts", "Calls and texts"
    email = "email", "Email"


class TimelineKind(LabeledEnum):
    created = "created", "New lead"
    reengaged = "reengaged", "Came back"
    possible_duplicate = "possible_duplicate", "Possible duplicate"
    email_queued = "email_queued", "Email queued"
    email_sent = "email_sent", "Email sent"
    email_failed = "email_failed", "Email failed"
    email_dead = "email_dead", "Email gave up"
    email_cancelled = "email_cancelled", "Email not sent"
    email_bounced = "email_bounced", "Email refused by the recipient's server"
    email_requeued = "email_requeued", "Email queued again"
    unsubscribed = "unsubscribed", "Unsubscribed"
    callback_due = "callback_due", "Callback scheduled"
    callback_escalated = "callback_escalated", "Callback missed its target"
    guide_to_print = "guide_to_print", "Printed guide requested"
    corrected = "corrected", "Corrected their answers"
    note_added = "note_added", "Note"
    stage_changed = "stage_changed", "Stage changed"
    assigned = "assigned", "Assigned"
    do_not_contact = "do_not_contact", "Asked not to be contacted"
    guide_resent = "guide_resent", "Guide sent again"
    merged = "merged", "Merged with a duplicate"
    not_duplicate = "not_duplicate", "Marked not the same person"
    guide_printed = "guide_printed", "Printed guide printed"
    guide_shipped = "guide_shipped", "Printed guide shipped"
    referral_sent = "referral_sent", "Referral sent"
    referral_updated = "referral_updated", "Referral updated"
    call_logged = "call_logged", "Call"
    guide_opened = "guide_opened", "Opened the guide link"
    chat_closed = "chat_closed", "Chat"


class OutboxKind(LabeledEnum):
    guide_email = "guide_email", "Guide email"
    callback_confirmation = "callback_confirmation", "Callback confirmation email"
    specialist_confirmation = "specialist_confirmation", "Specialist match confirmation email"
    guide_check_in = "guide_check_in", "Day-2 check-in email"
    specialist_offer = "specialist_offer", "Day-7 specialist match offer"
    callback_escalation = "callback_escalation", "Missed callback alert to managers"
    undelivered_digest = "undelivered_digest", "Undelivered emails alert to managers"
    specialist_match = "specialist_match", "Specialist match email"
    tried_to_reach = "tried_to_reach", "We tried to reach you email"


class CallTaskStatus(LabeledEnum):
    open = "open", "Waiting"
    done = "done", "Done"
    cancelled = "cancelled", "Cancelled"


class CallReason(LabeledEnum):
    """Why a call is owed; the queue's bands follow from it (crm/services/queue_bands.py)."""

    requested_callback = "requested_callback", "Requested a callback"
    call_back_at = "call_back_at", "Asked to be called back at a time"
    new_lead = "new_lead", "New lead"
    retry = "retry", "Retry"


class CallOutcome(LabeledEnum):
    """What happened on a call; crm/services/call_outcomes.py decides what follows each."""

    reached = "reached", "Reached"
    voicemail = "voicemail", "Left voicemail"
    no_answer = "no_answer", "No answer"
    busy = "busy", "Busy"
    wrong_number = "wrong_number", "Wrong number"
    call_back_at = "call_back_at", "Asked to call back at"
    do_not_call = "do_not_call", "Do not call"
    deceased = "deceased", "Deceased"


class FulfilmentStatus(LabeledEnum):
    to_print = "to_print", "To print"
    printed = "printed", "Printed"
    shipped = "shipped", "Shipped"
    cancelled = "cancelled", "Cancelled"


class OutboxStatus(LabeledEnum):
    pending = "pending", "Pending"
    dispatched = "dispatched", "Dispatched"
    sending = "sending", "Sending"
    sent = "sent", "Sent"
    dead = "dead", "Dead"
    bounced = "bounced", "Bounced"
    cancelled = "cancelled", "Cancelled"


class Role(LabeledEnum):
    advocate = "advocate", "Advocate"
    manager = "manager", "Manager"
    admin = "admin", "Admin"


class ActorKind(LabeledEnum):
    """Who made a change: a signed-in staff member, the system (a task), or a visitor's submit."""

    user = "user", "Staff"
    system = "system", "System"
    visitor = "visitor", "Visitor"


class AuditAction(LabeledEnum):
    sign_in = "sign_in", "Signed in"
    sign_in_failed = "sign_in_failed", "Sign-in failed"
    sign_in_throttled = "sign_in_throttled", "Sign-in slowed down"
    sign_out = "sign_out", "Signed out"
    session_expired = "session_expired", "Session expired"
    access_denied = "access_denied", "Access denied"
    contact_viewed = "contact_viewed", "Viewed a contact"
    search = "search", "Searched contacts"
    note_added = "note_added", "Added a note"
    stage_changed = "stage_changed", "Changed a stage"
    do_not_contact = "do_not_contact", "Marked do-not-contact"
    guide_resent = "guide_resent", "Sent the guide again"
    contact_assigned = "contact_assigned", "Assigned a contact"
    contacts_merged = "contacts_merged", "Merged duplicates"
    not_duplicate = "not_duplicate", "Marked not the same person"
    spam_viewed = "spam_viewed", "Viewed suspected spam"
    spam_released = "spam_released", "Released suspected spam"
    spam_deleted = "spam_deleted", "Deleted suspected spam"
    fulfilment_viewed = "fulfilment_viewed", "Viewed printed guides"
    fulfilment_updated = "fulfilment_updated", "Updated a printed guide"
    labels_printed = "labels_printed", "Printed address labels"
    audit_viewed = "audit_viewed", "Viewed the audit log"
    user_created = "user_created", "Created a user"
    user_updated = "user_updated", "Changed a user"
    user_disabled = "user_disabled", "Disabled a user"
    guide_uploaded = "guide_uploaded", "Uploaded the guide"
    guide_version_chosen = "guide_version_chosen", "Chose the guide version"
    specialist_created = "specialist_created", "Added a specialist"
    specialist_updated = "specialist_updated", "Changed a specialist"
    referral_sent = "referral_sent", "Sent a referral"
    referral_updated = "referral_updated", "Updated a referral"
    referrals_viewed = "referrals_viewed", "Viewed the referrals list"
    call_claimed = "call_claimed", "Took the next call"
    call_logged = "call_logged", "Logged a call"
    report_exported = "report_exported", "Exported a report"
    contacts_exported = "contacts_exported", "Exported contacts"
    chat_viewed = "chat_viewed", "Viewed a chat"
    chat_accepted = "chat_accepted", "Accepted a chat"
    chat_replied = "chat_replied", "Replied in a chat"
    chat_closed = "chat_closed", "Closed a chat"
    privacy_exported = "privacy_exported", "Exported a person's data"
    contact_erased = "contact_erased", "Erased a person"
    chat_transferred = "chat_transferred", "Transferred a chat"
    canned_reply_created = "canned_reply_created", "Added a canned chat reply"
    canned_reply_updated = "canned_reply_updated", "Changed a canned chat reply"


class Skill(LabeledEnum):
    va_benefits = "va_benefits", "VA benefits"
    spanish = "spanish", "Spanish"
    peritoneal = "peritoneal", "Peritoneal mesothelioma"
    pleural = "pleural", "Pleural mesothelioma"
    financial = "financial", "Financial assistance"
    legal_referral = "legal_referral", "Legal referral"


class SpecialistKind(LabeledEnum):
    doctor = "doctor", "Doctor"
    centre = "centre", "Cancer centre"


class Specialty(LabeledEnum):
    pleural_surgery = "pleural_surgery", "Pleural surgery"
    peritoneal_surgery = "peritoneal_surgery", "Peritoneal surgery"
    thoracic_oncology = "thoracic_oncology", "Thoracic oncology"
    medical_oncology = "medical_oncology", "Medical oncology"


class ReferralKind(LabeledEnum):
    specialist = "specialist", "Specialist"
    va_claims_handoff = "va_claims_handoff", "VA claims hand-off"


class ReferralStatus(LabeledEnum):
    sent = "sent", "Sent"
    appointment_scheduled = "appointment_scheduled", "Appointment scheduled"
    seen = "seen", "Seen"
    declined = "declined", "Declined"


class ChatStatus(LabeledEnum):
    waiting = "waiting", "Waiting"
    active = "active", "With an advocate"
    closed = "closed", "Closed"
    missed = "missed", "Missed"


class ChatSender(LabeledEnum):
    visitor = "visitor", "Visitor"
    advocate = "advocate", "Advocate"
    system = "system", "System"
    # "Transferred from A to B" (user_id: B); the visitor reads "You are now chatting with B".
    transfer = "transfer", "Transfer"


class ChatOutcome(LabeledEnum):
    """How a chat ended, as the advocate who closed it saw it."""

    helped = "helped", "Helped"
    callback_arranged = "callback_arranged", "Callback arranged"
    guide_requested = "guide_requested", "Guide requested"
    visitor_left = "visitor_left", "Visitor left"
    not_relevant = "not_relevant", "Not relevant"
