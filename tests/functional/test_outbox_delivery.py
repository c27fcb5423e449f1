"""The outbox from relay to inbox: claimed once, sent once, retried, buried, stopped, on time."""

import re
import threading
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from kombu.exceptions import OperationalError as BrokerError

from crm.extensions import db
from crm.models import Contact, OutboxMessage, Submission, TimelineEvent, utcnow
from crm.models.enums import (
    CloseOutcome,
    ConsentChannel,
    FormKind,
    OutboxKind,
    OutboxStatus,
    Stage,
    TimelineKind,
)
from crm.services import capture, delivery, outbox, suppressions
from crm.services.leads import LeadInput, RequestMeta
from crm.tasks import outbox as outbox_tasks
from tests.forms import CALLBACK, GUIDE, SPECIALIST
from tests.smtp_sink import SmtpSink, free_port

NEW_YORK = ZoneInfo("America/New_York")
COMMERCIAL = (OutboxKind.guide_check_in, OutboxKind.specialist_offer)


def row(kind: OutboxKind) -> OutboxMessage:
    db.session.expire_all()
    return db.session.scalar(sa.select(OutboxMessage).where(OutboxMessage.kind == kind))


def events(kind: TimelineKind) -> list[TimelineEvent]:
    return list(
        db.session.scalars(
            sa.select(TimelineEvent).where(TimelineEvent.kind == kind).order_by(TimelineEvent.id)
        )
    )


def submitted_at() -> datetime:
    return db.session.scalar(sa.select(Submission.created_at).order_by(Submission.id.desc()))


def next_local(after: datetime, hour: int, minute: int = 0, zone=NEW_YORK) -> datetime:
    """The first instant at or after `after` whose wall-clock time in `zone` is hour:minute."""
    local = after.astimezone(zone)
    candidate = datetime.combine(local.date(), time(hour, minute), tzinfo=zone)
    if candidate < local:
        candidate = datetime.combine(local.date() + timedelta(days=1), time(hour, minute), zone)
    return candidate.astimezone(UTC)


def submit_guide(forms, **answers) -> datetime:
    assert forms.submit("/guide", {**GUIDE, **answers}).status_code == 303
    return submitted_at()


def deliver(kind: OutboxKind, now: datetime) -> str:
    return delivery.deliver_outbox_message(row(kind).id, now)


def deliver_in_window(kind: OutboxKind) -> str:
    """Send a row at noon New York time on or after its due time."""
    return deliver(kind, next_local(row(kind).due_at, 12))


# --- the relay's claims ---------------------------------------------------------------


def test_relay_claims_each_due_row_once_and_leaves_future_rows(forms, app_ctx):
    now = submit_guide(forms)

    first = outbox.claim_due(now + timedelta(minutes=1), 500)
    again = outbox.claim_due(now + timedelta(minutes=2), 500)

    assert first == [row(OutboxKind.guide_email).id]
    assert again == []
    assert row(OutboxKind.guide_email).status == OutboxStatus.dispatched
    assert row(OutboxKind.guide_check_in).status == OutboxStatus.pending
    assert outbox.claim_due(now + timedelta(days=2, minutes=1), 500) == [
        row(OutboxKind.guide_check_in).id
    ]


def test_a_relay_batch_takes_the_longest_waiting_rows_first(forms, app_ctx):
    now = submit_guide(forms)

    batch = outbox.claim_due(now + timedelta(days=8), 2)

    assert batch == sorted([row(OutboxKind.guide_email).id, row(OutboxKind.guide_check_in).id])
    assert row(OutboxKind.specialist_offer).status == OutboxStatus.pending


def test_relays_running_at_once_never_hand_out_a_row_twice(app, app_ctx):
    contact = Contact(first_name="Ann", last_name="Lee", email="ann@example.com", stage=Stage.new)
    db.session.add(contact)
    db.session.flush()
    now = utcnow()
    db.session.add_all(
        OutboxMessage(
            kind=OutboxKind.guide_email,
            contact_id=contact.id,
            dedupe_key=f"load:{n}",
            due_at=now - timedelta(seconds=n),
        )
        for n in range(60)
    )
    db.session.commit()
    claimed: list[list[int]] = []
    errors: list[BaseException] = []

    def relay():
        try:
            with app.app_context():
                while batch := outbox.claim_due(now, 5):
                    claimed.append(batch)
                db.session.remove()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=relay) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    handed_out = [message_id for batch in claimed for message_id in batch]
    assert errors == []
    assert len(handed_out) == 60
    assert len(set(handed_out)) == 60


