"""One round of the chat benchmark: N chats at once, each a conversation of M messages.

Every chat alternates: the visitor writes, the advocate answers, and so on, after a think
time drawn around `think` seconds (people type). A message is timed from just before its
sender's POST leaves until the other side's stream has its id (`id` latency) and, where the
client must fetch the text, until the other side has fetched it (`text` latency). The
receiver starts its fetch the moment the id arrives, whether or not the sender's POST has
answered yet, as crm/static/chat.js does. Everything waits against one deadline.
"""

import asyncio
import random
import re
import time
from collections import Counter
from contextlib import suppress
from dataclasses import dataclass, field

import httpx

from bench.chat_people import (
    BareSide,
    HandSide,
    RealSide,
    Refused,
    Stream,
    Visitor,
    new_client,
)
from bench.load import hidden_fields

# A message a person might type: long enough to be a real one, the same in every target.
TEXT = "My father was just diagnosed with pleural mesothelioma. What should we ask first? #{}"
# A message whose id has not reached the other side by then counts as an error; the chat ends.
MESSAGE_TIMEOUT = 30.0
# How often an advocate with room for another chat looks at the waiting list again.
LIST_REFRESH_SECONDS = 1.0
_WAITING_ROW = re.compile(r'<tr data-chat-id="(\d+)">\s*<td>#\d+</td>\s*<td>([^<]*)</td>')


@dataclass
class Tally:
    id_ms: list[float] = field(default_factory=list)
    text_ms: list[float] = field(default_factory=list)
    start_ms: list[float] = field(default_factory=list)
    accept_wait_ms: list[float] = field(default_factory=list)
    errors: Counter = field(default_factory=Counter)
    accept_taken: int = 0  # an advocate pressed Accept on a chat another had just taken
    first_send: float = float("inf")
    last_delivery: float = 0.0


@dataclass
class Plan:
    chats: int
    messages: int
    think: float
    ramp: float
    deadline: float  # time.monotonic() by which everything has finished


async def converse(visitor, advocate, after: int, plan: Plan, tally: Tally, number: int) -> None:
    """The chat's messages, alternating sides, each timed to the other side's stream."""
    streams = {
        id(visitor): Stream(visitor.client, visitor.stream_url(after)),
        id(advocate): Stream(advocate.client, advocate.stream_url(after)),
    }
    try:
        opening = [asyncio.create_task(s.opened.wait()) for s in streams.values()]
        _, pending = await asyncio.wait(opening, timeout=plan.deadline - time.monotonic())
        for task in pending:
            task.cancel()
        if pending:
            raise TimeoutError
        for stream in streams.values():
            if stream.failed:
                raise Refused(stream.failed)
        for sequence in range(1, plan.messages + 1):
            sender, receiver = (visitor, advocate) if sequence % 2 else (advocate, visitor)
            await asyncio.sleep(plan.think * random.uniform(0.5, 1.5))
            after = await _deliver(
                sender, receiver, streams[id(receiver)], after, plan, tally, number, sequence
            )
    except Refused as refused:
        tally.errors[refused.kind] += 1
    except TimeoutError:
        tally.errors["stream not opened in time"] += 1
    finally:
        for stream in streams.values():
            await stream.close()


async def _deliver(sender, receiver, stream, after, plan, tally, number, sequence) -> int:
    started = time.perf_counter()
    tally.first_send = min(tally.first_send, started)
    post = asyncio.create_task(sender.send(TEXT.format(f"{number}.{sequence}"), sequence))
    deadline = min(plan.deadline, time.monotonic() + MESSAGE_TIMEOUT)
    arrival = asyncio.create_task(stream.next_after(after, deadline))
    try:
        # A send that failed stores nothing: stop waiting for its id at once.
        await asyncio.wait({post, arrival}, return_when=asyncio.FIRST_COMPLETED)
        if post.done() and post.exception() is not None:
            raise post.exception()
        arrived_id, arrived_at = await arrival
        shown = await receiver.has_text(after, arrived_id) if receiver.fetches_text else True
        shown_at = time.perf_counter()
        sent_id = await post
    finally:
        for task in (post, arrival):
            task.cancel()  # nothing if it has finished; its failure is the round's already
            with suppress(asyncio.CancelledError, Refused, httpx.HTTPError):
                await task
    if arrived_id != sent_id:
        raise Refused("another id arrived")
    if not shown:
        raise Refused("text not on the fetched page")
    tally.id_ms.append((arrived_at - started) * 1000)
    if receiver.fetches_text:
        tally.text_ms.append((shown_at - started) * 1000)
    tally.last_delivery = max(tally.last_delivery, shown_at)
    return sent_id


async def _staggered(plan: Plan, number: int) -> None:
    await asyncio.sleep(plan.ramp * number / max(plan.chats, 1))


