"""A real worker and beat send what the submits stored: once each, by themselves, despite faults."""

import contextlib
import re
from collections import Counter
from pathlib import Path

import pytest
import sqlalchemy as sa

from crm.extensions import db
from crm.models import OutboxMessage, Submission, TimelineEvent, utcnow
from crm.models.enums import ConsentChannel, FormKind, OutboxKind, OutboxStatus, TimelineKind
from crm.services import capture
from crm.services.leads import LeadInput, RequestMeta
from tests.forms import CALLBACK, GUIDE, FormClient
from tests.tcp_proxy import TcpProxy
from tests.worker import running_worker, wait_until, worker_env, worker_for

# Beat wakes the relay every 2 s by default; these tests wake it faster, to wait less.
RELAY_INTERVAL = 0.5
DELIVERY_TIMEOUT = 10
IMMEDIATE = (OutboxKind.guide_email, OutboxKind.callback_confirmation)
GUIDE_MESSAGE_ID = re.compile(r"<outbox-(\d+)\.guide_email@[^>]+>")


@pytest.fixture(autouse=True)
def _no_rate_limits_in_the_way(config_override):
    config_override(SUBMIT_LIMIT_PER_IP="100000/hour", SUBMIT_LIMIT_PER_CONTACT="100000/hour")


def submit_guides(forms: FormClient, count: int, prefix: str = "visitor") -> None:
    """Submit `count` guide requests from different people, as browsers do."""
    for n in range(count):
        answers = {**GUIDE, "email": f"{prefix}{n}@example.com", "phone": ""}
        assert forms.submit("/guide", answers).status_code == 303


def outbox(app, *kinds: OutboxKind) -> list[OutboxMessage]:
    """The outbox rows of these kinds (all kinds if none), fresh from the database."""
    with app.app_context():
        query = sa.select(OutboxMessage).order_by(OutboxMessage.id)
        if kinds:
            query = query.where(OutboxMessage.kind.in_(kinds))
        rows = db.session.scalars(query).all()
        db.session.expunge_all()
        db.session.remove()
    return rows


def all_sent(app, *kinds: OutboxKind) -> bool:
    return all(row.status == OutboxStatus.sent for row in outbox(app, *kinds))


def message_id_counts(sink) -> Counter:
    return Counter(sink.message_ids())


@pytest.mark.postgres_only
def test_a_guide_request_is_emailed_by_the_worker_within_seconds(app, forms, smtp_sink, tmp_path):
    database_url = app.config["SQLALCHEMY_DATABASE_URI"]
    with worker_for(
        database_url,
        tmp_path,
        smtp_url=app.config["SMTP_URL"],
        OUTBOX_RELAY_INTERVAL_SECONDS=RELAY_INTERVAL,
    ):
        assert forms.submit("/guide", GUIDE).status_code == 303
        callback = {**CALLBACK, "email": "james.obrien@example.com"}
        assert forms.submit("/callback", callback).status_code == 303

        wait_until(lambda: len(smtp_sink.received()) >= 2, DELIVERY_TIMEOUT)
        wait_until(lambda: all_sent(app, *IMMEDIATE), DELIVERY_TIMEOUT)

    guide_row, confirmation_row = outbox(app, *IMMEDIATE)
    by_recipient = {
        message["To"].addresses[0].addr_spec: message for message in smtp_sink.received()
    }
    guide_email = by_recipient["maria.lopez@example.com"]
    assert GUIDE_MESSAGE_ID.fullmatch(guide_email["Message-ID"]).group(1) == str(guide_row.id)
    assert guide_email["Subject"] == "Your free mesothelioma guide"
    confirmation = by_recipient["james.obrien@example.com"]
    assert confirmation["Message-ID"].startswith(f"<outbox-{confirmation_row.id}.")
    for row in (guide_row, confirmation_row):
        assert (row.status, row.attempts) == (OutboxStatus.sent, 1)
    with app.app_context():
        events = db.session.execute(
            sa.select(TimelineEvent.kind, TimelineEvent.outbox_id)
            .where(TimelineEvent.contact_id == guide_row.contact_id)
            .order_by(TimelineEvent.id)
        ).all()
    guide_events = [kind for kind, outbox_id in events if outbox_id == guide_row.id]
    assert guide_events == [TimelineKind.email_queued, TimelineKind.email_sent]


