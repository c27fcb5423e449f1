"""Chat in two real browsers: a visitor without JavaScript, an advocate who accepts and replies."""

import re

import pytest
from playwright.sync_api import expect

from crm.models.enums import Role
from tests.browser.conftest import TIMEOUT_MS
from tests.chats import open_around_the_clock


@pytest.fixture
def visitor_page(browser, live_server):
    """The visitor's own browser, with JavaScript off: the chat must work as plain forms."""
    context = browser.new_context(base_url=live_server, java_script_enabled=False)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


def test_a_visitor_without_javascript_chats_with_an_advocate(
    signed_in, visitor_page, config_override, screenshot
):
    open_around_the_clock(config_override)
    advocate = signed_in(Role.advocate, name="Ada Lovelace")
    visitor = visitor_page

    visitor.goto("/chat")
    visitor.get_by_label("First name").fill("Maria")
    visitor.get_by_role("button", name="Start chat").click()
    expect(visitor.locator("#chat-status")).to_contain_text("An advocate will be with you")
    visitor.get_by_label("Your message").fill("Is surgery possible for pleural <b>meso</b>?")
    visitor.get_by_role("button", name="Send").click()
    expect(visitor.locator("#chat-lines")).to_contain_text("pleural <b>meso</b>?")

    advocate.get_by_role("link", name="Chats").click()
    row = advocate.locator("#waiting-chats tbody tr", has_text="Maria")
    expect(row).to_contain_text("under a minute")
    row.get_by_role("button", name="Accept").click()
    expect(
        advocate.get_by_role("heading", name=re.compile(r"Chat #\d+ with Maria"))
    ).to_be_visible()
    expect(advocate.locator("#chat-lines")).to_contain_text("pleural <b>meso</b>?")
    advocate.get_by_label("Your reply").fill("Often, yes. May I ask a few questions?")
    advocate.get_by_role("button", name="Send").click()
    expect(advocate.locator("#chat-lines")).to_contain_text("May I ask a few questions?")
    screenshot(advocate, "chat-advocate")

    # No JavaScript: the visitor asks for new messages; a reload resumes the same chat.
    visitor.get_by_role("button", name="Show new messages").click()
    expect(visitor.locator("#chat-lines")).to_contain_text("Ada Lovelace")
    expect(visitor.locator("#chat-lines")).to_contain_text("May I ask a few questions?")
    visitor.reload()
    expect(visitor.locator("#chat-lines .chat-line")).to_have_count(3)
    screenshot(visitor, "chat-visitor")

    advocate.get_by_label("Outcome").select_option("helped")
    advocate.get_by_role("button", name="Close the chat").click()
    expect(advocate.get_by_text("The chat is closed.")).to_be_visible()
    visitor.reload()
    expect(visitor.get_by_role("heading", name="Your chat has ended")).to_be_visible()
    expect(visitor.get_by_role("button", name="Start a new chat")).to_be_visible()


def test_with_nobody_online_the_visitor_is_offered_a_callback(page, visitor_page, config_override):
    open_around_the_clock(config_override)
    visitor_page.goto("/chat")

    expect(visitor_page.get_by_text("No patient advocate is online")).to_be_visible()
    visitor_page.get_by_role("link", name="Leave a message and we'll call you").click()
    expect(visitor_page).to_have_url(re.compile(r"/callback$"))


def test_with_javascript_messages_appear_without_a_reload(
    signed_in, browser, live_server, config_override
):
    open_around_the_clock(config_override)
    advocate = signed_in(Role.advocate, name="Ada Lovelace")
    context = browser.new_context(base_url=live_server)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        visitor = context.new_page()
        visitor.goto("/chat")
        visitor.get_by_label("First name").fill("Maria")
        visitor.get_by_role("button", name="Start chat").click()
        # Live: the "Show new messages" button is hidden, the stream does its work.
        expect(visitor.get_by_role("button", name="Show new messages")).to_be_hidden()

        advocate.goto("/advocate/chats")
        advocate.get_by_role("button", name="Accept").click()
        expect(visitor.locator("#chat-lines")).to_contain_text("Ada Lovelace joined the chat.")
        advocate.get_by_label("Your reply").fill("Hello Maria, how can I help?")
        advocate.get_by_role("button", name="Send").click()
        expect(visitor.locator("#chat-lines")).to_contain_text("Hello Maria, how can I help?")

        visitor.get_by_label("Your message").fill("What does treatment cost?")
        visitor.get_by_role("button", name="Send").click()
        expect(advocate.locator("#chat-lines")).to_contain_text("What does treatment cost?")

        advocate.get_by_label("Outcome").select_option("helped")
        advocate.get_by_role("button", name="Close the chat").click()
        expect(visitor.get_by_role("heading", name="Your chat has ended")).to_be_visible()
    finally:
        context.close()