def test_rows_the_broker_refused_go_back_for_the_next_relay(forms, app_ctx):
    now = submit_guide(forms)
    ids = outbox.claim_due(now + timedelta(days=8), 500)

    outbox.release_undispatched(ids)

    assert {row(kind).status for kind in OutboxKind if row(kind)} == {OutboxStatus.pending}
    assert outbox.claim_due(now + timedelta(days=8), 500) == ids


def test_relay_task_gives_back_what_it_could_not_hand_to_the_broker(
    forms, app_ctx, monkeypatch, config_override
):
    forms.submit("/guide", GUIDE)
    forms.submit("/specialist-match", SPECIALIST)
    forms.submit("/callback", {**CALLBACK, "email": "james@example.org"})
    config_override(OUTBOX_BATCH_SIZE=10)
    handed = []

    class BrokerGoesDownAfterOne:
        @staticmethod
        def delay(message_id):
            if handed:
                raise BrokerError("connection refused")
            handed.append(message_id)

    monkeypatch.setattr(outbox_tasks, "deliver_message", BrokerGoesDownAfterOne)

    with pytest.raises(BrokerError):
        outbox_tasks.relay_due_messages.run()

    statuses = dict(
        db.session.execute(
            sa.select(OutboxMessage.id, OutboxMessage.status).where(
                OutboxMessage.kind.not_in(COMMERCIAL)
            )
        ).all()
    )
    assert len(handed) == 1 and len(statuses) == 3
    assert statuses.pop(handed[0]) == OutboxStatus.dispatched
    assert set(statuses.values()) == {OutboxStatus.pending}


def test_sweeper_returns_rows_lost_past_their_lease_and_leaves_fresh_ones(
    forms, app_ctx, config_override
):
    config_override(OUTBOX_DISPATCH_LEASE_SECONDS=600, OUTBOX_SENDING_LEASE_SECONDS=300)
    now = submit_guide(forms)
    forms.submit("/specialist-match", SPECIALIST)
    forms.submit("/callback", {**CALLBACK, "email": "james@example.org"})
    guide_email, confirmation, callback = (
        row(kind).id
        for kind in (
            OutboxKind.guide_email,
            OutboxKind.specialist_confirmation,
            OutboxKind.callback_confirmation,
        )
    )
    t0 = now + timedelta(minutes=1)
    outbox.claim_due(t0, 500)  # all three transactional rows dispatched at t0
    outbox.start_sending(guide_email, t0)  # a worker took it and then vanished
    outbox.start_sending(confirmation, t0 + timedelta(minutes=8))  # still being sent

    returned = outbox.return_stuck(t0 + timedelta(minutes=9))

    assert returned == 1  # only the guide email: sending for 9 minutes, lease is 5
    db.session.expire_all()
    assert db.session.get(OutboxMessage, guide_email).status == OutboxStatus.pending
    assert db.session.get(OutboxMessage, confirmation).status == OutboxStatus.sending
    assert db.session.get(OutboxMessage, callback).status == OutboxStatus.dispatched

    assert outbox.return_stuck(t0 + timedelta(minutes=10, seconds=1)) == 1
    assert db.session.get(OutboxMessage, callback).status == OutboxStatus.pending
    assert outbox.return_stuck(t0 + timedelta(minutes=14)) == 1
    assert db.session.get(OutboxMessage, confirmation).status == OutboxStatus.pending


# --- sending once, retrying, giving up --------------------------------------------------


def test_a_redelivered_task_does_not_send_the_email_again(forms, app_ctx, smtp_sink):
    now = submit_guide(forms)
    message_id = row(OutboxKind.guide_email).id

    first = delivery.deliver_outbox_message(message_id, now)
    second = delivery.deliver_outbox_message(message_id, now + timedelta(seconds=5))

    assert (first, second) == ("sent", "skipped")
    assert len(smtp_sink.received()) == 1
    sent = row(OutboxKind.guide_email)
    assert (sent.status, sent.sent_at, sent.attempts) == (OutboxStatus.sent, now, 1)
    assert [e.outbox_id for e in events(TimelineKind.email_sent)] == [message_id]