async def baseline_round(base_url: str, chat_ids: list[int], user_id, plan: Plan) -> Tally:
    """The bare echo (user_id None) or the hand floor: the same conversations, no start."""
    tally = Tally()
    clients = []

    async def chat(number: int, chat_id: int) -> None:
        await _staggered(plan, number)
        visitor_client, advocate_client = new_client(base_url), new_client(base_url)
        clients.extend([visitor_client, advocate_client])
        if user_id is None:
            visitor = BareSide(visitor_client, chat_id)
            advocate = BareSide(advocate_client, chat_id)
        else:
            visitor = HandSide(visitor_client, chat_id, None)
            advocate = HandSide(advocate_client, chat_id, user_id)
        await converse(visitor, advocate, 0, plan, tally, number)

    await _bounded(plan, tally, [chat(n, c) for n, c in enumerate(chat_ids)])
    await asyncio.gather(*(client.aclose() for client in clients))
    return tally


async def real_round(base_url: str, advocates: list[tuple[str, str]], plan: Plan) -> Tally:
    """Advocates sign in; visitors start chats; advocates accept them; they converse."""
    tally = Tally()
    advocate_clients = [new_client(base_url) for _ in advocates]
    signing_in = zip(advocate_clients, advocates, strict=True)
    tokens = await asyncio.gather(*(_sign_in(c, *account) for c, account in signing_in))
    accepted: dict[str, asyncio.Future] = {}
    visitors = [new_client(base_url) for _ in range(plan.chats)]
    share = -(-plan.chats // len(advocates))  # each advocate holds about as many chats

    async def chat(number: int) -> None:
        await _staggered(plan, number)
        visitor = Visitor(visitors[number])
        name = visitor_name(number)
        accepted[name] = asyncio.get_running_loop().create_future()
        started = time.perf_counter()
        try:
            await visitor.start(name)
        except Refused as refused:
            accepted.pop(name).cancel()
            tally.errors[refused.kind] += 1
            return
        waiting_since = time.perf_counter()
        tally.start_ms.append((waiting_since - started) * 1000)
        client, token, chat_id = await accepted[name]
        tally.accept_wait_ms.append((time.perf_counter() - waiting_since) * 1000)
        advocate = RealSide(client, f"/advocate/chats/{chat_id}", token)
        try:
            after = max(await visitor.last_seen(), await advocate.last_seen())
        except Refused as refused:
            tally.errors[refused.kind] += 1
            return
        await converse(visitor, advocate, after, plan, tally, number)

    async def take_chats(index: int, client, token: str) -> None:
        held = 0
        while held < share and time.monotonic() < plan.deadline:
            page = await client.get("/advocate/chats")
            rows = [(int(i), n) for i, n in _WAITING_ROW.findall(page.text) if n in accepted]
            if not rows:
                if all(f.done() for f in accepted.values()) and len(accepted) == plan.chats:
                    return
                await asyncio.sleep(LIST_REFRESH_SECONDS)
                continue
            # Advocates look at different rows first, as people do, rather than all the top one.
            first = index % len(rows)
            for chat_id, name in rows[first:] + rows[:first]:
                answer = await client.post(
                    f"/advocate/chats/{chat_id}/accept", data={"csrf_token": token}
                )
                if answer.headers.get("location", "").endswith(f"/advocate/chats/{chat_id}"):
                    accepted[name].set_result((client, token, chat_id))
                    held += 1
                    break
                tally.accept_taken += 1

    holders = enumerate(zip(advocate_clients, tokens, strict=True))
    takers = [asyncio.create_task(take_chats(i, client, token)) for i, (client, token) in holders]
    await _bounded(plan, tally, [chat(n) for n in range(plan.chats)])
    for taker in takers:
        taker.cancel()
    await asyncio.gather(*takers, return_exceptions=True)
    await asyncio.gather(*(c.aclose() for c in [*advocate_clients, *visitors]))
    return tally


def visitor_name(number: int) -> str:
    """A distinct first name per chat, letters only (names with digits are refused)."""
    letters = ""
    while True:
        number, digit = divmod(number, 26)
        letters = chr(ord("a") + digit) + letters
        if not number:
            return f"Visitor {letters}"


async def _sign_in(client, email: str, password: str) -> str:
    """Sign an advocate in through the real form; the session's CSRF token."""
    page = await client.get("/login")
    _, fields = hidden_fields(page.text)
    answer = await client.post("/login", data={**fields, "email": email, "password": password})
    if answer.status_code not in (302, 303):
        raise SystemExit(f"advocate {email} could not sign in: {answer.status_code}")
    return hidden_fields((await client.get("/advocate/chats")).text)[1]["csrf_token"]


async def _bounded(plan: Plan, tally: Tally, chats: list) -> None:
    """Run the chats; at the deadline cancel what is left and count each as unfinished."""
    tasks = [asyncio.create_task(c) for c in chats]
    _, pending = await asyncio.wait(tasks, timeout=max(plan.deadline - time.monotonic(), 0))
    for task in pending:
        task.cancel()
    if pending:
        tally.errors["unfinished at the deadline"] += len(pending)
        await asyncio.gather(*pending, return_exceptions=True)
    for task in tasks:
        if task.done() and not task.cancelled() and task.exception() is not None:
            tally.errors[f"client {type(task.exception()).__name__}"] += 1
