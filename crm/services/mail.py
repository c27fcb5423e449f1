"""Building and delivering email: SMTP in production, .eml files on the embedded defaults."""

import functools
import logging
import smtplib
import ssl
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from flask import current_app

# Long header values (a List-Unsubscribe URL) stay one plain line instead of being
# RFC 2047-encoded, which would hide the URL from mail clients.
_POLICY = policy.SMTP.clone(max_line_length=998)

log = logging.getLogger(__name__)


class MailDeliveryError(Exception):
    """The message was not accepted; `summary` is the error class and SMTP code, never the reply.

    `permanent`: trying again cannot help. With an `smtp_code`, the recipient's side refused
    this message (a bounce); without one, our own SMTP configuration is wrong.
    """

    def __init__(self, summary: str, *, permanent: bool = False, smtp_code: int | None = None):
        super().__init__(summary)
        self.summary = summary
        self.permanent = permanent
        self.smtp_code = smtp_code

    @property
    def bounced(self) -> bool:
        return self.permanent and self.smtp_code is not None


@dataclass
class OutgoingEmail:
    to_address: str
    to_name: str
    subject: str
    text: str
    html: str
    message_id: str
    headers: dict[str, str] = field(default_factory=dict)
    attachments: list[tuple[str, bytes, str]] = field(default_factory=list)


def header_safe(value: str | None) -> str:
    """Fold white space, so a CR/LF in a visitor's name can never start a new header."""
    return " ".join((value or "").split())


def build_message(email: OutgoingEmail) -> EmailMessage:
    """Return the MIME message: plain text and HTML alternatives, safe headers."""
    sender_name, sender_address = parseaddr(current_app.config["MAIL_FROM"])
    message = EmailMessage(policy=_POLICY)
    message["From"] = Address(header_safe(sender_name), addr_spec=sender_address)
    message["To"] = Address(header_safe(email.to_name)[:78], addr_spec=email.to_address)
    message["Subject"] = header_safe(email.subject)
    message["Message-ID"] = email.message_id
    message["Date"] = format_datetime(datetime.now(UTC))
    for name, value in email.headers.items():
        message[name] = header_safe(value)
    message.set_content(email.text)
    message.add_alternative(email.html, subtype="html")
    for filename, content, mime_type in email.attachments:
        maintype, subtype = mime_type.split("/", 1)
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return message


def deliver(message: EmailMessage) -> None:
    """Hand the message to SMTP_URL, or write it under MAIL_DIR when no SMTP is configured."""
    config = current_app.config
    if not config["SMTP_URL"]:
        _write_eml(message, Path(config["MAIL_DIR"]))
        return
    settings, problems = _smtp_settings(config["SMTP_URL"], config["CRM_ENV"])
    if problems:
        raise MailDeliveryError(f"SMTP configuration: {problems[0]}"[:200], permanent=True)
    _send_smtp(message, settings, config["SMTP_CA_FILE"], config["SMTP_TIMEOUT_SECONDS"])


def smtp_url_problems(url: str, env: str) -> list[str]:
    """One line per reason this SMTP_URL must not be used in `env`; empty when it is fine."""
    return list(_smtp_settings(url, env)[1]) if url else []


def classify_smtp_error(error: Exception) -> MailDeliveryError:
    """Name the failure by class and SMTP code; permanent only for a 5xx about this message."""
    name = type(error).__name__
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        # One recipient per message, so one (code, server text) pair; the text stays out.
        codes = [code for code, _text in error.recipients.values()]
        code = max(codes, default=None)
        permanent = bool(codes) and all(_is_5xx(each) for each in codes)
        return MailDeliveryError(f"{name} {code}", permanent=permanent, smtp_code=code)
    if isinstance(error, smtplib.SMTPDataError):
        code = error.smtp_code
        return MailDeliveryError(f"{name} {code}", permanent=_is_5xx(code), smtp_code=code)
    if isinstance(error, smtplib.SMTPResponseException):
        # Sender refused, AUTH refused, greeting refused: our configuration or our server,
        # never the recipient's doing. Retried, so that a fix delivers everything waiting.
        return MailDeliveryError(f"{name} {error.smtp_code}", smtp_code=error.smtp_code)
    # Timeouts, refused connections, TLS failures, a server without STARTTLS: transient.
    # smtplib reports a read that timed out as a disconnection: name the cause too.
    cause = error.__cause__ or error.__context__
    if isinstance(cause, OSError) and not isinstance(cause, smtplib.SMTPException):
        return MailDeliveryError(f"{name} ({type(cause).__name__})")
    return MailDeliveryError(name)


