"""Everything the contact page shows, read in a fixed number of queries, each one bounded.

A contact with a thousand emails or notes must open as fast as a new lead: the lists are
capped (newest first, with a flag that older rows exist) and every look-up is one IN query
for the whole page, never one per row. The page is the contact and the records merged into
it: their rows stay where they were written (append-only), so every list reads
contact_id IN (survivor, merged...).
"""

from dataclasses import dataclass, field

import sqlalchemy as sa

from crm.extensions import db
from crm.models import (
    CallTask,
    ConsentRecord,
    Contact,
    GuideFulfilment,
    Note,
    OutboxMessage,
    StageChange,
    Submission,
    User,
)
from crm.models.attribution import ATTRIBUTION_FIELDS
from crm.models.enums import CallTaskStatus, ConsentChannel, TimelineKind
from crm.services import (
    chat,
    contact_answers,
    contact_timeline,
    events,
    stages,
    suppressions,
    users,
)

TIMELINE_LIMIT = 200
SUBMISSION_LIMIT = 50
CONSENT_LIMIT = 100
OPEN_CALL_LIMIT = 20
FULFILMENT_LIMIT = 20
DUPLICATE_LIMIT = 10


@dataclass
class SubmissionView:
    submission: Submission
    answers: list[tuple[str, str]]
    attribution: list[tuple[str, str]]


@dataclass
class ConsentView:
    channel: ConsentChannel
    # Newest first; the first is what holds now.
    records: list[ConsentRecord]
    recorded_by: dict[int, str] = field(default_factory=dict)

    @property
    def current(self) -> ConsentRecord | None:
        return self.records[0] if self.records else None


@dataclass
class ContactPage:
    contact: Contact
    merged: list[Contact]
    submitter: str
    submissions: list[SubmissionView]
    more_submissions: bool
    consents: list[ConsentView]
    timeline: list[contact_timeline.TimelineEntry]
    older_events: bool
    open_calls: list[CallTask]
    fulfilments: list[GuideFulfilment]
    duplicates: list[Contact]
    assigned_to: User | None
    email_suppressed: str | None
    allowed_moves: tuple
    assignable: list[User]
    first_touch: list[tuple[str, str]]


def load(contact: Contact, *, with_assignable: bool) -> ContactPage:
    """Read the whole page for a contact that was not merged away."""
    merged, duplicates = _related(contact)
    ids = [contact.id, *(m.id for m in merged)]
    submissions = _newest(
        sa.select(Submission).where(Submission.contact_id.in_(ids)), Submission, SUBMISSION_LIMIT
    )
    consents = _newest(
        sa.select(ConsentRecord).where(ConsentRecord.contact_id.in_(ids)),
        ConsentRecord,
        CONSENT_LIMIT,
        order=(ConsentRecord.recorded_at.desc(), ConsentRecord.id.desc()),
    )[0]
    raw_events = events.for_contacts(ids, limit=TIMELINE_LIMIT + 1)
    older_events = len(raw_events) > TIMELINE_LIMIT
    raw_events = raw_events[:TIMELINE_LIMIT]
    lookups = _lookups(raw_events, contact, consents)
    timeline = [contact_timeline.describe(event, contact.id, lookups) for event in raw_events]
    return ContactPage(
        contact=contact,
        merged=merged,
        submitter=contact_answers.SUBMITTER.get(contact.relationship_to_patient, "Not said"),
        submissions=[_submission_view(s) for s in submissions[0]],
        more_submissions=submissions[1],
        consents=_consent_views(consents, lookups.users),
        timeline=timeline,
        older_events=older_events,
        open_calls=list(
            db.session.scalars(
                sa.select(CallTask)
                .where(CallTask.contact_id.in_(ids), CallTask.status == CallTaskStatus.open)
                .order_by(CallTask.due_at)
                .limit(OPEN_CALL_LIMIT)
            )
        ),
        fulfilments=list(
            db.session.scalars(
                sa.select(GuideFulfilment)
                .where(GuideFulfilment.contact_id.in_(ids))
                .order_by(GuideFulfilment.id.desc())
                .limit(FULFILMENT_LIMIT)
            )
        ),
        duplicates=duplicates,
        assigned_to=lookups.users.get(contact.assigned_user_id),
        email_suppressed=_suppressed(contact.email),
        allowed_moves=stages.allowed_moves(contact.stage),
        assignable=users.advocates() if with_assignable else [],
        first_touch=_attribution(contact),
    )


