"""The live chat in two real browsers with JavaScript: a lost stream, typing, the estimate,
and the chat inside the marketing site's iframe."""

import re
import threading
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from playwright.sync_api import BrowserContext, Page, expect
from werkzeug.serving import make_server

from crm.extensions import db
from crm.models import ChatMessage
from crm.models.enums import Role
from tests.browser.conftest import TIMEOUT_MS
from tests.chats import open_around_the_clock

STREAM = re.compile(r"/chat/stream")


@pytest.fixture
def visitors(browser, live_server) -> Iterator:
    """Open visitor browsers (JavaScript on), each a context of its own; closed afterwards."""
    contexts: list[BrowserContext] = []

    def open_visitor() -> Page:
        context = browser.new_context(base_url=live_server)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield open_visitor
    for context in contexts:
        context.close()


def start_chat(visitor: Page, name: str = "Maria") -> None:
    visitor.goto("/chat")
    visitor.get_by_label("First name").fill(name)
    visitor.get_by_role("button", name="Start chat").click()
    expect(visitor.locator("#chat-status")).to_contain_text("An advocate will be with you")


def accept_and_open(advocate: Page, name: str = "Maria") -> None:
    advocate.goto("/advocate/chats")
    advocate.locator("#waiting-chats tbody tr", has_text=name).get_by_role(
        "button", name="Accept"
    ).click()
    expect(advocate.get_by_label("Your reply")).to_be_visible()


def reply(advocate: Page, text: str) -> None:
    advocate.get_by_label("Your reply").fill(text)
    advocate.get_by_role("button", name="Send").click()
    expect(advocate.locator("#chat-lines")).to_contain_text(text)


def shown_ids(page: Page) -> list[int]:
    return page.locator("#chat-lines li").evaluate_all(
        "lines => lines.map(line => Number(line.dataset.messageId))"
    )


def test_after_a_lost_stream_every_message_shows_once_in_order(
    app, signed_in, visitors, config_override
):
    open_around_the_clock(config_override)
    # Streams end (and the browser reconnects) every second: the break comes soon.
    config_override(CHAT_STREAM_SECONDS=1)
    advocate = signed_in(Role.advocate, name="Ada Lovelace")
    visitor = visitors()
    start_chat(visitor)
    accept_and_open(advocate)
    expect(visitor.locator("#chat-lines")).to_contain_text("Ada Lovelace joined the chat.")

    # The connection breaks: every new stream fails until it is back.
    visitor.context.route(STREAM, lambda route: route.abort("connectionreset"))
    with visitor.expect_event("requestfailed", lambda request: "/chat/stream" in request.url):
        pass
    texts = ["First, the diagnosis.", "Second, the specialists.", "Third, the costs."]
    for text in texts:
        reply(advocate, text)
    expect(visitor.locator("#chat-lines")).not_to_contain_text(texts[0])

    visitor.context.unroute(STREAM)
    from_advocate = visitor.locator("#chat-lines li.from-advocate .chat-body")
    expect(from_advocate).to_have_text(texts)
    with app.app_context():
        stored = list(db.session.scalars(sa.select(ChatMessage.id).order_by(ChatMessage.id)))
    assert shown_ids(visitor) == stored  # each once, in order
    # A reload shows the same conversation: nothing was lost, nothing doubled.
    visitor.reload()
    assert shown_ids(visitor) == stored


def test_each_side_sees_the_other_typing(signed_in, visitors, config_override):
    open_around_the_clock(config_override)
    advocate = signed_in(Role.advocate, name="Ada Lovelace")
    visitor = visitors()
    start_chat(visitor)
    accept_and_open(advocate)
    expect(visitor.locator("#chat-lines")).to_contain_text("Ada Lovelace joined the chat.")

    visitor.get_by_label("Your message").press_sequentially("Is it")
    expect(advocate.locator("#chat-typing")).to_have_text("Maria is typing…")
    advocate.get_by_label("Your reply").press_sequentially("Let me")
    expect(visitor.locator("#chat-typing")).to_have_text("Ada Lovelace is typing…")
    # The indicator goes once the message it announced arrives.
    advocate.get_by_label("Your reply").fill("Let me check.")
    advocate.get_by_role("button", name="Send").click()
    expect(visitor.locator("#chat-lines")).to_contain_text("Let me check.")
    expect(visitor.locator("#chat-typing")).to_be_hidden()


