"""The Server-Sent Events stream of one chat: "message N" for each new id, "typing" for the
other side's typing, nothing else.

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
SIDES = ("visitor", "advocate")


def resume_point(last_event_id: str | None, after: str | None) -> int:
    """The last message id the client saw: its Last-Event-ID, else ?after=, else 0."""
    for value in (last_event_id, after):
        if value and value.isdigit() and len(value) < 19:
            return int(value)
    return 0


def message_events(chat_id: int, last_id: int, viewer: str = "visitor") -> Iterator[str]:
    """Yield the stream's lines until its lifetime is over.

    `viewer` is the side this stream serves: it hears the other side typing, not its own.
    A typing event is named (`event: typing`) and has no id, so it never moves the
    Last-Event-ID a reconnect resumes from.
    """
    config = current_app.config
    now = time.monotonic()
    deadline = now + config["CHAT_STREAM_SECONDS"]
    heartbeat = config["CHAT_HEARTBEAT_SECONDS"]
    others_typing = fanout.typing_notice(SIDES[1] if viewer == SIDES[0] else SIDES[0])
    yield f"retry: {_RECONNECT_MS}\n\n"
    with fanout.listen(chat_id) as wait:
        read_database = True
        next_heartbeat = now + heartbeat
        while True:
            if read_database:
                for message_id in _ids_after(chat_id, last_id):
                    last_id = message_id
                    yield f"id: {message_id}\ndata: {message_id}\n\n"
            now = time.monotonic()
            if now >= deadline:
                return
            if now >= next_heartbeat:
                yield ": keep-alive\n\n"
                next_heartbeat = now + heartbeat
            notices = wait(min(next_heartbeat, deadline) - now)
            if others_typing in notices:
                yield f"event: typing\ndata: {others_typing.removeprefix(fanout.TYPING_PREFIX)}\n\n"
            # Typing alone needs no read; a message notice, or a quiet heartbeat, does.
            read_database = not notices or any(
                not notice.startswith(fanout.TYPING_PREFIX) for notice in notices
            )


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