def test_a_task_arriving_while_another_worker_sends_the_row_does_nothing(forms, app_ctx, smtp_sink):
    now = submit_guide(forms)
    message_id = row(OutboxKind.guide_email).id
    assert outbox.start_sending(message_id, now) is not None  # another worker is on it

    assert delivery.deliver_outbox_message(message_id, now + timedelta(seconds=1)) == "skipped"

    in_flight = row(OutboxKind.guide_email)
    assert (in_flight.status, in_flight.attempts) == (OutboxStatus.sending, 1)
    assert smtp_sink.received() == []


def test_message_id_is_derived_from_the_row_and_kept_across_retries(forms, app_ctx, smtp_sink):
    now = submit_guide(forms)
    message_id = row(OutboxKind.guide_email).id
    smtp_sink.refuse = True
    assert delivery.deliver_outbox_message(message_id, now) == "retry"
    smtp_sink.refuse = False

    assert delivery.deliver_outbox_message(message_id, now + timedelta(minutes=1)) == "sent"

    assert smtp_sink.message_ids() == [f"<outbox-{message_id}.guide_email@example.org>"]


def test_a_refused_send_is_retried_later_and_the_timeline_says_why(forms, app_ctx, smtp_sink):
    now = submit_guide(forms)
    smtp_sink.refuse = True

    assert deliver(OutboxKind.guide_email, now) == "retry"

    failed = row(OutboxKind.guide_email)
    assert failed.status == OutboxStatus.pending
    assert failed.attempts == 1
    assert failed.due_at > now
    assert "451" in failed.last_error
    (event,) = events(TimelineKind.email_failed)
    assert event.outbox_id == failed.id
    assert "451" in event.detail["error"]
    assert smtp_sink.received() == []
    # The retry waits for its backoff: the relay does not pick it up again at once.
    assert outbox.claim_due(now + timedelta(seconds=1), 500) == []
    assert outbox.claim_due(failed.due_at, 500) == [failed.id]


def test_an_email_refused_up_to_the_cap_ends_dead_and_is_never_sent(
    forms, app_ctx, smtp_sink, config_override
):
    config_override(OUTBOX_MAX_ATTEMPTS=3)
    now = submit_guide(forms)
    smtp_sink.refuse = True

    results = [deliver(OutboxKind.guide_email, now + timedelta(hours=n)) for n in range(3)]
    smtp_sink.refuse = False
    after_death = deliver(OutboxKind.guide_email, now + timedelta(hours=4))

    assert results == ["retry", "retry", "dead"]
    assert after_death == "skipped"
    dead = row(OutboxKind.guide_email)
    assert (dead.status, dead.attempts) == (OutboxStatus.dead, 3)
    assert "451" in dead.last_error
    assert len(events(TimelineKind.email_failed)) == 2
    assert len(events(TimelineKind.email_dead)) == 1
    assert smtp_sink.received() == []
    assert outbox.claim_due(now + timedelta(days=1), 500) == []


def test_an_email_whose_every_attempt_died_with_its_worker_ends_dead(
    forms, app_ctx, smtp_sink, config_override
):
    config_override(OUTBOX_MAX_ATTEMPTS=3, OUTBOX_SENDING_LEASE_SECONDS=300)
    now = submit_guide(forms)
    message_id = row(OutboxKind.guide_email).id
    moment = now
    for _ in range(3):
        assert outbox.claim_due(moment, 500) == [message_id]
        assert outbox.start_sending(message_id, moment) is not None  # then the worker is killed
        moment += timedelta(seconds=301)
        assert outbox.return_stuck(moment) == 1

    assert outbox.claim_due(moment, 500) == [message_id]
    assert delivery.deliver_outbox_message(message_id, moment) == "skipped"

    dead = row(OutboxKind.guide_email)
    assert (dead.status, dead.attempts) == (OutboxStatus.dead, 3)
    assert "lost with its worker" in dead.last_error
    assert [e.outbox_id for e in events(TimelineKind.email_dead)] == [message_id]
    assert outbox.claim_due(moment + timedelta(hours=1), 500) == []
    assert smtp_sink.received() == []


