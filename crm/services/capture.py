"""The submit path: one transaction writes a lead and everything that must follow from it."""

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from crm.extensions import db
from crm.models import ConsentRecord, Contact, Submission, SuspectedSpam, TimelineEvent, utcnow
from crm.models.attribution import ATTRIBUTION_FIELDS
from crm.models.enums import Diagnosis, FormKind, TimelineKind
from crm.services import followups, identity
from crm.services.consent import disclosure
from crm.services.leads import LeadInput, RequestMeta

log = logging.getLogger(__name__)

# A concurrent first submit by the same person loses the race on a unique index;
# retrying then finds the contact the other request created. A correction takes one more.
_MAX_ATTEMPTS = 4


@dataclass(frozen=True)
class CaptureResult:
    submission_public_id: str
    contact_id: int
    is_new_contact: bool
    replayed: bool
    # A replayed key whose stored answers differ from these (the API answers 409).
    conflicting: bool = False


def submit_lead(
    lead: LeadInput,
    meta: RequestMeta,
    idempotency_key: str | None,
    received_at: datetime | None = None,
    *,
    corrections: bool = False,
) -> CaptureResult:
    """Store one submit (or find the one this key already stored) and commit.

    With `corrections`, the same key sent again with other answers (the visitor went Back,
    edited and sent the page again) is stored as a correction of the first submission; only
    an identical repeat is a replay. `received_at` is for imports and demo data.
    """
    now, key, corrects = received_at or utcnow(), idempotency_key, None
    digest = lead.content_digest()
    for attempt in range(1, _MAX_ATTEMPTS + 1):
        try:
            return _submit_once(lead, meta, key, now, corrects)
        except IntegrityError:
            db.session.rollback()
            stored = _stored_submission(key)
            if stored is not None and (stored.content_digest == digest or not corrections):
                return CaptureResult(
                    stored.public_id,
                    stored.contact_id,
                    False,
                    replayed=True,
                    conflicting=stored.content_digest != digest,
                )
            if stored is not None:
                # Keyed by the answers too, so a double click on the correction is a replay.
                corrects = corrects or stored.id
                key = f"{idempotency_key}:{digest[:24]}"
            elif attempt == _MAX_ATTEMPTS:
                raise
    raise RuntimeError("no attempt stored the submission")


def record_suspected_spam(
    form: FormKind, reason: str, fields: dict[str, Any], meta: RequestMeta
) -> None:
    """Keep a submit that looks automated, apart from the leads, and commit."""
    db.session.add(
        SuspectedSpam(
            form=form,
            reason=reason,
            fields={key: _clip_answer(value) for key, value in list(fields.items())[:60]},
            ip_address=meta.ip_address,
            user_agent=(meta.user_agent or "")[:500] or None,
        )
    )
    db.session.commit()
    log.info("kept a %s submit apart as suspected spam (%s)", form.value, reason)


def _stored_submission(idempotency_key: str | None):
    if not idempotency_key:
        return None
    return db.session.execute(
        sa.select(
            Submission.id, Submission.public_id, Submission.contact_id, Submission.content_digest
        ).where(Submission.idempotency_key == idempotency_key)
    ).first()


def _submit_once(
    lead: LeadInput,
    meta: RequestMeta,
    idempotency_key: str | None,
    now: datetime,
    corrects: int | None,
) -> CaptureResult:
    # No look-up of the idempotency key first: a repeat loses on its unique index at the
    # first flush, and submit_lead answers it with the stored submission.
    contact, other_match = identity.match_contact(lead)
    is_new = contact is None
    if contact is None:
        contact = _new_contact(lead, now)
        db.session.add(contact)
    else:
        _fill_blanks(contact, lead)
    if other_match is not None and contact.possible_duplicate_of_id == other_match.id:
        other_match = None  # linked already, by an earlier submit
    elif other_match is not None and contact.possible_duplicate_of_id is None:
        contact.possible_duplicate_of_id = other_match.id
    if is_new:
        contact.submission_count = 1
    else:
        # Incremented in SQL: concurrent submits by one person must not overwrite each other.
        contact.submission_count = Contact.submission_count + 1
    contact.last_submitted_at = now
    db.session.flush()

    submission = Submission(
        form=lead.form,
        contact_id=contact.id,
        idempotency_key=idempotency_key,
        content_digest=lead.content_digest(),
        corrects_submission_id=corrects,
        is_reengagement=not is_new,
        fields=lead.stored_fields(),
        ip_address=meta.ip_address,
        user_agent=_clip(meta.user_agent, 500),
        page_url=_clip(meta.page_url, 1000),
        created_at=now,
        **_attribution(lead),
    )
    db.session.add(submission)
    db.session.flush()
    _add_consents(lead, meta, contact, submission, now)
    if corrects is not None:
        followups.cancel_superseded(corrects, now)
    followups.plan_followups(submission, contact, lead.consents, now)
    _add_timeline(contact, submission, is_new, other_match, now)
    # Read before the commit: afterwards every attribute would be reloaded from the database.
    result = CaptureResult(submission.public_id, contact.id, is_new, replayed=False)
    submission_id, form = submission.id, submission.form.value
    db.session.commit()
    # Ids only: names, phones and diagnoses never reach the logs.
    log.info(
        "stored submission %s (%s) for contact %s, new=%s",
        submission_id,
        form,
        result.contact_id,
        is_new,
    )
    return result