def _suppressed(email: str | None) -> str | None:
    reason = suppressions.suppression_reason(email)
    return contact_answers.SUPPRESSED.get(reason, reason) if reason else None


def _newest(query, model, limit: int, order=None) -> tuple[list, bool]:
    order = order or (model.created_at.desc(), model.id.desc())
    rows = list(db.session.scalars(query.order_by(*order).limit(limit + 1)))
    return rows[:limit], len(rows) > limit


def _lookups(raw_events, contact: Contact, consents) -> contact_timeline.Lookups:
    """Notes, stage changes, emails and staff the events name: one query each."""
    note_ids, change_ids, outbox_ids, chat_ids = set(), set(), set(), set()
    for event in raw_events:
        detail = event.detail or {}
        if event.kind == TimelineKind.chat_closed and detail.get("chat_id"):
            chat_ids.add(detail["chat_id"])
        if detail.get("note_id"):
            note_ids.add(detail["note_id"])
        if detail.get("stage_change_id"):
            change_ids.add(detail["stage_change_id"])
        if event.outbox_id:
            outbox_ids.add(event.outbox_id)
    user_ids = contact_timeline.user_ids(raw_events)
    user_ids.update(r.recorded_by_user_id for r in consents if r.recorded_by_user_id)
    if contact.assigned_user_id:
        user_ids.add(contact.assigned_user_id)
    return contact_timeline.Lookups(
        notes=_by_id(Note, note_ids),
        stage_changes=_by_id(StageChange, change_ids),
        emails=_by_id(OutboxMessage, outbox_ids),
        users=_by_id(User, user_ids),
        chat_transcripts=chat.transcripts(chat_ids),
    )


def _by_id(model, ids: set) -> dict:
    if not ids:
        return {}
    return {row.id: row for row in db.session.scalars(sa.select(model).where(model.id.in_(ids)))}


def _submission_view(submission: Submission) -> SubmissionView:
    return SubmissionView(
        submission=submission,
        answers=contact_answers.answers(submission.fields or {}),
        attribution=_attribution(submission),
    )


def _attribution(row) -> list[tuple[str, str]]:
    return [
        (contact_answers.ATTRIBUTION_LABELS[name], getattr(row, name))
        for name in ATTRIBUTION_FIELDS
        if getattr(row, name)
    ]


def _consent_views(records: list[ConsentRecord], staff: dict[int, User]) -> list[ConsentView]:
    views = []
    for channel in ConsentChannel:
        view = ConsentView(channel, [r for r in records if r.channel == channel])
        view.recorded_by = {
            r.id: staff[r.recorded_by_user_id].name
            for r in view.records
            if r.recorded_by_user_id in staff
        }
        views.append(view)
    return views


def _related(contact: Contact) -> tuple[list[Contact], list[Contact]]:
    """In one query: the records merged into this one, and its unresolved possible duplicates
    (linked from either side)."""
    rows = db.session.scalars(
        sa.select(Contact)
        .where(
            sa.or_(
                Contact.merged_into_id == contact.id,
                Contact.possible_duplicate_of_id == contact.id,
                Contact.id == (contact.possible_duplicate_of_id or -1),
            ),
            Contact.id != contact.id,
        )
        .order_by(Contact.id)
    ).all()
    merged = [row for row in rows if row.merged_into_id == contact.id]
    duplicates = [row for row in rows if row.merged_into_id is None][:DUPLICATE_LIMIT]
    return merged, duplicates