@contextlib.contextmanager
def commits_fail_after_outbox_rows_are_written(app, hold_seconds: float):
    """Make every commit that wrote outbox rows fail, after holding them uncommitted a while.

    A deferred constraint trigger runs at COMMIT, once the transaction has written everything:
    the database refuses the commit as it would on a real fault (a serialisation failure, a
    lost connection), while the relay keeps running against the uncommitted rows.
    """
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(
            sa.text(
                "CREATE FUNCTION outbox_commit_fails() RETURNS trigger LANGUAGE plpgsql AS $$ "
                f"BEGIN PERFORM pg_sleep({hold_seconds}); "
                "RAISE EXCEPTION 'the commit failed'; END $$"
            )
        )
        conn.execute(
            sa.text(
                "CREATE CONSTRAINT TRIGGER outbox_commit_fails AFTER INSERT ON outbox "
                "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION outbox_commit_fails()"
            )
        )
    try:
        yield
    finally:
        with app.app_context(), db.engine.begin() as conn:
            conn.execute(sa.text("DROP TRIGGER outbox_commit_fails ON outbox"))
            conn.execute(sa.text("DROP FUNCTION outbox_commit_fails()"))


ROLLED_BACK = LeadInput(
    form=FormKind.guide,
    first_name="Rolled",
    last_name="Back",
    email="rolled-back-4e1d@example.com",
    phone_e164=None,
    time_zone="America/New_York",
    consents={ConsentChannel.email: True, ConsentChannel.calls_texts: False},
)


@pytest.mark.postgres_only
def test_a_rolled_back_submit_never_sends_an_email(app, forms, smtp_sink, tmp_path):
    database_url = app.config["SQLALCHEMY_DATABASE_URI"]
    with worker_for(
        database_url,
        tmp_path,
        smtp_url=app.config["SMTP_URL"],
        OUTBOX_RELAY_INTERVAL_SECONDS=RELAY_INTERVAL,
    ):
        # The relay runs several times while the submit's rows exist, uncommitted.
        with commits_fail_after_outbox_rows_are_written(app, hold_seconds=6 * RELAY_INTERVAL):
            with app.app_context(), pytest.raises(sa.exc.DBAPIError, match="the commit failed"):
                capture.submit_lead(ROLLED_BACK, RequestMeta("203.0.113.9", "test", None), None)
            with app.app_context():
                db.session.remove()

        # A committed submit afterwards is sent: the worker was listening all along.
        assert forms.submit("/guide", GUIDE).status_code == 303
        wait_until(lambda: all_sent(app, OutboxKind.guide_email), DELIVERY_TIMEOUT)

    rows = outbox(app)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Submission)) == 1
        db.session.remove()
    # The failed submit did write its three emails' rows (their ids are used up) ...
    assert min(row.id for row in rows) == 4
    # ... and none of them outlived the rollback or reached the server.
    (guide_row,) = [row for row in rows if row.kind == OutboxKind.guide_email]
    assert smtp_sink.message_ids() == [f"<outbox-{guide_row.id}.guide_email@example.org>"]