def test_a_poison_row_dies_without_holding_up_the_rest_of_its_batch(
    forms, app_ctx, smtp_sink, config_override
):
    config_override(OUTBOX_MAX_ATTEMPTS=2)
    forms.submit("/callback", CALLBACK)  # a phone-only lead: nothing to email
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0
    callback = db.session.scalar(sa.select(Submission))
    # A row planned for it anyway (an older release, a hand edit): it can never be sent.
    db.session.add(
        OutboxMessage(
            kind=OutboxKind.callback_confirmation,
            contact_id=callback.contact_id,
            submission_id=callback.id,
            dedupe_key=f"callback_confirmation:{callback.id}",
            due_at=callback.created_at,
        )
    )
    db.session.commit()
    now = submit_guide(forms)
    forms.submit("/specialist-match", SPECIALIST)

    results = {}
    for attempt in range(2):
        at = now + timedelta(hours=attempt + 1)  # past any backoff of the first attempt
        batch = outbox.claim_due(at, 500)
        results.update({m: delivery.deliver_outbox_message(m, at) for m in batch})

    poison = row(OutboxKind.callback_confirmation)
    assert results[poison.id] == "dead"
    assert poison.status == OutboxStatus.dead
    assert poison.last_error == "NoRecipientError"
    assert row(OutboxKind.guide_email).status == OutboxStatus.sent
    assert row(OutboxKind.specialist_confirmation).status == OutboxStatus.sent
    assert sorted(m["To"].addresses[0].addr_spec for m in smtp_sink.received()) == [
        "ana.nguyen@example.org",
        "maria.lopez@example.com",
    ]


# --- what the recipient gets -------------------------------------------------------------


class EnvelopeSink(SmtpSink):
    """Also keeps each message's envelope recipients: where the server really delivers."""

    def __init__(self):
        super().__init__()
        self.envelopes: list[list[str]] = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(list(envelope.rcpt_tos))
        return await super().handle_DATA(server, session, envelope)


@pytest.fixture
def envelope_sink(config_override):
    sink = EnvelopeSink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    config_override(SMTP_URL=f"smtp://127.0.0.1:{controller.port}?starttls=false")
    yield sink
    controller.stop()


INJECTED_NAME = "Maria\r\nBcc: evil@example.com"


def test_a_line_break_in_a_stored_name_cannot_add_recipients_or_headers(app_ctx, envelope_sink):
    lead = LeadInput(
        form=FormKind.guide,
        first_name=INJECTED_NAME,
        last_name="Lopez\nX-Injected: 1",
        email="maria.lopez@example.com",
        phone_e164=None,
        time_zone="America/New_York",
        consents={ConsentChannel.email: True, ConsentChannel.calls_texts: False},
    )
    capture.submit_lead(lead, RequestMeta("203.0.113.5", "test", None), None)
    assert db.session.scalar(sa.select(Contact.first_name)) == INJECTED_NAME

    assert deliver(OutboxKind.guide_email, submitted_at()) == "sent"

    (message,) = envelope_sink.received()
    assert envelope_sink.envelopes == [["maria.lopez@example.com"]]
    assert message["Bcc"] is None and message["X-Injected"] is None
    assert [a.addr_spec for a in message["To"].addresses] == ["maria.lopez@example.com"]


def test_a_visitor_whose_name_has_a_line_break_is_still_saved_and_emailed(
    forms, app_ctx, envelope_sink
):
    response = forms.submit("/guide", {**GUIDE, "first_name": "Maria\r\nJos\u00e9"})

    assert response.status_code == 303
    assert db.session.scalar(sa.select(Contact.first_name)) == "Maria Jos\u00e9"
    assert deliver(OutboxKind.guide_email, submitted_at()) == "sent"
    assert envelope_sink.envelopes == [["maria.lopez@example.com"]]


def test_a_header_injection_in_a_name_gets_a_clear_message_not_a_lost_lead(forms, app_ctx):
    response = forms.submit("/guide", {**GUIDE, "first_name": INJECTED_NAME})

    assert response.status_code == 422
    assert "letters only" in response.get_data(as_text=True)
    assert 'value="Lopez"' in response.get_data(as_text=True)


def sent_by_kind(sink) -> dict[str, object]:
    return {m["Message-ID"].split(".")[1].split("@")[0]: m for m in sink.received()}


