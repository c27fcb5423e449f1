"""The advocate's side of chat in real browsers: canned replies, transfer, the new-chat notice."""

import re
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from crm.extensions import db
from crm.models import User
from crm.models.enums import Role
from crm.services import staff_sessions
from crm.services.chat.canned_replies import CannedReplyInput, create_reply
from tests.browser.conftest import TIMEOUT_MS
from tests.chats import open_around_the_clock
from tests.factories import DEFAULT_PASSWORD, make_user


@pytest.fixture
def new_tab(app, browser, live_server) -> Iterator:
    """Open tabs in browser contexts of their own (their own cookies): another person each."""
    contexts = []

    def open_tab(*, javascript: bool = True) -> Page:
        context = browser.new_context(base_url=live_server, java_script_enabled=javascript)
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield open_tab
    for context in contexts:
        context.close()


def sign_in(tab: Page, app, role: Role, name: str) -> Page:
    with app.app_context():
        email = make_user(role, name=name).email
    tab.goto("/login")
    tab.get_by_label("Email").fill(email)
    tab.get_by_label("Password").fill(DEFAULT_PASSWORD)
    tab.get_by_role("button", name="Sign in").click()
    expect(tab.get_by_role("button", name="Sign out")).to_be_visible()
    return tab


def start_chat(visitor: Page, first_name: str = "Maria") -> None:
    visitor.goto("/chat")
    visitor.get_by_label("First name").fill(first_name)
    visitor.get_by_role("button", name="Start chat").click()
    expect(visitor.locator("#chat-status")).to_contain_text("An advocate will be with you")


def test_an_advocate_uses_a_canned_reply_then_transfers_the_chat_to_a_colleague(
    app, signed_in, new_tab, config_override
):
    open_around_the_clock(config_override)
    with app.app_context():
        create_reply(CannedReplyInput("Free guide", "Would you like our free guide?"))
        db.session.commit()
    ada = signed_in(Role.advocate, name="Ada Lovelace")
    ben = sign_in(new_tab(), app, Role.advocate, "Ben Franklin")
    visitor = new_tab(javascript=False)
    start_chat(visitor)

    ada.get_by_role("link", name="Chats").click()
    ada.locator("#waiting-chats tbody tr", has_text="Maria").get_by_role(
        "button", name="Accept"
    ).click()
    ada.get_by_label("Your reply").fill("Hello Maria.")
    ada.get_by_label("Canned reply").select_option(label="Free guide")
    ada.get_by_role("button", name="Use").click()
    # In the box, after what was typed, to edit before sending.
    expect(ada.get_by_label("Your reply")).to_have_value(
        "Hello Maria.\n\nWould you like our free guide?"
    )
    ada.get_by_label("Your reply").press("End")
    ada.get_by_label("Your reply").press_sequentially(" It is sent by email.")
    ada.get_by_role("button", name="Send", exact=True).click()
    expect(ada.locator("#chat-lines")).to_contain_text(
        "Would you like our free guide? It is sent by email."
    )

    ada.get_by_label("Transfer to").select_option(label="Ben Franklin")
    ada.get_by_role("button", name="Transfer the chat").click()
    expect(ada.get_by_text("The chat is now with Ben Franklin.")).to_be_visible()
    expect(ada.locator("#my-chats")).to_have_count(0)

    ben.get_by_role("link", name="Chats").click()
    ben.locator("#my-chats").get_by_role("link", name=re.compile("with Maria")).click()
    expect(ben.locator("#chat-lines")).to_contain_text(
        "Transferred from Ada Lovelace to Ben Franklin."
    )
    ben.get_by_label("Your reply").fill("Hi Maria, I'll take it from here.")
    ben.get_by_role("button", name="Send", exact=True).click()

    visitor.get_by_role("button", name="Show new messages").click()
    expect(visitor.locator("#chat-lines")).to_contain_text("You are now chatting with Ben.")
    expect(visitor.locator("#chat-lines")).to_contain_text("I'll take it from here.")
    expect(visitor.locator("#chat-lines")).not_to_contain_text("Transferred from")


def test_the_queue_page_announces_a_new_chat_and_remembers_the_mute(
    app, signed_in, new_tab, config_override
):
    open_around_the_clock(config_override)
    config_override(CHAT_NOTICE_POLL_SECONDS=0.5)
    advocate = signed_in(Role.advocate, name="Ada Lovelace")
    advocate.goto("/advocate/queue")
    banner = advocate.locator("#chat-notice-banner")
    expect(banner).to_be_hidden()
    expect(advocate).to_have_title(re.compile(r"^Call queue"))
    # A click on the page: browsers let it make sounds only after one.
    advocate.get_by_role("heading", name="Call queue").click()

    start_chat(new_tab(javascript=False))

    expect(banner).to_be_visible()
    expect(banner).to_contain_text("1 visitor is waiting to chat.")
    expect(advocate).to_have_title(re.compile(r"^\(1\) Call queue"))
    # The short sound played (chat_notice.js counts each one it plays).
    expect(advocate.locator("#chat-notice")).to_have_attribute("data-sounded", "1")
    mute = advocate.get_by_role("button", name="Mute the new-chat sound")
    mute.click()
    expect(advocate.locator("#chat-notice-mute")).to_have_attribute("aria-pressed", "true")
    advocate.reload()
    # Drawn with the count on render (no JavaScript needed), and the mute remembered.
    expect(banner).to_contain_text("1 visitor is waiting to chat.")
    expect(advocate.get_by_role("button", name="Turn the new-chat sound back on")).to_be_visible()
    advocate.get_by_role("heading", name="Call queue").click()
    start_chat(new_tab(javascript=False), "Linda")
    expect(banner).to_contain_text("2 visitors are waiting to chat.")
    # Muted: the banner and the title change, and no sound (it would be counted by now).
    expect(advocate).to_have_title(re.compile(r"^\(2\) Call queue"))
    expect(advocate.locator("#chat-notice")).not_to_have_attribute("data-sounded", re.compile("."))
    banner.get_by_role("link", name="Go to chats").click()
    expect(advocate.locator("#waiting-chats")).to_contain_text("Maria")

    # The session idles out: the poll stops, and leaves the sign-in page's word for the
    # page the advocate opens next.
    with app.app_context():
        user_id = db.session.scalar(sa.select(User.id).where(User.name == "Ada Lovelace"))
        staff_sessions.end_all(user_id, "idle")
        db.session.commit()
    expect(advocate.locator("#chat-notice")).to_have_attribute("data-stale", "true")
    advocate.reload()
    expect(advocate.get_by_text("Your session ended; please sign in again.")).to_be_visible()


def test_a_manager_keeps_the_canned_replies(signed_in):
    manager = signed_in(Role.manager, name="Priya Raman")
    manager.get_by_role("link", name="Chat replies").click()
    expect(manager.get_by_text("No canned replies yet.")).to_be_visible()
    manager.get_by_role("link", name="Add a canned reply").click()
    manager.get_by_label("Title").fill("Greeting")
    manager.get_by_label("Text").fill("Hello, <b>how</b> can I help?")
    manager.get_by_role("button", name="Add canned reply").click()
    expect(manager.get_by_text("Added “Greeting”.")).to_be_visible()
    expect(manager.locator("#canned-replies")).to_contain_text("Hello, <b>how</b> can I help?")

    manager.get_by_role("link", name="Greeting").click()
    manager.get_by_label("Offered to advocates").uncheck()
    manager.get_by_role("button", name="Save").click()
    expect(manager.locator("#canned-replies")).to_contain_text("Retired")
