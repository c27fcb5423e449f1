"""The Server-Sent Events stream of one chat: "message N" for each new id, nothing else.

Bounded: it ends after CHAT_STREAM_SECONDS (the browser's EventSource reconnects and sends
Last-Event-ID, the last id it saw), so no web thread is held for ever and deploys drain.
Between notices it sends a comment line every CHAT_HEARTBEAT_SECONDS, which keeps proxies
from closing an idle connection, and it re-reads the database at each one, so a notice lost
by the fan-out costs one heartbeat, never a message. The database connection goes back to
the pool between reads: a waiting stream holds a thread, not a connection.
"""

import time
from collections.abc import Iterator

import sqlalchemy as sa
from flask import current_app

from crm.extensions import db
from crm.models import ChatMessage
from crm.services.chat import fanout

# Sent first: how long the browser waits before reconnecting after the stream ends.
_RECONNECT_MS = 1000
_BATCH = 200


def resume_point(last_event_id: str | None, after: str | None) -> int:
    """The last message id the client saw: its Last-Event-ID, else ?after=, else 0."""
    for value in (last_event_id, after):
        if value and value.isdigit() and len(value) < 19:
            return int(value)
    return 0


def message_events(chat_id: int, last_id: int) -> Iterator[str]:
    """Yield the stream's lines until its lifetime is over."""
    config = current_app.config
    deadline = time.monotonic() + config["CHAT_STREAM_SECONDS"]
    heartbeat = config["CHAT_HEARTBEAT_SECONDS"]
    yield f"retry: {_RECONNECT_MS}\n\n"
    with fanout.listen(chat_id) as wait:
        while True:
            for message_id in _ids_after(chat_id, last_id):
                last_id = message_id
                yield f"id: {message_id}\ndata: {message_id}\n\n"
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            if not wait(min(heartbeat, remaining)):
                yield ": keep-alive\n\n"


def _ids_after(chat_id: int, last_id: int) -> list[int]:
    try:
        return list(
            db.session.scalars(
                sa.select(ChatMessage.id)
                .where(ChatMessage.chat_id == chat_id, ChatMessage.id > last_id)
                .order_by(ChatMessage.id)
                .limit(_BATCH)
            )
        )
    finally:
        # Back to the pool while the stream waits.
        db.session.close()