def test_every_email_has_text_and_html_with_the_postal_address(app, forms, app_ctx, smtp_sink):
    submit_guide(forms)
    forms.submit("/specialist-match", SPECIALIST)
    forms.submit("/callback", {**CALLBACK, "email": "james@example.org"})
    for kind in OutboxKind:
        if row(kind) is not None:
            assert deliver_in_window(kind) == "sent", kind

    received = sent_by_kind(smtp_sink)
    # Staff alerts go to staff; the specialist match email is sent by an advocate (its own
    # footer is checked in tests/functional/test_referrals.py), the tried-to-reach email after
    # logged calls (tests/functional/test_call_log.py).
    not_from_forms = {
        OutboxKind.callback_escalation,
        OutboxKind.undelivered_digest,
        OutboxKind.specialist_match,
        OutboxKind.tried_to_reach,
    }
    to_visitors = set(OutboxKind) - not_from_forms
    assert set(received) == {kind.value for kind in to_visitors}
    address = app.config["ORG_POSTAL_ADDRESS"]
    for kind, message in received.items():
        text = message.get_body(preferencelist=("plain",)).get_content()
        html = message.get_body(preferencelist=("html",)).get_content()
        assert address in text and address in html, kind
        assert "<html" in html and "<html" not in text, kind


def test_only_commercial_emails_offer_one_click_unsubscribe(forms, app_ctx, smtp_sink):
    submit_guide(forms)
    for kind in (OutboxKind.guide_email, *COMMERCIAL):
        assert deliver_in_window(kind) == "sent"

    received = sent_by_kind(smtp_sink)
    for kind in COMMERCIAL:
        headers = dict(received[kind.value].raw_items())
        link = re.fullmatch(r"\s*<(https?://\S+/unsubscribe/\S+)>", headers["List-Unsubscribe"])
        assert link, headers["List-Unsubscribe"]
        assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        text = received[kind.value].get_body(preferencelist=("plain",)).get_content()
        assert link[1] in text  # the same link, for people, in the footer
    guide_email = received["guide_email"]
    assert guide_email["List-Unsubscribe"] is None
    assert guide_email["List-Unsubscribe-Post"] is None


def test_one_click_unsubscribe_header_stays_a_plain_url_on_a_real_domain(
    forms, app_ctx, smtp_sink, config_override
):
    config_override(PUBLIC_BASE_URL="https://www.mesothelioma-patient-advocates.org")
    submit_guide(forms)

    assert deliver_in_window(OutboxKind.guide_check_in) == "sent"

    (message,) = smtp_sink.received()
    raw = dict(message.raw_items())["List-Unsubscribe"]
    assert "=?" not in raw
    assert re.fullmatch(r"\s*<https://www\.mesothelioma-patient-advocates\.org/\S+>", raw)


def test_mail_goes_to_eml_files_when_no_smtp_server_is_configured(
    forms, app_ctx, config_override, tmp_path
):
    config_override(SMTP_URL="", MAIL_DIR=str(tmp_path / "mail"))
    now = submit_guide(forms)

    assert deliver(OutboxKind.guide_email, now) == "sent"

    (eml,) = (tmp_path / "mail").glob("*.eml")
    content = eml.read_bytes()
    message_id = row(OutboxKind.guide_email).id
    assert f"Message-ID: <outbox-{message_id}.guide_email@example.org>".encode() in content
    assert b"To: Maria Lopez <maria.lopez@example.com>" in content


# --- the send window -------------------------------------------------------------------


def test_a_check_in_due_late_at_night_waits_for_eight_without_using_an_attempt(
    forms, app_ctx, smtp_sink
):
    submit_guide(forms)
    late = next_local(row(OutboxKind.guide_check_in).due_at, 23)

    assert deliver(OutboxKind.guide_check_in, late) == "postponed"

    waiting = row(OutboxKind.guide_check_in)
    morning = next_local(late, 8)
    assert morning.astimezone(NEW_YORK).date() == late.astimezone(NEW_YORK).date() + timedelta(1)
    assert (waiting.status, waiting.due_at, waiting.attempts) == (OutboxStatus.pending, morning, 0)
    assert smtp_sink.received() == []
    assert waiting.id not in outbox.claim_due(morning - timedelta(seconds=1), 500)
    assert outbox.claim_due(morning, 500) == [waiting.id]
    assert deliver(OutboxKind.guide_check_in, morning) == "sent"