@pytest.mark.postgres_only
def test_a_poison_row_ends_dead_while_twenty_others_are_sent(app, forms, smtp_sink, tmp_path):
    max_attempts = 3
    # A callback without an email address, given a confirmation email anyway: unsendable.
    assert forms.submit("/callback", CALLBACK).status_code == 303
    with app.app_context():
        submission = db.session.scalar(sa.select(Submission))
        poison = OutboxMessage(
            kind=OutboxKind.callback_confirmation,
            contact_id=submission.contact_id,
            submission_id=submission.id,
            payload={"submission_id": submission.id},
            dedupe_key=f"callback_confirmation:{submission.id}",
            due_at=utcnow(),
        )
        db.session.add(poison)
        db.session.commit()
        poison_id = poison.id
        db.session.remove()
    submit_guides(forms, 20)

    database_url = app.config["SQLALCHEMY_DATABASE_URI"]
    with worker_for(
        database_url,
        tmp_path,
        smtp_url=app.config["SMTP_URL"],
        OUTBOX_MAX_ATTEMPTS=max_attempts,
        OUTBOX_RETRY_BASE_SECONDS=1,
        OUTBOX_RETRY_MAX_SECONDS=2,
        OUTBOX_RELAY_INTERVAL_SECONDS=RELAY_INTERVAL,
    ):

        def settled() -> bool:
            rows = outbox(app, *IMMEDIATE)
            return all(row.status in (OutboxStatus.sent, OutboxStatus.dead) for row in rows)

        wait_until(settled, 30, interval=0.5)

    rows = {row.id: row for row in outbox(app)}
    dead = rows.pop(poison_id)
    assert (dead.status, dead.attempts) == (OutboxStatus.dead, max_attempts)
    assert dead.last_error == "NoRecipientError"
    guide_rows = [row for row in rows.values() if row.kind == OutboxKind.guide_email]
    assert len(guide_rows) == 20
    assert {row.status for row in guide_rows} == {OutboxStatus.sent}
    expected = {f"<outbox-{row.id}.guide_email@example.org>" for row in guide_rows}
    assert message_id_counts(smtp_sink) == Counter(expected)
    with app.app_context():
        kinds = db.session.scalars(
            sa.select(TimelineEvent.kind)
            .where(TimelineEvent.outbox_id == poison_id)
            .order_by(TimelineEvent.id)
        ).all()
    assert kinds == [TimelineKind.email_failed] * (max_attempts - 1) + [TimelineKind.email_dead]


@pytest.mark.postgres_only
def test_emails_refused_by_smtp_back_off_and_go_out_once_it_accepts(
    app, forms, smtp_sink, tmp_path
):
    base, cap = 1, 4
    smtp_sink.refuse = True
    submit_guides(forms, 10)
    database_url = app.config["SQLALCHEMY_DATABASE_URI"]
    with worker_for(
        database_url,
        tmp_path,
        smtp_url=app.config["SMTP_URL"],
        OUTBOX_MAX_ATTEMPTS=50,
        OUTBOX_RETRY_BASE_SECONDS=base,
        OUTBOX_RETRY_MAX_SECONDS=cap,
        OUTBOX_RELAY_INTERVAL_SECONDS=RELAY_INTERVAL,
    ):

        def each_refused_three_times() -> list[OutboxMessage] | None:
            rows = outbox(app, OutboxKind.guide_email)
            return rows if all(row.attempts >= 3 for row in rows) else None

        refused = wait_until(each_refused_three_times, 40, interval=0.5)
        backoffs = last_backoffs(app)
        smtp_sink.refuse = False

        wait_until(lambda: all_sent(app, OutboxKind.guide_email), 20, interval=0.5)

    for row in refused:
        assert row.status != OutboxStatus.dead
        assert row.last_error == "SMTPDataError 451"
    # Each waiting row is due one backoff after its latest failure: base * 2^(n-1), capped,
    # times a jitter in [0.5, 1].
    assert backoffs
    for attempts, delay in backoffs:
        full = min(base * 2 ** (attempts - 1), cap)
        assert 0.5 * full - 0.01 <= delay <= full + 0.01, (attempts, delay)
    rows = outbox(app, OutboxKind.guide_email)
    assert all(row.attempts >= 4 and row.last_error is None for row in rows)
    expected = {f"<outbox-{row.id}.guide_email@example.org>" for row in rows}
    assert message_id_counts(smtp_sink) == Counter(expected)


