"""The canary: a visitor's unique words, then a search of everywhere they could have leaked.

A visitor fills in every field of the three forms, and chats, with strings found nowhere
else, through a real HTTP server, and a real Celery worker sends what follows. Then the app's
logs (INFO and up, DEBUG from crm.*), the server's access log, the worker's log (at DEBUG,
where Celery prints each task's message and arguments), every key and value of both Redis
databases, and a `pg_dump` of the database are searched. Names, emails and phones may only be
in their own columns; the free text (message, treatment, mailing address) may be
nowhere in plain text at all (chat messages included).
"""

import base64
import http.cookiejar
import json
import logging
import secrets
import subprocess
import threading
import urllib.parse
import urllib.request

import pytest
import redis
import sqlalchemy as sa
from werkzeug.serving import WSGIRequestHandler, make_server

from crm.extensions import db
from crm.models import ChatMessage, OutboxMessage
from crm.models.enums import ChatSender, OutboxStatus, Role
from tests.chats import open_around_the_clock
from tests.conftest import REDIS_TEST_URL
from tests.forms import CALLBACK, GUIDE, SPECIALIST, _FormFields
from tests.staff import signed_in
from tests.worker import WORKER_REDIS_URL, wait_until, worker_for

pytestmark = pytest.mark.postgres_only

TAG = secrets.token_hex(4)
LETTERS = "".join(chr(ord("a") + int(c, 16)) for c in TAG)  # names take letters only
NAMES = {"first_name": f"Qzfirst{LETTERS}", "last_name": f"Qzlast{LETTERS}"}
EMAIL = f"qz.canary.{TAG}@example.org"
# 555-0100 to 555-0198: fictional numbers (555-0199 is the organisation's own).
LINE = f"01{secrets.randbelow(99):02d}"
PHONE = f"(617) 555-{LINE}"
FREE_TEXT = {
    "message": f"qzmessage-{TAG} my father worked at the shipyard",
    "current_treatment": f"qztreatment-{TAG} pemetrexed",
    "address_line1": f"qzstreet-{TAG} 12 Elm Street",
    "address_line2": f"qzapartment-{TAG}",
    "city": f"Qzcity{LETTERS}",
    "chat": f"qzchat-{TAG} is surgery still possible at stage 3",
}
# Where a person's identity may be stored: matching and calling need it in the clear.
IDENTITY_COLUMNS = {
    ("contacts", "first_name"),
    ("contacts", "last_name"),
    ("contacts", "email"),
    ("contacts", "phone_e164"),
    ("chats", "visitor_name"),  # the first name the chat's visitor gave
}


def identity_markers() -> list[str]:
    return [*NAMES.values(), EMAIL, f"617555{LINE}", f"617) 555-{LINE}", f"617-555-{LINE}"]


def free_text_markers() -> list[str]:
    return [text.split()[0] for text in FREE_TEXT.values()]


class _Recorded(WSGIRequestHandler):
    lines: list[str] = []

    def log(self, type, message, *args):
        self.lines.append(message % args)


