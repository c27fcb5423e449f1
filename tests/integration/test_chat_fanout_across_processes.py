"""A chat served by two web processes: a message sent through one reaches a stream on the other.

Two gunicorn processes share the test database and Redis, as two web servers behind a load
balancer do. The visitor talks to one, the advocate to the other. The streams re-read the
database only when they start and every CHAT_HEARTBEAT_SECONDS (set here far beyond the
wait), so the second message each side receives, sent once the first has arrived, can only
have come through Redis pub/sub from the other process.
"""

import re
import threading
from contextlib import ExitStack, closing

import pytest
import redis
import sqlalchemy as sa
from flask import Flask

from crm.extensions import db
from crm.models import Chat, ChatMessage
from crm.models.enums import Role
from crm.services.chat import fanout
from tests.conftest import REDIS_TEST_URL
from tests.factories import DEFAULT_PASSWORD, make_user
from tests.web_server import WebClient, web_servers
from tests.worker import wait_until, worker_env

pytestmark = pytest.mark.postgres_only

# Far beyond DELIVERY_TIMEOUT: only the fan-out can deliver within it.
HEARTBEAT_SECONDS = 600
DELIVERY_TIMEOUT = 20


@pytest.fixture
def two_web_processes(app, tmp_path):
    """Two gunicorn processes on the test database and Redis, open around the clock."""
    env = worker_env(
        tmp_path,
        DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"],
        REDIS_URL=REDIS_TEST_URL,
        SECRET_KEY="fan-out-test",
        FORM_MIN_SECONDS=0,
        CHAT_HEARTBEAT_SECONDS=HEARTBEAT_SECONDS,
        CHAT_STREAM_SECONDS=HEARTBEAT_SECONDS,
        # Working hours all day, every day (a federal holiday would still close it: UTC+14
        # and UTC-12 are never both on one).
        ORG_TIME_ZONE="Etc/GMT-14",
        WORKING_HOURS="00:00-23:59:59.999999",
        WORKING_DAYS="mon,tue,wed,thu,fri,sat,sun",
    )
    with web_servers(env, tmp_path, count=2) as servers:
        yield servers


class StreamReader:
    """Read an event stream in a thread of its own; the message ids it has received so far."""

    def __init__(self, response):
        self.ids: list[int] = []
        self._response = response
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        with closing(self._response):
            for line in self._response:
                if line.startswith(b"id: "):
                    self.ids.append(int(line[4:]))


def last_id(page: str) -> int:
    return int(re.search(r'data-last-id="(\d+)"', page).group(1))


def test_a_message_posted_through_one_process_reaches_a_stream_on_the_other(app, two_web_processes):
    visitor_server, advocate_server = two_web_processes
    with app.app_context():
        email = make_user(Role.advocate, name="Ada Lovelace").email
    advocate, visitor = WebClient(advocate_server), WebClient(visitor_server)
    advocate.submit("/login", "/login", {"email": email, "password": DEFAULT_PASSWORD})
    visitor.submit("/chat", "/chat/start", {"first_name": "Maria"})
    with app.app_context():
        chat_id = db.session.scalar(sa.select(Chat.id))
    advocate.submit("/advocate/chats", f"/advocate/chats/{chat_id}/accept", {})
    conversation = f"/advocate/chats/{chat_id}"

    # The visitor listens on the first process; the advocate replies through the second.
    visitor_stream = listen(visitor, f"/chat/stream?after={last_id(visitor.get('/chat'))}", chat_id)
    for text in ("Hello Maria.", "How can I help?"):
        advocate.submit(conversation, f"{conversation}/messages", {"body": text})
        reply = newest_message_id(app)
        wait_until(lambda reply=reply: reply in visitor_stream.ids, DELIVERY_TIMEOUT)
        assert text in visitor.get("/chat")

    # And the other way: the advocate listens on the second; the visitor writes to the first.
    seen = last_id(advocate.get(conversation))
    advocate_stream = listen(advocate, f"{conversation}/stream?after={seen}", chat_id)
    for text in ("What does treatment cost?", "Is it covered?"):
        visitor.submit("/chat", "/chat/messages", {"body": text})
        question = newest_message_id(app)
        wait_until(lambda q=question: q in advocate_stream.ids, DELIVERY_TIMEOUT)
        assert text in advocate.get(conversation)


def listen(person: WebClient, path: str, chat_id: int) -> StreamReader:
    """Open the stream and return once its process has subscribed to the chat's channel."""
    before = subscribers(chat_id)
    reader = StreamReader(person.open_stream(path))
    wait_until(lambda: subscribers(chat_id) > before, DELIVERY_TIMEOUT)
    return reader


def subscribers(chat_id: int) -> int:
    """Streams subscribed to this chat's Redis channel, in any process."""
    # The servers run the development config: no key prefix, as in this bare app's context.
    with Flask(__name__).app_context():
        channel = fanout._channel(chat_id)
    [(_, count)] = redis.Redis.from_url(REDIS_TEST_URL).pubsub_numsub(channel)
    return count


def newest_message_id(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.max(ChatMessage.id)))


def test_one_process_holds_more_streams_than_a_default_redis_pool(app):
    """redis-py pools 100 connections unless told; each waiting stream holds one."""
    streams = 150
    with app.app_context(), ExitStack() as stack:
        waits = [stack.enter_context(fanout.listen(7)) for _ in range(streams)]
        fanout.publish(7, 1)
        # The first read may be the subscription's own confirmation: ask again until the notice.
        wait_until(lambda: waits[-1](1), DELIVERY_TIMEOUT)