def last_backoffs(app) -> list[tuple[int, float]]:
    """(attempts, seconds from the latest failure to due_at) for each row waiting to retry."""
    with app.app_context():
        failures = (
            sa.select(TimelineEvent.outbox_id, sa.func.max(TimelineEvent.created_at).label("at"))
            .where(TimelineEvent.kind == TimelineKind.email_failed)
            .group_by(TimelineEvent.outbox_id)
            .subquery()
        )
        rows = db.session.execute(
            sa.select(OutboxMessage.attempts, OutboxMessage.due_at, failures.c.at)
            .join(failures, failures.c.outbox_id == OutboxMessage.id)
            .where(OutboxMessage.status == OutboxStatus.pending)
        ).all()
        db.session.remove()
    return [
        (attempts, (due_at - failed_at).total_seconds()) for attempts, due_at, failed_at in rows
    ]


# Seconds the worker waits for a silent SMTP server (SMTP_TIMEOUT_SECONDS, 15 by default).
SMTP_TIMEOUT = 3


@pytest.mark.postgres_only
def test_an_smtp_server_that_never_answers_holds_up_delivery_only_until_it_answers(
    app, forms, smtp_sink, tmp_path
):
    host, port = re.fullmatch(r"smtp://(.+):(\d+)\?starttls=false", app.config["SMTP_URL"]).groups()
    proxy = TcpProxy((host, int(port)))
    proxy.hang()
    submit_guides(forms, 2)
    database_url = app.config["SQLALCHEMY_DATABASE_URI"]
    try:
        with worker_for(
            database_url,
            tmp_path,
            smtp_url=f"smtp://127.0.0.1:{proxy.port}?starttls=false",
            SMTP_TIMEOUT_SECONDS=SMTP_TIMEOUT,
            OUTBOX_RETRY_BASE_SECONDS=1,
            OUTBOX_RETRY_MAX_SECONDS=2,
            OUTBOX_RELAY_INTERVAL_SECONDS=RELAY_INTERVAL,
        ):
            wait_until(lambda: proxy.hung_connections >= 2, DELIVERY_TIMEOUT)

            def each_timed_out() -> list[OutboxMessage] | None:
                rows = outbox(app, OutboxKind.guide_email)
                return rows if all(row.last_error for row in rows) else None

            timed_out = wait_until(each_timed_out, SMTP_TIMEOUT + DELIVERY_TIMEOUT, interval=0.2)
            proxy.restore()
            wait_until(lambda: all_sent(app, OutboxKind.guide_email), 20, interval=0.2)
    finally:
        proxy.stop()

    for row in timed_out:
        assert row.last_error == "SMTPServerDisconnected (TimeoutError)"
        assert row.status in (OutboxStatus.pending, OutboxStatus.dispatched, OutboxStatus.sending)
    rows = outbox(app, OutboxKind.guide_email)
    assert {row.status for row in rows} == {OutboxStatus.sent}
    expected = {f"<outbox-{row.id}.guide_email@example.org>" for row in rows}
    assert message_id_counts(smtp_sink) == Counter(expected)


def test_the_embedded_defaults_worker_delivers_a_guide_email(app, backend, forms, smtp_sink):
    """`celery -A wsgi.celery_app worker --beat` on SQLite and kombu's SQLAlchemy transport."""
    if backend != "sqlite":
        pytest.skip("the embedded defaults are SQLite")
    database = Path(app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///"))
    # The default database is <instance>/crm.sqlite3, the very file this app uses.
    assert database.name == "crm.sqlite3"
    instance = database.parent
    env = worker_env(instance, SMTP_URL=app.config["SMTP_URL"])
    with running_worker(env, instance) as worker:
        assert forms.submit("/guide", GUIDE).status_code == 303
        wait_until(smtp_sink.received, 15, interval=0.2)
        wait_until(lambda: all_sent(app, OutboxKind.guide_email), 15, interval=0.2)
        log = worker.log_path.read_text()

    assert "sqla+sqlite:///" in log
    assert (instance / "celery-broker.sqlite3").exists()
    (row,) = outbox(app, OutboxKind.guide_email)
    assert smtp_sink.message_ids() == [f"<outbox-{row.id}.guide_email@example.org>"]
    assert row.status == OutboxStatus.sent
