"""What a submit sets in motion: its emails, its callback and its printed guide, on every path."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from crm.extensions import db
from crm.models import CallTask, Contact, GuideFulfilment, OutboxMessage, Submission, TimelineEvent
from crm.models.enums import (
    BestTime,
    CallTaskStatus,
    ConsentChannel,
    FormKind,
    FulfilmentStatus,
    OutboxKind,
    TimelineKind,
)
from crm.services import capture, delivery
from crm.services.leads import LeadInput, RequestMeta
from tests.forms import CALLBACK, GUIDE, SPECIALIST

CHICAGO = ZoneInfo("America/Chicago")
MAILING_ADDRESS = {
    "address_line1": "1 Main St",
    "city": "Boston",
    "address_state": "MA",
    "address_zip": "02110",
}


def planned(contact_id: int | None = None) -> list[tuple[OutboxKind, timedelta]]:
    """Each planned email and how long after the submit it is due."""
    query = (
        sa.select(OutboxMessage.kind, OutboxMessage.due_at, Submission.created_at)
        .join(Submission, Submission.id == OutboxMessage.submission_id)
        .order_by(OutboxMessage.due_at, OutboxMessage.id)
    )
    if contact_id is not None:
        query = query.where(OutboxMessage.contact_id == contact_id)
    return [(kind, due - created) for kind, due, created in db.session.execute(query)]


def timeline(kind: TimelineKind) -> list[TimelineEvent]:
    return list(
        db.session.scalars(
            sa.select(TimelineEvent).where(TimelineEvent.kind == kind).order_by(TimelineEvent.id)
        )
    )


def days(*offsets: int) -> list[timedelta]:
    return [timedelta(days=n) for n in offsets]


def test_guide_with_email_consent_plans_the_guide_a_check_in_and_a_specialist_offer(forms, app_ctx):
    forms.submit("/guide", GUIDE)

    assert planned() == list(
        zip(
            [OutboxKind.guide_email, OutboxKind.guide_check_in, OutboxKind.specialist_offer],
            days(0, 2, 7),
            strict=True,
        )
    )
    queued = timeline(TimelineKind.email_queued)
    rows = db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.due_at)).all()
    assert [event.outbox_id for event in queued] == [row.id for row in rows]
    assert [event.detail["due_at"] for event in queued] == [row.due_at.isoformat() for row in rows]


def test_guide_without_email_consent_gets_only_the_guide_itself(forms, app_ctx):
    forms.submit("/guide", {**GUIDE, "consent_email": None})

    assert planned() == [(OutboxKind.guide_email, timedelta(0))]
    assert len(timeline(TimelineKind.email_queued)) == 1


def test_specialist_match_plans_only_its_confirmation(forms, app_ctx):
    forms.submit("/specialist-match", SPECIALIST)

    assert planned() == [(OutboxKind.specialist_confirmation, timedelta(0))]


def test_callback_with_an_email_is_confirmed_even_without_email_consent(forms, app_ctx):
    forms.submit("/callback", {**CALLBACK, "email": "james@example.org"})

    assert planned() == [(OutboxKind.callback_confirmation, timedelta(0))]


def test_callback_without_an_email_plans_no_email(forms, app_ctx):
    forms.submit("/callback", CALLBACK)

    assert planned() == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CallTask)) == 1


def test_callback_request_becomes_a_call_task_on_the_contacts_timeline(forms, app_ctx):
    forms.submit("/callback", CALLBACK)  # afternoon, ZIP 60601: Chicago

    task = db.session.scalar(sa.select(CallTask))
    submission = db.session.scalar(sa.select(Submission))
    assert (task.contact_id, task.submission_id) == (submission.contact_id, submission.id)
    assert (task.best_time, task.status, task.attempts) == (
        BestTime.afternoon,
        CallTaskStatus.open,
        0,
    )
    local_due = task.due_at.astimezone(CHICAGO)
    if task.due_at == submission.created_at:
        assert 12 <= local_due.hour < 17  # asked during the afternoon: due at once
    else:
        assert local_due.time() == time(12) and task.due_at > submission.created_at
        assert task.due_at - submission.created_at < timedelta(days=1)
    (event,) = timeline(TimelineKind.callback_due)
    assert event.contact_id == task.contact_id
    assert event.detail == {"call_task_id": task.id, "due_at": task.due_at.isoformat()}


def chicago(*fields: int) -> datetime:
    return datetime(2026, 3, 10, *fields, tzinfo=CHICAGO).astimezone(UTC)


def chicago_tomorrow(*fields: int) -> datetime:
    return chicago(*fields) + timedelta(days=1)


@pytest.mark.parametrize(
    ("best_time", "asked_at", "due_at"),
    [
        pytest.param("asap", chicago(11, 0), chicago(11, 0), id="asap-in-the-day"),
        pytest.param("asap", chicago(3, 0), chicago(8, 0), id="asap-small-hours"),
        pytest.param("asap", chicago(21, 30), chicago_tomorrow(8, 0), id="asap-late"),
        pytest.param("morning", chicago(6, 0), chicago(8, 0), id="morning-early"),
        pytest.param("morning", chicago(12, 0), chicago_tomorrow(8, 0), id="morning-missed"),
        pytest.param("afternoon", chicago(9, 30), chicago(12, 0), id="afternoon-later"),
        pytest.param("afternoon", chicago(13, 10), chicago(13, 10), id="afternoon-now"),
        pytest.param("evening", chicago(10, 0), chicago(17, 0), id="evening-later"),
        pytest.param("evening", chicago(22, 0), chicago_tomorrow(17, 0), id="evening-missed"),
        pytest.param(None, chicago(22, 0), chicago_tomorrow(8, 0), id="no-answer-is-asap"),
    ],
)
def test_callback_is_due_at_the_asked_time_in_the_contacts_zone(
    app_ctx, best_time, asked_at, due_at
):
    lead = LeadInput(
        form=FormKind.callback,
        first_name="James",
        last_name="O'Brien",
        email=None,
        phone_e164="+13125550187",
        time_zone="America/Chicago",
        consents={ConsentChannel.calls_texts: True},
        details={"best_time": best_time},
    )
    capture.submit_lead(lead, RequestMeta(None, None, None), None, received_at=asked_at)

    task = db.session.scalar(sa.select(CallTask))
    assert task.due_at == due_at
    assert 8 <= task.due_at.astimezone(CHICAGO).hour < 21  # never outside calling hours


def test_printed_guide_request_goes_to_the_print_queue_and_the_email_says_so(
    forms, app_ctx, smtp_sink
):
    forms.submit("/guide", {**GUIDE, "printed_guide": "y", **MAILING_ADDRESS})

    fulfilment = db.session.scalar(sa.select(GuideFulfilment))
    contact = db.session.scalar(sa.select(Contact))
    assert (fulfilment.contact_id, fulfilment.status) == (contact.id, FulfilmentStatus.to_print)
    assert fulfilment.mailing_address["city"] == "Boston"
    (event,) = timeline(TimelineKind.guide_to_print)
    assert event.detail == {"fulfilment_id": fulfilment.id}
    guide_email = db.session.scalar(
        sa.select(OutboxMessage).where(OutboxMessage.kind == OutboxKind.guide_email)
    )
    assert delivery.deliver_outbox_message(guide_email.id, guide_email.due_at) == "sent"
    (message,) = smtp_sink.received()
    assert "mail a printed copy" in message.get_body(preferencelist=("plain",)).get_content()


def test_a_guide_without_a_printed_copy_makes_no_print_job(forms, app_ctx):
    forms.submit("/guide", GUIDE)

    assert db.session.scalar(sa.select(GuideFulfilment)) is None
    assert timeline(TimelineKind.guide_to_print) == []


def as_api_body(answers: dict) -> dict:
    """The same answers as the marketing site's JavaScript sends them."""
    return {name: True if value == "y" else value for name, value in answers.items()}


