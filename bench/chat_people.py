"""The chat benchmark's people: one side of a chat each, over httpx on one asyncio loop.

A side sends a message with a POST and learns its id from the redirect (`...#m<id>`), as the
browser does; it listens on its chat's event stream; and, for the real app and the hand
floor, it fetches the text of a message it was told about (the real client fetches its
conversation page again, as crm/static/chat.js does, with the same X-Chat-Refresh header).
"""

import asyncio
import re
import time
from contextlib import suppress

import httpx

from bench.load import hidden_fields

REQUEST_TIMEOUT = httpx.Timeout(30.0)
# A stream is quiet between messages: no read timeout beyond a few heartbeats.
STREAM_TIMEOUT = httpx.Timeout(30.0, read=120.0)
_LAST_ID = re.compile(r'data-last-id="(\d+)"')
_MESSAGE_ID = re.compile(r"#m(\d+)$")


class Refused(Exception):
    """The server answered something a person would see as a failure; `kind` names it."""

    def __init__(self, kind: str):
        super().__init__(kind)
        self.kind = kind


def new_client(base_url: str) -> httpx.AsyncClient:
    """One person's browser: a cookie jar and as many connections as its streams need."""
    # Idle connections are dropped before gunicorn's keep-alive (2 s) would close them under
    # a request just sent, which a browser retries but httpx reports as an error.
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=20, keepalive_expiry=1.0)
    return httpx.AsyncClient(base_url=base_url, timeout=REQUEST_TIMEOUT, limits=limits)


def message_id(response: httpx.Response, what: str) -> int:
    """The id of the message just stored, from the send's redirect."""
    found = _MESSAGE_ID.search(response.headers.get("location", ""))
    if response.status_code not in (302, 303) or found is None:
        raise Refused(f"{what} {response.status_code}")
    return int(found.group(1))


def last_id(page: str) -> int:
    found = _LAST_ID.search(page)
    return int(found.group(1)) if found else 0


class Stream:
    """An event stream read in a task of its own: the ids received and when each arrived."""

    def __init__(self, client: httpx.AsyncClient, url: str):
        self.ids: list[int] = []
        self.arrived: dict[int, float] = {}
        self.failed: str | None = None
        self.opened = asyncio.Event()
        self._changed = asyncio.Event()
        self._task = asyncio.create_task(self._read(client, url))

    async def _read(self, client: httpx.AsyncClient, url: str) -> None:
        headers = {"Accept": "text/event-stream"}
        try:
            async with client.stream("GET", url, headers=headers, timeout=STREAM_TIMEOUT) as answer:
                if answer.status_code != 200:
                    raise Refused(f"stream {answer.status_code}")
                async for line in answer.aiter_lines():
                    if line.startswith("retry:"):
                        self.opened.set()
                    elif line.startswith("id: "):
                        number = int(line[4:])
                        self.arrived[number] = time.perf_counter()
                        self.ids.append(number)
                        self._changed.set()
                raise Refused("stream ended")
        except Refused as refused:
            self.failed = refused.kind
        except httpx.HTTPError as error:
            self.failed = f"stream {type(error).__name__}: {str(error)[:60]}"
        self.opened.set()
        self._changed.set()

    async def next_after(self, after: int, deadline: float) -> tuple[int, float]:
        """The first id above `after` and when it arrived; waits for it until the deadline."""
        while True:
            for number in self.ids:
                if number > after:
                    return number, self.arrived[number]
            if self.failed:
                raise Refused(self.failed)
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), deadline - time.monotonic())
            except TimeoutError:
                raise Refused("not delivered in time") from None

    async def close(self) -> None:
        self._task.cancel()
        with suppress(asyncio.CancelledError):
            await self._task


class BareSide:
    """A side of a chat on the bare echo: POST publishes a sequence number, no text."""

    fetches_text = False

    def __init__(self, client: httpx.AsyncClient, chat_id: int):
        self.client, self.chat_id = client, chat_id

    def stream_url(self, after: int) -> str:
        return f"/chats/{self.chat_id}/stream?after={after}"

    async def send(self, text: str, sequence: int) -> int:
        answer = await self.client.post(f"/chats/{self.chat_id}/messages", data={"seq": sequence})
        return message_id(answer, "send")


class HandSide(BareSide):
    """A side of a chat on the hand floor: the row by plain SQL, its text read back by id."""

    fetches_text = True

    def __init__(self, client: httpx.AsyncClient, chat_id: int, user_id: int | None):
        super().__init__(client, chat_id)
        self.user_id = user_id

    async def send(self, text: str, sequence: int) -> int:
        data = {"body": text, **({"user_id": self.user_id} if self.user_id else {})}
        answer = await self.client.post(f"/chats/{self.chat_id}/messages", data=data)
        return message_id(answer, "send")

    async def has_text(self, after: int, number: int) -> bool:
        answer = await self.client.get(f"/chats/{self.chat_id}/messages?after={after}")
        return answer.status_code == 200 and number in {row["id"] for row in answer.json()}


class RealSide:
    """A side of a chat in the real app: the visitor's /chat or an advocate's conversation."""

    fetches_text = True

    def __init__(self, client: httpx.AsyncClient, page: str, csrf_token: str):
        self.client, self.page, self.csrf_token = client, page, csrf_token

    def stream_url(self, after: int) -> str:
        return f"{self.page}/stream?after={after}"

    async def send(self, text: str, sequence: int) -> int:
        data = {"csrf_token": self.csrf_token, "body": text}
        answer = await self.client.post(f"{self.page}/messages", data=data)
        return message_id(answer, "send")

    async def has_text(self, after: int, number: int) -> bool:
        # What chat.js does on each notice: the lines after the last one it has.
        answer = await self.client.get(f"{self.page}/lines?after={after}")
        return answer.status_code == 200 and f'id="m{number}"' in answer.text

    async def last_seen(self) -> int:
        answer = await self.client.get(self.page)
        if answer.status_code != 200:
            raise Refused(f"page {answer.status_code}")
        return last_id(answer.text)


class Visitor(RealSide):
    """A visitor in the real app: the pre-chat step, then the conversation at /chat."""

    def __init__(self, client: httpx.AsyncClient):
        super().__init__(client, "/chat", "")

    def stream_url(self, after: int) -> str:
        return f"/chat/stream?after={after}"

    async def start(self, first_name: str) -> None:
        """GET the pre-chat step (CSRF and form tokens), POST it, land in the conversation."""
        page = await self.client.get("/chat")
        action, fields = hidden_fields(page.text)
        if page.status_code != 200 or action != "/chat/start":
            raise Refused(f"start page {page.status_code}")
        answer = await self.client.post(action, data={**fields, "first_name": first_name})
        if answer.status_code != 303:
            raise Refused(f"start {answer.status_code}")
        conversation = await self.client.get("/chat")
        self.csrf_token = hidden_fields(conversation.text)[1].get("csrf_token", "")
