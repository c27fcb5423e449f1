"""The chat benchmark's floor: the real chat's storage and delivery by hand, in plain SQL.

POST /chats/<c>/messages inserts the message row (one INSERT ... RETURNING, commit) and then
publishes its id on Redis; GET /chats/<c>/stream subscribes and, on each notice, reads the
chat's ids after the last one sent (the real stream's read, along ix_chat_messages_chat_id_id);
GET /chats/<c>/messages?after=N answers the text of the messages after N (what the real
client fetches the page for). No ORM, no session, no CSRF, no rate limit, no template, no
audit row; the same engine options, gunicorn settings, Redis and event format as the app.
Served by `gunicorn bench.chat_hand_app:app`.
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from flask import Flask, jsonify, redirect, request

from bench.bare_app import engine
from bench.chat_bare_app import event_stream, publish

_INSERT = sa.text(
    """INSERT INTO chat_messages (chat_id, sender, user_id, body, created_at)
    VALUES (:chat_id, :sender, :user_id, :body, :now) RETURNING id"""
)
_IDS_AFTER = sa.text(
    "SELECT id FROM chat_messages WHERE chat_id = :chat_id AND id > :after ORDER BY id LIMIT 200"
)
_TEXT_AFTER = sa.text(
    """SELECT id, body FROM chat_messages WHERE chat_id = :chat_id AND id > :after
    ORDER BY id LIMIT 200"""
)

app = Flask(__name__)


@app.get("/")
def ready():
    """Answer the readiness probe without touching the database."""
    return "ok"


@app.post("/chats/<int:chat_id>/messages")
def send(chat_id: int):
    """Store the message, commit, then publish its id; redirect as the real send does."""
    user_id = request.form.get("user_id", type=int)
    row = {
        "chat_id": chat_id,
        "sender": "advocate" if user_id else "visitor",
        "user_id": user_id,
        "body": request.form["body"],
        "now": datetime.now(UTC),
    }
    with engine().begin() as connection:
        message_id = connection.scalar(_INSERT, row)
    publish(chat_id, message_id)
    return redirect(f"/chats/{chat_id}#m{message_id}", code=303)


@app.get("/chats/<int:chat_id>/stream")
def stream(chat_id: int):
    """The chat's new message ids, read from the table on each notice, as Server-Sent Events."""

    def ids_after(last: int, notice: str) -> list[int]:
        with engine().connect() as connection:
            return list(connection.scalars(_IDS_AFTER, {"chat_id": chat_id, "after": last}))

    return event_stream(chat_id, ids_after)


@app.get("/chats/<int:chat_id>/messages")
def texts(chat_id: int):
    """The messages after ?after=N, as JSON: what the client shows, with their ids."""
    after = request.args.get("after", 0, type=int)
    with engine().connect() as connection:
        rows = connection.execute(_TEXT_AFTER, {"chat_id": chat_id, "after": after}).all()

    return jsonify([{"id": row.id, "body": row.body} for row in rows])
