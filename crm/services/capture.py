"""The submit path: one transaction writes a lead and everything that must follow from it.

Unlike staff services (which flush and leave the commit to the request, crm/views/staff.py),
capture commits itself: the visitor's "thank you" must mean the lead is durable, and the
retry on a unique-key race needs the transaction in its own hands. A caller that needs more
in the same request (spam release, the demo seed) writes it after, in a transaction of its own.
"""

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from crm.extensions import db
from crm.models import Submission, SuspectedSpam, utcnow
from crm.models.enums import FormKind, TimelineKind
from crm.services import capture_rows as rows
from crm.services import events, followups, identity, lead_round_robin
from crm.services.actors import SYSTEM, VISITOR
from crm.services.leads import LeadInput, RequestMeta
from crm.services.ops import counters

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
            result = _submit_once(lead, meta, key, now, corrects, digest)
            counters.SUBMISSIONS.labels(lead.form.value).inc()
            return result
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
    digest: str,
) -> CaptureResult:
    # Core statements built once (crm/services/capture_rows.py) on the session's connection:
    # the same transaction, without the ORM's objects and flushes on the hottest write.
    connection = db.session.connection()
    found, other_match = identity.match_contact(lead)
    if other_match is not None and found is not None:
        # Linked already (by an earlier submit): no second link, no second pair of events.
        other_match = None if found.possible_duplicate_of_id == other_match.id else other_match
    duplicate_of = other_match.id if other_match is not None else None
    # No look-up of the idempotency key first: a repeat loses on its unique index at the
    # submission's INSERT, and submit_lead answers it with the stored submission.
    if found is None:
        contact = connection.execute(
            rows.NEW_CONTACT, rows.new_contact(lead, duplicate_of, now)
        ).one()
    else:
        contact = connection.execute(
            rows.RETURNING_CONTACT, rows.returning_contact(found.id, lead, duplicate_of, now)
        ).one()
    is_new = found is None
    where, fields = rows.seen(meta), lead.stored_fields()
    submission_id, public_id = connection.execute(
        rows.NEW_SUBMISSION,
        {
            **rows.attribution(lead),
            **where,
            "form": lead.form,
            "contact_id": contact.id,
            "idempotency_key": idempotency_key,
            "content_digest": digest,
            "corrects_submission_id": corrects,
            "is_reengagement": not is_new,
            "fields": fields,
            "created_at": now,
        },
    ).one()
    ids = {"contact_id": contact.id, "submission_id": submission_id}
    if lead.consents:
        connection.execute(rows.CONSENTS, rows.consents(lead, where, ids, now))
    if corrects is not None:
        followups.cancel_superseded(corrects, now)
    submission = followups.PlannedSubmission(submission_id, lead.form, fields)
    timeline = _timeline(lead, ids, is_new, corrects, other_match, now)
    if is_new:
        # Late in the transaction: on PostgreSQL the turn's lock is held until the commit.
        assigned = lead_round_robin.assign_new_lead(contact.id, submission_id, now)
        timeline += [assigned] if assigned is not None else []
    followups.plan_followups(submission, contact, lead.consents, now, events=timeline)
    db.session.commit()
    # Ids only: names, phones and diagnoses never reach the logs.
    log.info(
        "stored submission %s (%s) for contact %s, new=%s",
        submission_id,
        lead.form.value,
        contact.id,
        is_new,
    )
    return CaptureResult(public_id, contact.id, is_new, replayed=False)


def _timeline(lead, ids: dict, is_new: bool, corrects, other_match, now) -> list[dict]:
    """The submit's own events: created, re-engaged or corrected, and a possible duplicate."""
    detail = {"form": lead.form.value}
    if corrects is not None:
        detail["corrects_submission_id"] = corrects
    kind = TimelineKind.created if is_new else TimelineKind.reengaged
    if corrects is not None and not is_new:
        kind = TimelineKind.corrected
    contact_id, submission_id = ids["contact_id"], ids["submission_id"]
    timeline = [
        events.row(contact_id, kind, VISITOR, submission_id=submission_id, detail=detail, at=now)
    ]
    if other_match is not None:
        # On both records, so staff see the possible duplicate from either side.
        timeline += [
            events.row(
                this,
                TimelineKind.possible_duplicate,
                SYSTEM,
                submission_id=submission_id,
                detail={"other_contact_id": other},
                at=now,
            )
            for this, other in ((contact_id, other_match.id), (other_match.id, contact_id))
        ]
    return timeline


def _clip_answer(value: Any) -> str | list[str]:
    # Lists stay lists (ticked boxes), so a released submit is rebuilt as it was sent.
    if isinstance(value, list):
        return [str(item)[:500] for item in value[:20]]
    return str(value)[:500]
