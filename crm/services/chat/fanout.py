"""Tell the streams showing a chat that it has a new message (ids only, after the commit)
or that one side is typing (never stored, never in the database).

Production fans out through Redis pub/sub, so a message committed by one web process wakes
the streams held by every other; on the embedded defaults (no REDIS_URL) an in-process
fan-out does the same within the one process. Either way a notice only says "chat C has
message N" (the digits of N) or "in chat C, the visitor (or the advocate) is typing"
(`typing:visitor`, `typing:advocate`): the stream reads the messages from the database, and
re-reads it at every heartbeat anyway, so a lost notice delays a message by one heartbeat and
loses nothing; a lost typing notice only hides an indicator that is a nicety anyway.
"""

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache

import redis
import sqlalchemy as sa
from flask import current_app

from crm.extensions import db

log = logging.getLogger(__name__)
_PENDING = "chat_notices"


class _InProcess:
    """Waiting streams of this process, per chat."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiters: dict[int, set[queue.SimpleQueue]] = {}

    def publish(self, chat_id: int, notice: str) -> None:
        with self._lock:
            for waiter in self._waiters.get(chat_id, ()):
                waiter.put(notice)

    @contextmanager
    def listen(self, chat_id: int) -> Iterator[Callable[[float], list[str]]]:
        waiter: queue.SimpleQueue = queue.SimpleQueue()
        with self._lock:
            self._waiters.setdefault(chat_id, set()).add(waiter)

        def wait(seconds: float) -> list[str]:
            try:
                notices = [waiter.get(timeout=max(seconds, 0))]
            except queue.Empty:
                return []
            while not waiter.empty():
                notices.append(waiter.get_nowait())
            return notices

        try:
            yield wait
        finally:
            with self._lock:
                self._waiters[chat_id].discard(waiter)
                if not self._waiters[chat_id]:
                    del self._waiters[chat_id]


_in_process = _InProcess()


def notify_after_commit(chat_id: int, message_id: int) -> None:
    """Publish this message's id once the current transaction commits (never before)."""
    db.session.info.setdefault(_PENDING, []).append((chat_id, str(message_id)))


TYPING_PREFIX = "typing:"


def typing_notice(side: str) -> str:
    """The notice saying that this side ("visitor" or "advocate") is typing."""
    return f"{TYPING_PREFIX}{side}"


def publish(chat_id: int, notice: str) -> None:
    """Wake the streams showing this chat, in every process (Redis) or in this one."""
    url = current_app.config.get("REDIS_URL")
    if url:
        try:
            _redis(url).publish(_channel(chat_id), notice)
            return
        except redis.RedisError as error:
            # The streams re-read the database at every heartbeat: late, never lost.
            log.warning("chat fan-out through Redis failed (%s)", type(error).__name__)
    _in_process.publish(chat_id, notice)


@contextmanager
def listen(chat_id: int) -> Iterator[Callable[[float], list[str]]]:
    """A `wait(seconds)` returning the notices for this chat announced meanwhile ([]: none)."""
    url = current_app.config.get("REDIS_URL")
    if not url:
        with _in_process.listen(chat_id) as wait:
            yield wait
        return
    pubsub = _redis(url).pubsub(ignore_subscribe_messages=True)
    try:
        pubsub.subscribe(_channel(chat_id))

        def wait(seconds: float) -> list[str]:
            # get_message answers None for the subscription's own confirmation too: wait on
            # until a notice comes or the time is up, then take whatever else is there.
            notices: list[str] = []
            deadline = time.monotonic() + max(seconds, 0)
            try:
                while not notices:
                    message = pubsub.get_message(timeout=max(deadline - time.monotonic(), 0))
                    while message is not None:
                        notices.append(message["data"].decode("ascii", "replace"))
                        message = pubsub.get_message(timeout=0)
                    if time.monotonic() >= deadline:
                        break
            except redis.RedisError:
                # Redis is away: wait out the time anyway, so the stream re-reads the
                # database once per wait instead of spinning on it.
                time.sleep(max(deadline - time.monotonic(), 0))
            return notices

        yield wait
    finally:
        pubsub.close()


def _channel(chat_id: int) -> str:
    # Pub/sub channels are server-wide (not per database): the app's prefix keeps them apart.
    prefix = current_app.config.get("RATELIMIT_KEY_PREFIX", "")
    return f"crm/{prefix}/chat/{chat_id}"


# Every waiting stream holds one pooled connection (its subscription), and redis-py caps a
# pool at 100 unless told: a worker's 101st stream would fail. Its threads bound its streams;
# Redis's maxclients (10,000 by default) bounds them all.
_MAX_CONNECTIONS = 10_000


@cache
def _redis(url: str) -> redis.Redis:
    return redis.Redis.from_url(
        url,
        socket_connect_timeout=0.5,
        health_check_interval=30,
        max_connections=_MAX_CONNECTIONS,
    )


@sa.event.listens_for(db.session, "after_commit")
def _publish_committed(session) -> None:
    for chat_id, notice in session.info.pop(_PENDING, []):
        publish(chat_id, notice)


@sa.event.listens_for(db.session, "after_soft_rollback")
def _forget_rolled_back(session, previous_transaction) -> None:
    if previous_transaction.parent is None:
        session.info.pop(_PENDING, None)
