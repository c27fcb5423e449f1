"""A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps what it receives, for tests."""

import asyncio
import socket
import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller


@dataclass
class SmtpSink:
    """Collects every accepted message.

    `refuse` answers 451 to each DATA; `data_reply` answers DATA with that line instead of
    accepting; `refuse_recipients` answers RCPT TO for an address with its line (the way real
    servers do, quoting the address). While `hold_data` is set, each message is kept (and
    listed in `held`) but the reply waits: a client that dies meanwhile never hears the 250.
    """

    messages: list[EmailMessage] = field(default_factory=list)
    refuse: bool = False
    data_reply: str | None = None
    refuse_recipients: dict[str, str] = field(default_factory=dict)
    hold_data: bool = False
    held: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self.refuse_recipients.get(address.lower())
        if reply:
            return reply.format(address=address)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.refuse:
            return "451 4.3.0 Try again later"
        if self.data_reply:
            return self.data_reply
        raw = envelope.original_content or envelope.content
        message = message_from_bytes(raw, policy=policy.default)
        held = self.hold_data
        with self.lock:
            self.messages.append(message)
            if held:
                self.held.append(message["Message-ID"])
        # Kept before the reply, as a real server commits the message before its 250.
        while held and self.hold_data:
            await asyncio.sleep(0.01)
        return "250 OK"

    def received(self) -> list[EmailMessage]:
        with self.lock:
            return list(self.messages)

    def message_ids(self) -> list[str]:
        return [message["Message-ID"] for message in self.received()]

    def held_ids(self) -> list[str]:
        with self.lock:
            return list(self.held)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_smtp_sink(sink: SmtpSink | None = None, **smtp_options) -> tuple[Controller, SmtpSink]:
    """Start the server on a free port (aiosmtpd SMTP options passed on); the caller stops it."""
    sink = sink or SmtpSink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port(), **smtp_options)
    controller.start()
    return controller, sink
