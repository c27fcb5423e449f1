"""Undeliverable email: retried for two days, bounced at once, reported once, sent again."""

import itertools
import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from crm.extensions import db
from crm.models import EmailSuppression, OutboxMessage, Submission, TimelineEvent
from crm.models.enums import OutboxKind, OutboxStatus, TimelineKind
from crm.services import delivery, outbox, undelivered
from crm.tasks import outbox as outbox_tasks
from tests.forms import GUIDE, SPECIALIST

# Unique enough that finding it anywhere can only mean it was copied from the server's reply.
REFUSED = "refused-7f3a9c1e@example.net"
NEW_YORK = ZoneInfo("America/New_York")
USER_UNKNOWN = "550 5.1.1 <{address}>: Recipient address rejected: User unknown"


def row(kind: OutboxKind, submission_id: int | None = None) -> OutboxMessage:
    db.session.expire_all()
    query = sa.select(OutboxMessage).where(OutboxMessage.kind == kind)
    if submission_id is not None:
        query = query.where(OutboxMessage.submission_id == submission_id)
    return db.session.scalars(query.order_by(OutboxMessage.id)).first()


def submit_guide(forms, **answers) -> datetime:
    assert forms.submit("/guide", {**GUIDE, **answers}).status_code == 303
    return db.session.scalar(sa.select(Submission.created_at).order_by(Submission.id.desc()))


def deliver(message_id: int, now: datetime) -> str:
    return delivery.deliver_outbox_message(message_id, now)


def timeline(outbox_id: int) -> list[TimelineKind]:
    return list(
        db.session.scalars(
            sa.select(TimelineEvent.kind)
            .where(TimelineEvent.outbox_id == outbox_id)
            .order_by(TimelineEvent.id)
        )
    )


def noon_after(moment: datetime) -> datetime:
    """Noon in New York on or after `moment`: inside every contact's send window here."""
    local = moment.astimezone(NEW_YORK)
    noon = local.replace(hour=12, minute=0, second=0, microsecond=0)
    return (noon if noon >= local else noon + timedelta(days=1)).astimezone(UTC)


def message_id_of(message: OutboxMessage) -> str:
    return f"<outbox-{message.id}.{message.kind.value}@example.org>"


# --- transient failures: two days of retries --------------------------------------------


def test_a_refusing_server_is_retried_for_48_hours_at_most_an_hour_apart_then_dead(
    forms, app_ctx, smtp_sink
):
    first = submit_guide(forms)
    message_id = row(OutboxKind.guide_email).id
    smtp_sink.refuse = True
    window_ends = first + timedelta(hours=48)

    attempts_at, outcome, moment = [], "retry", first
    while outcome == "retry":
        attempts_at.append(moment)
        outcome = deliver(message_id, moment)
        moment = row(OutboxKind.guide_email).due_at

    dead = row(OutboxKind.guide_email)
    assert outcome == "dead"
    assert dead.status == OutboxStatus.dead
    gaps = [later - earlier for earlier, later in itertools.pairwise(attempts_at)]
    assert max(gaps) <= timedelta(hours=1)
    assert attempts_at[-2] < window_ends <= attempts_at[-1]
    assert dead.given_up_at == attempts_at[-1]
    assert dead.last_error == "SMTPDataError 451"
    kinds = timeline(message_id)
    assert kinds.count(TimelineKind.email_failed) == len(attempts_at) - 1
    assert kinds[-1] == TimelineKind.email_dead
    assert smtp_sink.received() == []


def test_a_server_that_accepts_again_within_the_window_gets_the_email(forms, app_ctx, smtp_sink):
    first = submit_guide(forms)
    message_id = row(OutboxKind.guide_email).id
    smtp_sink.refuse = True
    moment = first
    while moment < first + timedelta(hours=40):
        assert deliver(message_id, moment) == "retry"
        moment = row(OutboxKind.guide_email).due_at
    smtp_sink.refuse = False

    assert deliver(message_id, moment) == "sent"

    assert smtp_sink.message_ids() == [message_id_of(row(OutboxKind.guide_email))]


def test_a_recipient_refused_for_now_is_retried_and_not_suppressed(forms, app_ctx, smtp_sink):
    now = submit_guide(forms, email=REFUSED)
    smtp_sink.refuse_recipients[REFUSED] = "450 4.2.1 <{address}>: mailbox busy, try later"

    assert deliver(row(OutboxKind.guide_email).id, now) == "retry"

    failed = row(OutboxKind.guide_email)
    assert (failed.status, failed.last_error) == (OutboxStatus.pending, "SMTPRecipientsRefused 450")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(EmailSuppression)) == 0


# --- permanent refusals: bounced at once ---------------------------------------------------


