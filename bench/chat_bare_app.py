"""The chat benchmark's bare stack: a Flask SSE echo through Redis pub/sub, nothing else.

POST /chats/<c>/messages publishes the posted sequence number on the chat's channel and
answers 303 to `#m<seq>`, as the real send does; GET /chats/<c>/stream subscribes and sends
`id: N` for each number published. The same gunicorn (gthread) settings, Redis and event
format as the real app; no database, no session, no CSRF, no rate limit, no page. What the
real chat adds above this is the app's own work. Served by `gunicorn bench.chat_bare_app:app`.
"""

import os
import time
from collections.abc import Callable, Iterator
from functools import cache

import redis
from flask import Flask, Response, redirect, request, stream_with_context

HEARTBEAT_SECONDS = float(os.environ.get("CHAT_HEARTBEAT_SECONDS", "15"))
STREAM_SECONDS = float(os.environ.get("CHAT_STREAM_SECONDS", "300"))
# Apart from the real app's channels (crm/<prefix>/chat/<id>) on a shared Redis server.
CHANNEL = "bench-chat/{}"

app = Flask(__name__)


@cache
def broker() -> redis.Redis:
    # As the app's fan-out: one pooled connection per waiting stream, beyond redis-py's 100.
    url = os.environ["REDIS_URL"]
    return redis.Redis.from_url(url, socket_connect_timeout=0.5, max_connections=10_000)


def event_stream(chat_id: int, read_ids: Callable[[int, str], list[int]]) -> Response:
    """SSE of one chat: subscribe, then `id: N` for every id read_ids(last, notice) returns."""
    last = int(request.args.get("after") or 0)

    def lines() -> Iterator[str]:
        nonlocal last
        deadline = time.monotonic() + STREAM_SECONDS
        yield "retry: 1000\n\n"
        pubsub = broker().pubsub(ignore_subscribe_messages=True)
        try:
            pubsub.subscribe(CHANNEL.format(chat_id))
            notice = ""
            while True:
                for message_id in read_ids(last, notice):
                    last = message_id
                    yield f"id: {message_id}\ndata: {message_id}\n\n"
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return
                message = pubsub.get_message(timeout=min(HEARTBEAT_SECONDS, remaining))
                if message is None:
                    notice = ""
                    yield ": keep-alive\n\n"
                else:
                    notice = message["data"].decode()
        finally:
            pubsub.close()

    return Response(
        stream_with_context(lines()),
        mimetype="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


def publish(chat_id: int, message_id: int) -> None:
    broker().publish(CHANNEL.format(chat_id), str(message_id))


@app.get("/")
def ready():
    """Answer the readiness probe."""
    return "ok"


@app.post("/chats/<int:chat_id>/messages")
def send(chat_id: int):
    """Publish the posted sequence number and redirect, as the real send redirects."""
    message_id = int(request.form["seq"])
    publish(chat_id, message_id)
    return redirect(f"/chats/{chat_id}#m{message_id}", code=303)


@app.get("/chats/<int:chat_id>/stream")
def stream(chat_id: int):
    """The ids published on this chat's channel, as Server-Sent Events."""
    return event_stream(chat_id, lambda last, notice: [int(notice)] if notice else [])