def _is_5xx(code: int | None) -> bool:
    return code is not None and 500 <= code < 600


@dataclass(frozen=True)
class _SmtpSettings:
    host: str
    port: int
    implicit_tls: bool
    starttls: bool
    verify: bool
    username: str
    password: str


_FLAGS = {"1": True, "true": True, "yes": True, "on": True}
_FLAGS.update({"0": False, "false": False, "no": False, "off": False})
_OPTIONS = ("starttls", "verify")
_VERIFY_OFF_ALLOWED = ("development", "testing")


@functools.lru_cache(maxsize=16)
def _smtp_settings(url: str, env: str) -> tuple[_SmtpSettings | None, tuple[str, ...]]:
    """Parse SMTP_URL once per process; the problems say why it must not be used."""
    parts = urlsplit(url)
    options = {key: values[-1].lower() for key, values in parse_qs(parts.query).items()}
    problems = []
    if parts.scheme not in ("smtp", "smtps"):
        problems.append(
            f"SMTP_URL must start with smtp:// (STARTTLS) or smtps:// (implicit TLS), "
            f"not {parts.scheme or 'nothing'}://"
        )
    if not parts.hostname:
        problems.append("SMTP_URL names no host")
    try:
        port = parts.port
    except ValueError:
        port = None
        problems.append("SMTP_URL has a port that is not a number")
    for name in sorted(set(options) - set(_OPTIONS)):
        problems.append(f"SMTP_URL option ?{name}= is unknown (known: starttls, verify)")
    for name in _OPTIONS:
        if name in options and options[name] not in _FLAGS:
            problems.append(f"SMTP_URL option ?{name}= must be true or false")
    implicit_tls = parts.scheme == "smtps"
    if implicit_tls and "starttls" in options:
        problems.append(
            "SMTP_URL option ?starttls= means nothing with smtps:// (TLS from the start)"
        )
    starttls = not implicit_tls and _FLAGS.get(options.get("starttls", "true"), True)
    verify = _FLAGS.get(options.get("verify", "true"), True)
    username = unquote(parts.username or "")
    if username and not (implicit_tls or starttls):
        problems.append(
            "SMTP_URL has a username but ?starttls=false: the password would cross the "
            "network in plain text (keep STARTTLS, the default, or use smtps://)"
        )
    if not verify and env not in _VERIFY_OFF_ALLOWED:
        problems.append(
            f"SMTP_URL has ?verify=false, which turns off certificate checks: "
            f"allowed in development and testing only, not in {env}"
        )
    settings = _SmtpSettings(
        host=parts.hostname or "",
        port=port or (465 if implicit_tls else 25),
        implicit_tls=implicit_tls,
        starttls=starttls,
        verify=verify,
        username=username,
        password=unquote(parts.password or ""),
    )
    if not problems and not (implicit_tls or starttls):
        _warn_plaintext()
    return settings, tuple(problems)


def _warn_plaintext() -> None:
    # Once per process (the settings are parsed once): loud, but not a line per email.
    log.warning(
        "SMTP_URL has ?starttls=false: every email (names, addresses, what visitors asked "
        "about) crosses the network unencrypted. Use this only for a relay on this host."
    )


def _send_smtp(message: EmailMessage, settings: _SmtpSettings, ca_file: str, timeout: float):
    tls = settings.implicit_tls or settings.starttls
    # Building an SSL context costs more than the whole SMTP conversation: built once.
    context = _tls_context(settings.verify, ca_file) if tls else None
    try:
        if settings.implicit_tls:
            client = smtplib.SMTP_SSL(
                settings.host, settings.port, timeout=timeout, context=context
            )
        else:
            client = smtplib.SMTP(settings.host, settings.port, timeout=timeout)
        with client:
            if settings.starttls:
                # Raises when the server offers no STARTTLS: never fall back to plain text.
                client.starttls(context=context)
            if settings.username:
                client.login(settings.username, settings.password)
            client.send_message(message)
    except (smtplib.SMTPException, OSError) as error:
        raise classify_smtp_error(error) from error


@functools.cache
def _tls_context(verify: bool, ca_file: str) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=ca_file or None)
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def _write_eml(message: EmailMessage, mail_dir: Path) -> None:
    mail_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    token = "".join(ch for ch in message["Message-ID"] if ch.isalnum())[:60]
    (mail_dir / f"{stamp}-{token}.eml").write_bytes(message.as_bytes())