def test_a_refused_recipient_bounces_at_once_and_gets_no_more_nurture_email(
    forms, app_ctx, smtp_sink
):
    now = submit_guide(forms, email=REFUSED)
    smtp_sink.refuse_recipients[REFUSED] = USER_UNKNOWN
    guide_email = row(OutboxKind.guide_email)

    assert deliver(guide_email.id, now) == "bounced"

    bounced = row(OutboxKind.guide_email)
    assert (bounced.status, bounced.attempts) == (OutboxStatus.bounced, 1)
    assert bounced.last_error == "SMTPRecipientsRefused 550"
    assert bounced.given_up_at == now
    assert timeline(bounced.id) == [TimelineKind.email_queued, TimelineKind.email_bounced]
    suppression = db.session.scalar(sa.select(EmailSuppression))
    assert (suppression.email, suppression.reason) == (REFUSED, "bounced")
    # A bounce is final: the relay never hands it out again.
    check_in = row(OutboxKind.guide_check_in)
    assert outbox.claim_due(now + timedelta(days=3), 500) == [check_in.id]
    assert deliver(check_in.id, noon_after(check_in.due_at)) == "cancelled"
    assert row(OutboxKind.guide_check_in).last_error == "bounced"  # says why, not "unsubscribed"
    assert smtp_sink.received() == []


def test_a_bounced_address_still_gets_what_the_person_asks_for_next(forms, app_ctx, smtp_sink):
    now = submit_guide(forms, email=REFUSED)
    smtp_sink.refuse_recipients[REFUSED] = USER_UNKNOWN
    assert deliver(row(OutboxKind.guide_email).id, now) == "bounced"
    smtp_sink.refuse_recipients.clear()  # her mailbox works again

    later = submit_guide(forms, email=REFUSED, first_name="Maria")
    second_submission = db.session.scalar(sa.select(sa.func.max(Submission.id)))

    assert deliver(row(OutboxKind.guide_email, second_submission).id, later) == "sent"
    assert [m["Subject"] for m in smtp_sink.received()] == ["Your free mesothelioma guide"]


def test_a_message_refused_at_data_with_554_bounces(forms, app_ctx, smtp_sink):
    now = submit_guide(forms, email=REFUSED)
    smtp_sink.data_reply = "554 5.7.1 Message for <" + REFUSED + "> rejected as spam"

    assert deliver(row(OutboxKind.guide_email).id, now) == "bounced"

    assert row(OutboxKind.guide_email).last_error == "SMTPDataError 554"


def test_no_address_from_a_server_reply_is_stored_in_the_outbox_or_the_timeline(
    forms, app_ctx, smtp_sink
):
    now = submit_guide(forms, email=REFUSED)
    forms.submit("/specialist-match", {**SPECIALIST, "email": REFUSED})
    smtp_sink.refuse_recipients[REFUSED] = "451 4.1.1 <{address}>: domain of {address} unresolved"
    assert deliver(row(OutboxKind.guide_email).id, now) == "retry"
    smtp_sink.refuse_recipients[REFUSED] = USER_UNKNOWN
    confirmation = row(OutboxKind.specialist_confirmation)
    assert deliver(confirmation.id, confirmation.due_at) == "bounced"

    stored_errors = db.session.scalars(sa.select(OutboxMessage.last_error)).all()
    details = db.session.scalars(sa.select(TimelineEvent.detail)).all()
    assert "SMTPRecipientsRefused 451" in stored_errors
    assert "SMTPRecipientsRefused 550" in stored_errors
    assert REFUSED not in json.dumps(stored_errors)
    assert REFUSED.split("@")[0] not in json.dumps(details)


# --- dead rows: one digest to the managers ---------------------------------------------------


def kill_guide_emails(forms, smtp_sink, config_override, count: int, at: datetime) -> list[int]:
    """Submit `count` guide requests whose emails fail and end dead (a zero-hour window)."""
    config_override(OUTBOX_RETRY_WINDOW_HOURS=0)
    smtp_sink.refuse = True
    ids = []
    for n in range(count):
        name = "Deadname" + "abcdefghij"[n]
        submit_guide(forms, email=f"dead{n}@example.com", first_name=name, phone="")
        submission_id = db.session.scalar(sa.select(sa.func.max(Submission.id)))
        message = row(OutboxKind.guide_email, submission_id)
        ids.append(message.id)
        assert deliver(message.id, max(at, message.due_at)) == "dead"
    smtp_sink.refuse = False
    return ids


def digests() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(OutboxMessage)
            .where(OutboxMessage.kind == OutboxKind.undelivered_digest)
            .order_by(OutboxMessage.id)
        )
    )


def test_many_dead_emails_raise_one_digest_per_manager_naming_no_one(
    forms, app_ctx, smtp_sink, config_override, managers
):
    now = submit_guide(forms)
    dead_ids = kill_guide_emails(forms, smtp_sink, config_override, 5, now)

    assert outbox_tasks.alert_dead_messages.run() == 5

    rows = digests()
    assert sorted(digest.payload["user_id"] for digest in rows) == sorted(managers)
    for digest in rows:
        assert digest.payload["outbox_ids"] == dead_ids
        assert digest.payload["count"] == 5
        assert digest.payload["by_kind"] == {"guide_email": 5}
        assert "@" not in json.dumps(digest.payload)
    for digest in rows:
        assert deliver(digest.id, now + timedelta(minutes=1)) == "sent"
    received = smtp_sink.received()
    assert sorted(m["To"].addresses[0].addr_spec for m in received) == [
        "dana@example.org",
        "lee@example.org",
    ]
    body = received[0].get_body(preferencelist=("plain",)).get_content()
    assert "5 emails could not be delivered" in body
    assert ", ".join(map(str, dead_ids)) in body
    assert "flask crm outbox requeue" in body
    assert "Deadname" not in body and "dead0@" not in body