def test_the_waiting_visitor_sees_the_estimate_change_live(signed_in, visitors, config_override):
    open_around_the_clock(config_override)
    config_override(CHAT_ESTIMATE_REFRESH_SECONDS=1, CHAT_ESTIMATE_DEFAULT_MINUTES=5)
    advocate = signed_in(Role.advocate, name="Ada Lovelace")
    first, second = visitors(), visitors()
    start_chat(first, "Maria")
    start_chat(second, "Joan")
    # One advocate, second in line, no chat accepted lately: two turns of 5 minutes.
    expect(first.locator("#chat-estimate")).to_contain_text("in about 5 minutes")
    expect(second.locator("#chat-estimate")).to_contain_text("in about 10 minutes")

    accept_and_open(advocate, "Maria")
    # Maria was accepted within seconds: Joan is next, and the recent wait is short.
    expect(second.locator("#chat-estimate")).to_have_text("An advocate will be with you shortly.")
    expect(first.locator("#chat-status")).to_contain_text("You are chatting with")


@pytest.fixture
def marketing_site(live_server) -> Iterator[str]:
    """Another site (localhost, not 127.0.0.1) whose page frames /embed/chat; its address.

    Served for real on the loopback interface: Chromium refuses a page of a public address,
    even a faked one, framing one on the loopback (Local Network Access).
    """

    def page(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        frame = f'<iframe src="{live_server}/embed/chat" width="600" height="900" title="Chat">'
        return [f"<h1>Mesothelioma help</h1>{frame}</iframe>".encode()]

    server = make_server("127.0.0.1", 0, page)
    thread = threading.Thread(target=server.serve_forever, name="marketing-site", daemon=True)
    thread.start()
    try:
        yield f"http://localhost:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_visitor_chats_inside_the_marketing_sites_iframe(
    signed_in, visitors, marketing_site, config_override
):
    open_around_the_clock(config_override)
    config_override(EMBED_ORIGINS=[marketing_site])
    advocate = signed_in(Role.advocate, name="Ada Lovelace")
    visitor = visitors()
    # Another site frames the chat: the CRM's session cookie (SameSite=Lax) is not sent.
    visitor.goto(f"{marketing_site}/")
    chat = visitor.frame_locator("iframe")
    chat.get_by_label("First name").fill("Maria")
    chat.get_by_role("button", name="Start chat").click()
    chat.get_by_label("Your message").fill("Hello from the iframe")
    chat.get_by_role("button", name="Send").click()
    expect(chat.locator("#chat-lines")).to_contain_text("Hello from the iframe")

    accept_and_open(advocate)
    expect(advocate.locator("#chat-lines")).to_contain_text("Hello from the iframe")
    reply(advocate, "Hello Maria, I am here.")
    expect(chat.locator("#chat-lines")).to_contain_text("Hello Maria, I am here.")
    advocate.get_by_label("Your reply").press_sequentially("One")
    expect(chat.locator("#chat-typing")).to_have_text("Ada Lovelace is typing…")
    chat.get_by_label("Your message").press_sequentially("Thank")
    expect(advocate.locator("#chat-typing")).to_have_text("Maria is typing…")

    # This Chromium denies a third-party frame its storage too: a reload of the marketing
    # page starts with the pre-chat step again, and nothing breaks (the chat is kept).
    visitor.reload()
    expect(chat.get_by_role("button", name="Start chat")).to_be_visible()
