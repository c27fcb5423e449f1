"""A contact's timeline in words: each event's kind and ids turned into what staff read.

Events hold ids and codes only (no names, no free text); the words come from the rows they
name, loaded for the whole page at once (contact_page.py), never one query per event.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime

from crm.models import Note, OutboxMessage, StageChange, TimelineEvent, User
from crm.models.enums import (
    ActorKind,
    CallOutcome,
    ChatOutcome,
    CloseOutcome,
    ConsentChannel,
    FormKind,
    OutboxKind,
    ReferralKind,
    ReferralStatus,
    Stage,
    TimelineKind,
)


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: TimelineKind
    title: str
    actor: str
    # Free text someone typed (a note, a stage change's reason): rendered as text, never HTML.
    text: str | None = None
    # An email's delivery state now (the event says what happened then).
    email_state: str | None = None
    # Set when the event belongs to a record merged into this one.
    from_contact_id: int | None = None
    submission_id: int | None = None


@dataclass
class Lookups:
    notes: dict[int, Note]
    stage_changes: dict[int, StageChange]
    emails: dict[int, OutboxMessage]
    users: dict[int, User]
    # Chat transcripts by chat id, as plain text (crm/services/chat/).
    chat_transcripts: dict[int, str] = field(default_factory=dict)


def user_ids(events: list[TimelineEvent]) -> set[int]:
    """Every staff member the events name, as actor or as assignee."""
    ids = {event.actor_user_id for event in events if event.actor_user_id}
    for event in events:
        if event.kind == TimelineKind.assigned:
            ids.update(
                i for i in (event.detail.get("from_user_id"), event.detail.get("to_user_id")) if i
            )
    return ids


def describe(event: TimelineEvent, contact_id: int, lookups: Lookups) -> TimelineEntry:
    """The entry staff read for one event of this contact (or of a record merged into it)."""
    detail = event.detail or {}
    title, text = _title(event.kind, detail, lookups)
    email = lookups.emails.get(event.outbox_id) if event.outbox_id else None
    return TimelineEntry(
        at=event.created_at,
        kind=event.kind,
        title=title,
        actor=_actor(event, lookups.users),
        text=text,
        email_state=email.status.label if email is not None else None,
        from_contact_id=event.contact_id if event.contact_id != contact_id else None,
        submission_id=event.submission_id,
    )


def _actor(event: TimelineEvent, users: dict[int, User]) -> str:
    if event.actor_kind == ActorKind.user:
        user = users.get(event.actor_user_id)
        return user.name if user is not None else "A former staff member"
    return event.actor_kind.label


def _title(kind: TimelineKind, detail: dict, lookups: Lookups) -> tuple[str, str | None]:
    email = _label(OutboxKind, detail.get("email"), "Email")
    form = _label(FormKind, detail.get("form"), "a form")
    if kind == TimelineKind.created:
        return f"New lead: sent the {form} form", None
    if kind == TimelineKind.reengaged:
        return f"Came back: sent the {form} form", None
    if kind == TimelineKind.corrected:
        return f"Corrected their answers on the {form} form", None
    if kind == TimelineKind.possible_duplicate:
        return f"Possible duplicate of contact #{detail.get('other_contact_id')}", None
    if kind in _EMAIL_WORDS:
        return _email_title(kind, email, detail), None
    if kind == TimelineKind.callback_due:
        return f"Callback scheduled ({_when(detail.get('due_at'))})", None
    if kind == TimelineKind.chat_closed:
        chat_id = detail.get("chat_id")
        outcome = _label(ChatOutcome, detail.get("outcome"), "closed")
        return f"Chat #{chat_id} ({outcome})", lookups.chat_transcripts.get(chat_id)
    if kind == TimelineKind.note_added:
        note = lookups.notes.get(detail.get("note_id"))
        return "Note", note.body if note is not None else None
    if kind == TimelineKind.stage_changed:
        return _stage_title(detail, lookups)
    if kind == TimelineKind.assigned:
        return _assigned_title(detail, lookups.users), None
    if kind == TimelineKind.do_not_contact:
        channel = _label(ConsentChannel, detail.get("channel"), "a channel").lower()
        return f"Do not contact by {channel}", None
    if kind == TimelineKind.guide_resent:
        return "Guide email sent again", None
    if kind == TimelineKind.merged:
        if detail.get("merged_contact_id"):
            return f"Contact #{detail['merged_contact_id']} merged into this one", None
        return f"Merged into contact #{detail.get('merged_into_id')}", None
    if kind == TimelineKind.not_duplicate:
        return f"Not the same person as contact #{detail.get('other_contact_id')}", None
    if kind in (TimelineKind.referral_sent, TimelineKind.referral_updated):
        return _referral_title(kind, detail), None
    if kind == TimelineKind.call_logged:
        outcome = _label(CallOutcome, detail.get("outcome"), "logged")
        minutes = (detail.get("duration_seconds") or 0) // 60
        return f"Call: {outcome} ({minutes} min)", None
    return kind.label, None


def _referral_title(kind: TimelineKind, detail: dict) -> str:
    if kind == TimelineKind.referral_updated:
        before = _label(ReferralStatus, detail.get("from"), "?")
        after = _label(ReferralStatus, detail.get("to"), "?")
        return f"Referral #{detail.get('referral_id')}: {before} → {after}"
    if detail.get("kind") == ReferralKind.va_claims_handoff.value:
        return "Handed off to VA claims help"
    count = len(detail.get("specialist_ids") or [])
    return f"Match email with {count} specialist{'s' if count != 1 else ''}; referral sent"


_EMAIL_WORDS = {
    TimelineKind.email_queued: "queued",
    TimelineKind.email_sent: "sent",
    TimelineKind.email_failed: "failed, will retry",
    TimelineKind.email_dead: "gave up",
    TimelineKind.email_cancelled: "not sent",
    TimelineKind.email_bounced: "refused by the recipient's server",
    TimelineKind.email_requeued: "queued again",
}
_REASONS = {
    "corrected": "the answers were corrected",
    "do_not_contact": "do not contact",
    "unsubscribed": "they unsubscribed",
    "bounced": "the address bounced",
    "reached": "an advocate reached them",
    "closed": "the contact is closed",
    "deceased": "deceased",
}


def _email_title(kind: TimelineKind, email: str, detail: dict) -> str:
    title = f"{email} {_EMAIL_WORDS[kind]}"
    if kind == TimelineKind.email_cancelled and detail.get("reason"):
        title += f": {_REASONS.get(detail['reason'], detail['reason'])}"
    failed = (TimelineKind.email_failed, TimelineKind.email_dead, TimelineKind.email_bounced)
    if kind in failed and detail.get("error"):
        title += f" ({detail['error']})"
    return title


def _stage_title(detail: dict, lookups: Lookups) -> tuple[str, str | None]:
    before = _label(Stage, detail.get("from"), "?")
    after = _label(Stage, detail.get("to"), "?")
    title = f"Stage: {before} → {after}"
    if detail.get("outcome"):
        title += f" ({_label(CloseOutcome, detail['outcome'], detail['outcome'])})"
    change = lookups.stage_changes.get(detail.get("stage_change_id"))
    return title, (change.reason or None) if change is not None else None


def _assigned_title(detail: dict, users: dict[int, User]) -> str:
    to = detail.get("to_user_id")
    if to is None:
        return "Unassigned"
    user = users.get(to)
    name = user.name if user is not None else "a former staff member"
    # Capture shares new leads out in turn (crm/services/lead_round_robin.py).
    return f"Assigned to {name} in turn" if detail.get("round_robin") else f"Assigned to {name}"


def _label(enum_cls, value, default: str) -> str:
    member = enum_cls.from_value(value)
    return member.label if member is not None else default


def _when(value: str | None) -> str:
    if not value:
        return "time not known"
    try:
        return datetime.fromisoformat(value).astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    except ValueError:
        return value