def plan_of(contact_id: int) -> dict:
    """Everything a submit set in motion for one contact, in terms a path cannot change."""
    task = db.session.scalar(sa.select(CallTask).where(CallTask.contact_id == contact_id))
    submission = db.session.scalar(sa.select(Submission).where(Submission.contact_id == contact_id))
    fulfilment = db.session.scalar(
        sa.select(GuideFulfilment).where(GuideFulfilment.contact_id == contact_id)
    )
    events = db.session.scalars(
        sa.select(TimelineEvent.kind).where(TimelineEvent.contact_id == contact_id)
    )
    return {
        "emails": planned(contact_id),
        "call": task and (task.best_time, task.due_at - submission.created_at < timedelta(1)),
        "print": fulfilment and fulfilment.mailing_address,
        "timeline": sorted(events),
    }


@pytest.mark.parametrize(
    ("url", "slug", "answers", "other_identity"),
    [
        (
            "/guide",
            "guide",
            {**GUIDE, "printed_guide": "y", **MAILING_ADDRESS},
            {"email": "rosa@example.com", "phone": "(617) 555-0199"},
        ),
        (
            "/callback",
            "callback",
            {**CALLBACK, "email": "james@example.org"},
            {"email": "jim@example.org", "phone": "312-555-0142"},
        ),
        (
            "/specialist-match",
            "specialist-match",
            SPECIALIST,
            {"email": "an@example.org"},
        ),
    ],
)
def test_the_api_and_the_form_set_the_same_followups_in_motion(
    forms, api_client, app_ctx, url, slug, answers, other_identity
):
    assert forms.submit(url, answers).status_code == 303
    response = api_client.post(
        f"/api/v1/submissions/{slug}", json=as_api_body({**answers, **other_identity})
    )
    assert response.status_code == 201

    by_form, by_api = db.session.scalars(sa.select(Contact.id).order_by(Contact.id)).all()
    form_plan = plan_of(by_form)
    assert form_plan["emails"] != []
    assert plan_of(by_api) == form_plan