def test_the_window_opens_at_eight_and_closes_at_eight_in_the_evening(forms, app_ctx, smtp_sink):
    submit_guide(forms)
    due = row(OutboxKind.guide_check_in).due_at

    def deliver_when_due_at(moment: datetime) -> str:
        # As if the row had come due at exactly this moment and the relay handed it out.
        db.session.execute(
            sa.update(OutboxMessage)
            .where(OutboxMessage.kind == OutboxKind.guide_check_in)
            .values(due_at=moment)
        )
        db.session.commit()
        return deliver(OutboxKind.guide_check_in, moment)

    assert deliver_when_due_at(next_local(due, 7, 59)) == "postponed"
    assert row(OutboxKind.guide_check_in).due_at == next_local(due, 8)
    assert deliver_when_due_at(next_local(due, 20)) == "postponed"
    assert deliver_when_due_at(next_local(due, 19, 59)) == "sent"


def test_a_transactional_email_goes_at_any_hour(forms, app_ctx, smtp_sink):
    submit_guide(forms)
    night = next_local(row(OutboxKind.guide_email).due_at, 3)

    assert deliver(OutboxKind.guide_email, night) == "sent"


# --- when a sequence stops -----------------------------------------------------------------


def set_contact(**columns) -> None:
    # The stage service arrives in a later issue; until then set the columns directly.
    db.session.execute(sa.update(Contact).values(**columns))
    db.session.commit()


def test_a_reached_contact_gets_no_more_nurture_emails(forms, app_ctx, smtp_sink):
    submit_guide(forms)
    set_contact(stage=Stage.contacted)

    assert deliver_in_window(OutboxKind.guide_check_in) == "cancelled"

    cancelled = row(OutboxKind.guide_check_in)
    assert (cancelled.status, cancelled.last_error) == (OutboxStatus.cancelled, "reached")
    (event,) = events(TimelineKind.email_cancelled)
    assert (event.outbox_id, event.detail["reason"]) == (cancelled.id, "reached")
    assert smtp_sink.received() == []
    assert deliver(OutboxKind.guide_email, utcnow()) == "sent"


@pytest.mark.parametrize("outcome", [CloseOutcome.do_not_contact, CloseOutcome.deceased])
def test_do_not_contact_or_deceased_stops_even_the_guide_they_asked_for(
    forms, app_ctx, smtp_sink, outcome
):
    submit_guide(forms)
    set_contact(stage=Stage.closed, close_outcome=outcome)

    assert deliver(OutboxKind.guide_email, utcnow()) == "cancelled"
    assert deliver_in_window(OutboxKind.specialist_offer) == "cancelled"

    assert row(OutboxKind.guide_email).last_error == outcome.value
    assert len(events(TimelineKind.email_cancelled)) == 2
    assert smtp_sink.received() == []


def test_a_closed_contact_still_gets_what_they_asked_for_but_no_nurture(forms, app_ctx, smtp_sink):
    submit_guide(forms)
    set_contact(stage=Stage.closed, close_outcome=CloseOutcome.not_interested)

    assert deliver(OutboxKind.guide_email, utcnow()) == "sent"
    assert deliver_in_window(OutboxKind.guide_check_in) == "cancelled"
    assert row(OutboxKind.guide_check_in).last_error == "closed"


def test_an_unsubscribed_address_gets_transactional_email_but_no_nurture(forms, app_ctx, smtp_sink):
    submit_guide(forms)
    suppressions.suppress_email("Maria.Lopez@example.com ")

    assert deliver(OutboxKind.guide_email, utcnow()) == "sent"
    assert deliver_in_window(OutboxKind.guide_check_in) == "cancelled"
    assert deliver_in_window(OutboxKind.specialist_offer) == "cancelled"

    assert row(OutboxKind.specialist_offer).last_error == "unsubscribed"
    assert [m["Subject"] for m in smtp_sink.received()] == ["Your free mesothelioma guide"]


def test_a_stale_duplicate_task_does_not_retry_before_the_backoff_is_over(
    forms, app_ctx, smtp_sink
):
    now = submit_guide(forms)
    smtp_sink.refuse = True
    assert deliver(OutboxKind.guide_email, now) == "retry"
    smtp_sink.refuse = False
    backoff_ends = row(OutboxKind.guide_email).due_at

    assert deliver(OutboxKind.guide_email, now + timedelta(seconds=1)) == "skipped"
    assert row(OutboxKind.guide_email).attempts == 1
    assert deliver(OutboxKind.guide_email, backoff_ends) == "sent"
    assert len(smtp_sink.received()) == 1