class Visitor:
    """A browser without JavaScript: cookies, the form's hidden fields, plain POSTs."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )

    def submit(self, path: str, answers: dict[str, str]) -> int:
        page = self.opener.open(self.base + path).read().decode()
        fields = _FormFields()
        fields.feed(page)
        body = urllib.parse.urlencode({**fields.values, **answers}).encode()
        with self.opener.open(self.base + (fields.action or path), data=body) as response:
            return response.status

    def chat(self, answers: dict[str, str], message: str) -> int:
        """Start a chat from the pre-chat step, then send one message in it."""
        self._post("/chat/start", self._hidden_fields("/chat") | answers)
        return self._post("/chat/messages", self._hidden_fields("/chat") | {"body": message})

    def _hidden_fields(self, path: str) -> dict[str, str]:
        fields = _FormFields()
        fields.feed(self.opener.open(self.base + path).read().decode())
        return fields.values

    def _post(self, path: str, values: dict[str, str]) -> int:
        body = urllib.parse.urlencode(values).encode()
        with self.opener.open(self.base + path, data=body) as response:
            return response.status


@pytest.fixture
def recorded_logs():
    """Every record emitted in this process as production would log it: INFO and up, and
    DEBUG too from our own code (crm.*), as text."""
    lines: list[str] = []
    handler = logging.Handler(logging.DEBUG)

    def emit(record: logging.LogRecord) -> None:
        # aiosmtpd ("mail.log") is the mail server the test stands up, not part of the app.
        if not record.name.startswith("mail."):
            lines.append(logging.Formatter().format(record))

    handler.emit = emit
    root, ours = logging.getLogger(), logging.getLogger("crm")
    levels = root.level, ours.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    ours.setLevel(logging.DEBUG)
    try:
        yield lines
    finally:
        root.removeHandler(handler)
        root.setLevel(levels[0])
        ours.setLevel(levels[1])


@pytest.fixture
def server(app):
    _Recorded.lines = []
    http_server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_Recorded)
    thread = threading.Thread(target=http_server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{http_server.server_port}"
    finally:
        http_server.shutdown()
        http_server.server_close()


def test_a_visitors_words_stay_in_their_columns(
    app, server, smtp_sink, tmp_path, config_override, recorded_logs
):
    config_override(SUBMIT_LIMIT_PER_CONTACT="1000/hour")
    open_around_the_clock(config_override)
    with app.app_context():
        signed_in(app, Role.advocate)  # someone to chat with: the chat opens
    visitor = Visitor(server)
    person = {**NAMES, "email": EMAIL, "phone": PHONE}
    consent = {"consent_email": "y", "consent_calls": "y"}
    guide = {
        **GUIDE,
        **person,
        **consent,
        "printed_guide": "y",
        "address_line1": FREE_TEXT["address_line1"],
        "address_line2": FREE_TEXT["address_line2"],
        "city": FREE_TEXT["city"],
        "address_state": "MA",
        "address_zip": "02110",
    }
    callback = {**CALLBACK, **person, **consent, "message": FREE_TEXT["message"]}
    specialist = {
        **SPECIALIST,
        **person,
        **consent,
        "current_treatment": FREE_TEXT["current_treatment"],
    }
    with worker_for(
        app.config["SQLALCHEMY_DATABASE_URI"],
        tmp_path,
        smtp_url=app.config["SMTP_URL"],
        # At DEBUG Celery prints each task's arguments as the pool runs it.
        loglevel="debug",
        LOG_LEVEL="DEBUG",
        OUTBOX_RELAY_INTERVAL_SECONDS=0.5,
    ) as worker:
        for path, answers in [
            ("/guide", guide),
            ("/callback", callback),
            ("/specialist-match", specialist),
        ]:
            assert visitor.submit(path, answers) == 200  # the thank-you, after the redirect
        chat_answers = {**NAMES, "email": EMAIL, "consent_email": "y"}
        assert visitor.chat(chat_answers, FREE_TEXT["chat"]) == 200
        wait_until(lambda: _sent_count(app) >= 3, 20)
        redis_text = _every_redis_value(REDIS_TEST_URL) + _every_redis_value(WORKER_REDIS_URL)
        worker_log = worker.log_path.read_text(errors="replace")

    places = {
        "app logs": "\n".join(recorded_logs),
        "access log": "\n".join(_Recorded.lines),
        "worker log": worker_log,
        "redis": redis_text,
    }
    # The searches saw something: the app's lines, the requests, each task's arguments.
    assert recorded_logs and _Recorded.lines
    assert "'task': 'outbox.deliver'" in worker_log and "'argsrepr': '(" in worker_log
    for place, text in places.items():
        for marker in identity_markers() + free_text_markers():
            assert marker.lower() not in text.lower(), f"{marker!r} leaked into the {place}"

    with app.app_context():
        said = db.session.scalars(
            sa.select(ChatMessage.body).where(ChatMessage.sender == ChatSender.visitor)
        ).all()
    assert said == [FREE_TEXT["chat"]]  # the chat really happened, and reads back whole
    dump = _pg_dump(app)
    for marker in free_text_markers():
        assert marker.lower() not in dump.lower(), f"{marker!r} is in the database in plain text"
    with app.app_context():
        found = _columns_holding(identity_markers())
    assert found <= IDENTITY_COLUMNS, found - IDENTITY_COLUMNS
    assert found == IDENTITY_COLUMNS  # and the search did find them where they belong


def _sent_count(app) -> int:
    with app.app_context():
        count = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.status == OutboxStatus.sent)
        )
        db.session.remove()
    return count


def _every_redis_value(url: str) -> str:
    """Every key and value of a Redis database, Celery's base64 bodies decoded, as text."""
    client = redis.Redis.from_url(url)
    parts = []
    for key in client.scan_iter(count=1000):
        values = _values_of(client, key)
        parts.append(key.decode(errors="replace"))
        for value in values:
            text = value.decode(errors="replace") if isinstance(value, bytes) else str(value)
            parts.append(text)
            try:
                body = json.loads(text).get("body")
                parts.append(base64.b64decode(body).decode(errors="replace"))
            except (ValueError, AttributeError, TypeError):
                pass
    return "\n".join(parts)


def _values_of(client: redis.Redis, key: bytes) -> list:
    kind = client.type(key).decode()
    if kind == "string":
        return [client.get(key)]
    if kind == "list":
        return client.lrange(key, 0, -1)
    if kind == "hash":
        return [*client.hkeys(key), *client.hvals(key)]
    if kind == "set":
        return list(client.smembers(key))
    if kind == "zset":
        return client.zrange(key, 0, -1)
    return [client.dump(key)]


def _pg_dump(app) -> str:
    url = sa.engine.make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    result = subprocess.run(
        ["pg_dump", "-h", url.host, "-p", str(url.port or 5432), "-U", url.username, url.database],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return result.stdout


def _columns_holding(markers: list[str]) -> set[tuple[str, str]]:
    """Every (table, column) of the database where any of the markers occurs."""
    columns = db.session.execute(
        sa.text(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = 'public'"
        )
    ).all()
    params = {f"m{n}": marker.lower() for n, marker in enumerate(markers)}
    found = set()
    for table, column in columns:
        text = f'lower(CAST("{column}" AS text))'
        anywhere = " OR ".join(f"strpos({text}, :{name}) > 0" for name in params)
        hit = db.session.scalar(
            sa.text(f'SELECT 1 FROM "{table}" WHERE {anywhere} LIMIT 1'), params
        )
        if hit:
            found.add((table, column))
    db.session.remove()
    return found
