"""Back, edit, send: the same rendered form sent again with other answers is a correction."""

import sqlalchemy as sa

from crm.extensions import db
from crm.models import CallTask, Contact, OutboxMessage, Submission, TimelineEvent
from crm.models.enums import CallTaskStatus, OutboxKind, OutboxStatus, TimelineKind
from crm.services import delivery
from tests.forms import CALLBACK, GUIDE, thank_you_says


def submissions() -> list[Submission]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Submission).order_by(Submission.id)))


def test_a_corrected_resubmit_of_the_same_page_is_stored_as_a_correction(forms, app_ctx):
    page = forms.open("/callback")
    forms.submit("/callback", CALLBACK, page=page)

    response = forms.submit("/callback", {**CALLBACK, "best_time": "evening"}, page=page)

    assert response.status_code == 303
    original, correction = submissions()
    assert correction.corrects_submission_id == original.id
    assert correction.contact_id == original.contact_id
    assert (original.fields["best_time"], correction.fields["best_time"]) == (
        "afternoon",
        "evening",
    )
    tasks = db.session.execute(
        sa.select(CallTask.submission_id, CallTask.status).order_by(CallTask.id)
    ).all()
    assert tasks == [
        (original.id, CallTaskStatus.cancelled),
        (correction.id, CallTaskStatus.open),
    ]
    kinds = db.session.scalars(sa.select(TimelineEvent.kind).order_by(TimelineEvent.id)).all()
    assert TimelineKind.corrected in kinds


def test_the_correction_sent_twice_is_still_one_correction(forms, app_ctx):
    page = forms.open("/callback")
    forms.submit("/callback", CALLBACK, page=page)
    corrected = {**CALLBACK, "message": "It is my mother, not my father."}

    first = forms.submit("/callback", corrected, page=page)
    second = forms.submit("/callback", corrected, page=page)

    assert thank_you_says(first.location) == thank_you_says(second.location)
    assert len(submissions()) == 2


def test_an_identical_resubmit_is_a_replay_not_a_correction(forms, app_ctx):
    page = forms.open("/guide")
    forms.submit("/guide", GUIDE, page=page)
    forms.submit("/guide", GUIDE, page=page)

    (only,) = submissions()
    assert only.corrects_submission_id is None


def test_a_corrected_email_address_gets_the_emails_and_the_typo_gets_no_more(
    forms, app_ctx, smtp_sink
):
    page = forms.open("/guide")
    forms.submit("/guide", {**GUIDE, "email": "maria.lopez@exmaple.com"}, page=page)
    typo_guide = db.session.scalar(
        sa.select(OutboxMessage).where(OutboxMessage.kind == OutboxKind.guide_email)
    )
    assert delivery.deliver_outbox_message(typo_guide.id) == "sent"

    forms.submit("/guide", GUIDE, page=page)

    original, correction = submissions()
    rows = db.session.execute(
        sa.select(OutboxMessage.submission_id, OutboxMessage.kind, OutboxMessage.status).order_by(
            OutboxMessage.id
        )
    ).all()
    still_to_go = {(r.submission_id, r.kind) for r in rows if r.status == OutboxStatus.pending}
    assert still_to_go == {
        (correction.id, OutboxKind.guide_email),
        (correction.id, OutboxKind.guide_check_in),
        (correction.id, OutboxKind.specialist_offer),
    }
    cancelled = {r.kind for r in rows if r.status == OutboxStatus.cancelled}
    assert cancelled == {OutboxKind.guide_check_in, OutboxKind.specialist_offer}
    assert correction.corrects_submission_id == original.id
    assert correction.fields["email"] == "maria.lopez@example.com"
    # Same phone, same name: the same contact, whose email a public submit never rewrites.
    (contact,) = db.session.scalars(sa.select(Contact))
    assert correction.contact_id == contact.id