def _new_contact(lead: LeadInput, now) -> Contact:
    return Contact(
        first_name=lead.first_name,
        last_name=lead.last_name,
        email=lead.email,
        phone_e164=lead.phone_e164,
        zip_code=lead.zip_code,
        state=lead.state,
        time_zone=lead.time_zone,
        relationship_to_patient=lead.relationship,
        diagnosis=lead.diagnosis,
        is_veteran=lead.is_veteran,
        veteran_branch=lead.veteran_branch,
        created_at=now,
        **_attribution(lead),
    )


def _fill_blanks(contact: Contact, lead: LeadInput) -> None:
    """Complete what we knew of a returning contact without overwriting it.

    Email and phone are never changed by a submit: an address or number typed on a public
    form proves nothing about who owns it. The submission keeps everything that was sent.
    """
    if lead.zip_code and not contact.zip_code:
        contact.zip_code, contact.state = lead.zip_code, lead.state
    # A ZIP-derived zone for the contact's own ZIP beats whatever we guessed before.
    same_zip = lead.zip_code is not None and lead.zip_code == contact.zip_code
    if lead.time_zone and (not contact.time_zone or same_zip):
        contact.time_zone = lead.time_zone
    if lead.relationship and not contact.relationship_to_patient:
        contact.relationship_to_patient = lead.relationship
    if lead.diagnosis and contact.diagnosis in (None, Diagnosis.not_sure):
        contact.diagnosis = lead.diagnosis
    if lead.is_veteran:
        contact.is_veteran = True
        contact.veteran_branch = contact.veteran_branch or lead.veteran_branch


def _add_consents(lead, meta: RequestMeta, contact, submission, now) -> None:
    for channel, granted in lead.consents.items():
        text = disclosure(channel)
        db.session.add(
            ConsentRecord(
                contact_id=contact.id,
                submission_id=submission.id,
                channel=channel,
                granted=granted,
                text=text.text,
                text_version=text.version,
                recorded_at=now,
                ip_address=meta.ip_address,
                user_agent=_clip(meta.user_agent, 500),
                page_url=_clip(meta.page_url, 1000),
                form=lead.form,
            )
        )


def _add_timeline(contact, submission, is_new: bool, other_match, now) -> None:
    detail = {"form": submission.form.value}
    if submission.corrects_submission_id is not None:
        detail["corrects_submission_id"] = submission.corrects_submission_id
    kind = TimelineKind.created if is_new else TimelineKind.reengaged
    if submission.corrects_submission_id is not None and not is_new:
        kind = TimelineKind.corrected
    events = [TimelineEvent(contact_id=contact.id, kind=kind, detail=detail)]
    if other_match is not None:
        # On both records, so staff see the possible duplicate from either side.
        events += [
            TimelineEvent(
                contact_id=this.id,
                kind=TimelineKind.possible_duplicate,
                detail={"other_contact_id": other.id},
            )
            for this, other in ((contact, other_match), (other_match, contact))
        ]
    for event in events:
        event.submission_id = submission.id
        event.created_at = now
        db.session.add(event)


def _attribution(lead: LeadInput) -> dict[str, str | None]:
    return {name: lead.attribution.get(name) for name in ATTRIBUTION_FIELDS}


def _clip_answer(value: Any) -> str | list[str]:
    # Lists stay lists (ticked boxes), so a released submit is rebuilt as it was sent.
    if isinstance(value, list):
        return [str(item)[:500] for item in value[:20]]
    return str(value)[:500]


def _clip(value: str | None, length: int) -> str | None:
    return value[:length] if value else None
