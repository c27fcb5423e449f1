"""Building and delivering email: SMTP in production, .eml files on the embedded defaults."""

import functools
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


class MailDeliveryError(Exception):
    """The message was not accepted; the caller decides whether to retry."""


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
    smtp_url = current_app.config["SMTP_URL"]
    if smtp_url:
        _send_smtp(message, smtp_url, current_app.config["SMTP_TIMEOUT_SECONDS"])
    else:
        _write_eml(message, Path(current_app.config["MAIL_DIR"]))


def _send_smtp(message: EmailMessage, smtp_url: str, timeout: float) -> None:
    url = urlsplit(smtp_url)
    options = {key: values[-1] for key, values in parse_qs(url.query).items()}
    implicit_tls = url.scheme == "smtps"
    starttls = options.get("starttls", "false").lower() in {"1", "true", "yes"}
    # Building an SSL context costs more than the whole SMTP conversation: only for TLS.
    context = _tls_context(options.get("verify", "true")) if implicit_tls or starttls else None
    port = url.port or (465 if implicit_tls else 25)
    client_cls = smtplib.SMTP_SSL if implicit_tls else smtplib.SMTP
    kwargs = {"context": context} if implicit_tls else {}
    try:
        with client_cls(url.hostname, port, timeout=timeout, **kwargs) as client:
            if starttls:
                client.starttls(context=context)
            if url.username:
                client.login(unquote(url.username), unquote(url.password or ""))
            client.send_message(message)
    except (smtplib.SMTPException, OSError) as error:
        raise MailDeliveryError(f"{type(error).__name__}: {error}"[:400]) from error


@functools.cache
def _tls_context(verify: str) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if verify.lower() in {"0", "false", "no"}:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def _write_eml(message: EmailMessage, mail_dir: Path) -> None:
    mail_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    token = "".join(ch for ch in message["Message-ID"] if ch.isalnum())[:60]
    (mail_dir / f"{stamp}-{token}.eml").write_bytes(message.as_bytes())