def test_each_dead_email_is_reported_once(forms, app_ctx, smtp_sink, config_override, managers):
    now = submit_guide(forms)
    first = kill_guide_emails(forms, smtp_sink, config_override, 2, now)
    assert undelivered.alert_managers_of_dead_emails(now) == 2

    assert undelivered.alert_managers_of_dead_emails(now + timedelta(minutes=5)) == 0
    assert len(digests()) == 2

    later = kill_guide_emails(forms, smtp_sink, config_override, 1, now)
    assert undelivered.alert_managers_of_dead_emails(now + timedelta(minutes=10)) == 1
    assert [digest.payload["outbox_ids"] for digest in digests()] == [first, first, later, later]


def test_a_digest_that_cannot_be_delivered_raises_no_digest_of_its_own(
    forms, app_ctx, smtp_sink, config_override, managers
):
    now = submit_guide(forms)
    kill_guide_emails(forms, smtp_sink, config_override, 1, now)
    undelivered.alert_managers_of_dead_emails(now)
    smtp_sink.refuse = True
    assert {deliver(digest.id, now) for digest in digests()} == {"dead"}

    assert undelivered.alert_managers_of_dead_emails(now + timedelta(minutes=5)) == 0
    assert len(digests()) == 2


# --- sending dead emails again ---------------------------------------------------------------


def requeue_cli(app, *args: str):
    result = app.test_cli_runner().invoke(args=["crm", "outbox", "requeue", *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_requeue_by_id_sends_a_dead_email_again_under_its_message_id(
    app, forms, app_ctx, smtp_sink, config_override
):
    now = submit_guide(forms)
    (dead_id,) = kill_guide_emails(forms, smtp_sink, config_override, 1, now)
    config_override(OUTBOX_RETRY_WINDOW_HOURS=48)

    output = requeue_cli(app, "--id", str(dead_id))

    assert "Requeued 1 email." in output
    again = db.session.get(OutboxMessage, dead_id)
    db.session.refresh(again)
    assert (again.status, again.attempts, again.first_attempt_at) == (OutboxStatus.pending, 0, None)
    assert timeline(dead_id)[-1] == TimelineKind.email_requeued
    assert dead_id in outbox.claim_due(again.due_at, 500)
    assert deliver(dead_id, again.due_at) == "sent"
    assert smtp_sink.message_ids() == [f"<outbox-{dead_id}.guide_email@example.org>"]


def test_requeue_dead_since_takes_only_the_later_dead_and_bounced_only_when_asked(
    app, forms, app_ctx, smtp_sink, config_override
):
    start = submit_guide(forms)
    (early,) = kill_guide_emails(forms, smtp_sink, config_override, 1, start)
    (late,) = kill_guide_emails(forms, smtp_sink, config_override, 1, start + timedelta(hours=3))
    bounce_at = submit_guide(forms, email=REFUSED)
    smtp_sink.refuse_recipients[REFUSED] = USER_UNKNOWN
    bounced = row(OutboxKind.guide_email, db.session.scalar(sa.select(sa.func.max(Submission.id))))
    assert deliver(bounced.id, bounce_at + timedelta(hours=3)) == "bounced"
    since = (start + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")

    assert "Requeued 1 email." in requeue_cli(app, "--dead-since", since)
    assert "Requeued 1 email." in requeue_cli(app, "--dead-since", since, "--include-bounced")

    statuses = dict(db.session.execute(sa.select(OutboxMessage.id, OutboxMessage.status)).all())
    assert statuses[early] == OutboxStatus.dead
    assert statuses[late] == OutboxStatus.pending
    assert statuses[bounced.id] == OutboxStatus.pending


def test_requeue_says_which_ids_it_left_alone(app, forms, app_ctx, smtp_sink):
    submit_guide(forms)
    pending = row(OutboxKind.guide_email).id

    output = requeue_cli(app, "--id", str(pending), "--id", "999999")

    assert "Not requeued (no such row, or not dead; bounced rows need --include-bounced)" in output
    assert f": {pending}, 999999" in output
    assert "Requeued 0 emails." in output
    assert row(OutboxKind.guide_email).status == OutboxStatus.pending


def test_requeue_without_a_selection_refuses_to_guess(app, app_ctx):
    result = app.test_cli_runner().invoke(args=["crm", "outbox", "requeue"])

    assert result.exit_code != 0
    assert "--id and/or --dead-since" in result.output
