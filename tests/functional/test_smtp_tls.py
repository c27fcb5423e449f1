"""SMTP security: STARTTLS by default, a verified certificate, never AUTH or mail in the clear."""

import ssl

import pytest
import sqlalchemy as sa
import trustme
from aiosmtpd.smtp import AuthResult, LoginPassword

from crm.extensions import db
from crm.models import OutboxMessage, Submission
from crm.models.enums import OutboxKind, OutboxStatus
from crm.services import delivery
from tests.forms import GUIDE
from tests.smtp_sink import SmtpSink, start_smtp_sink

USER, PASSWORD = "crm-relay", "s3cret-relay-password"


class TlsSink(SmtpSink):
    """Also notes, for each message it accepts, whether TLS and AUTH were in place."""

    def __init__(self):
        super().__init__()
        self.sessions: list[tuple[bool, bool]] = []

    async def handle_DATA(self, server, session, envelope):
        encrypted = server.transport.get_extra_info("ssl_object") is not None
        self.sessions.append((encrypted, bool(session.authenticated)))
        return await super().handle_DATA(server, session, envelope)


def check_password(server, session, envelope, mechanism, auth_data) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=ok)


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def ca_file(ca, tmp_path) -> str:
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


def server_context(ca: trustme.CA) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    return context


@pytest.fixture
def starttls_sink(ca):
    """A server that offers STARTTLS, refuses mail before it, and takes AUTH only after it."""
    controller, sink = start_smtp_sink(
        TlsSink(),
        tls_context=server_context(ca),
        require_starttls=True,
        authenticator=check_password,
        auth_require_tls=True,
    )
    yield controller, sink
    controller.stop()


@pytest.fixture
def guide_email(forms, app_ctx) -> int:
    assert forms.submit("/guide", GUIDE).status_code == 303
    return db.session.scalar(
        sa.select(OutboxMessage.id).where(OutboxMessage.kind == OutboxKind.guide_email)
    )


def send(message_id: int) -> tuple[str, OutboxMessage]:
    now = db.session.scalar(sa.select(Submission.created_at))
    outcome = delivery.deliver_outbox_message(message_id, now)
    db.session.expire_all()
    return outcome, db.session.get(OutboxMessage, message_id)


def test_a_plain_smtp_url_upgrades_to_tls_and_verifies_the_certificate(
    guide_email, starttls_sink, ca_file, config_override
):
    controller, sink = starttls_sink
    config_override(SMTP_URL=f"smtp://127.0.0.1:{controller.port}", SMTP_CA_FILE=ca_file)

    outcome, row = send(guide_email)

    assert (outcome, row.status) == ("sent", OutboxStatus.sent)
    assert sink.sessions == [(True, False)]
    assert sink.message_ids() == [f"<outbox-{guide_email}.guide_email@example.org>"]


def test_credentials_are_sent_only_inside_tls(guide_email, starttls_sink, ca_file, config_override):
    controller, sink = starttls_sink
    config_override(
        SMTP_URL=f"smtp://{USER}:{PASSWORD}@127.0.0.1:{controller.port}", SMTP_CA_FILE=ca_file
    )

    assert send(guide_email)[0] == "sent"

    assert sink.sessions == [(True, True)]


def test_a_certificate_from_an_unknown_authority_is_refused(
    guide_email, starttls_sink, config_override
):
    controller, sink = starttls_sink
    config_override(SMTP_URL=f"smtp://127.0.0.1:{controller.port}", SMTP_CA_FILE="")

    outcome, row = send(guide_email)

    assert (outcome, row.status) == ("retry", OutboxStatus.pending)
    assert row.last_error == "SSLCertVerificationError"
    assert sink.received() == []


def test_verify_false_is_refused_in_production(guide_email, starttls_sink, config_override):
    controller, sink = starttls_sink
    url = f"smtp://127.0.0.1:{controller.port}?verify=false"
    config_override(SMTP_URL=url, SMTP_CA_FILE="", CRM_ENV="production")

    outcome, row = send(guide_email)

    assert (outcome, row.status) == ("dead", OutboxStatus.dead)
    assert row.last_error.startswith("SMTP configuration: SMTP_URL has ?verify=false")
    assert sink.received() == []


def test_verify_false_is_honoured_in_development(guide_email, starttls_sink, config_override):
    controller, sink = starttls_sink
    url = f"smtp://127.0.0.1:{controller.port}?verify=false"
    config_override(SMTP_URL=url, SMTP_CA_FILE="", CRM_ENV="development")

    assert send(guide_email)[0] == "sent"
    assert sink.sessions == [(True, False)]


def test_a_server_without_starttls_gets_no_email_in_plain_text(guide_email, config_override):
    controller, sink = start_smtp_sink()  # plain SMTP only: no STARTTLS on offer
    try:
        config_override(SMTP_URL=f"smtp://127.0.0.1:{controller.port}")
        outcome, row = send(guide_email)
    finally:
        controller.stop()

    assert (outcome, row.status) == ("retry", OutboxStatus.pending)
    assert row.last_error == "SMTPNotSupportedError"
    assert sink.received() == []


def test_a_username_without_tls_is_refused_before_any_connection(guide_email, config_override):
    controller, sink = start_smtp_sink()
    try:
        url = f"smtp://{USER}:{PASSWORD}@127.0.0.1:{controller.port}?starttls=false"
        config_override(SMTP_URL=url)
        outcome, row = send(guide_email)
    finally:
        controller.stop()

    assert (outcome, row.status) == ("dead", OutboxStatus.dead)
    assert row.last_error.startswith("SMTP configuration: SMTP_URL has a username")
    assert PASSWORD not in row.last_error
    assert sink.received() == []


def test_smtps_speaks_tls_from_the_first_byte(guide_email, ca, ca_file, config_override):
    controller, sink = start_smtp_sink(TlsSink(), ssl_context=server_context(ca))
    try:
        config_override(SMTP_URL=f"smtps://127.0.0.1:{controller.port}", SMTP_CA_FILE=ca_file)
        outcome, _ = send(guide_email)
    finally:
        controller.stop()

    assert outcome == "sent"
    assert sink.sessions == [(True, False)]
