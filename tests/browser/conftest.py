"""Browser fixtures: the app served on a real port, Debian's Chromium driven by Playwright."""

import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from werkzeug.serving import WSGIRequestHandler, make_server

BROWSER_TESTS = Path(__file__).resolve().parent
CHROMIUM = Path("/usr/bin/chromium")
# No sandbox: CI runs as root, where Chromium refuses to start with one. The rest keep a
# headless run from reaching for the network (updates, sync, QUIC probes) it does not have.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Every wait (navigation, click, expect) gives up after this, so a broken page fails in
# seconds instead of hanging the suite.
TIMEOUT_MS = 10_000
# README pictures; written only with SAVE_SCREENSHOTS=1, so a test run leaves the tree alone.
README_SCREENSHOTS = BROWSER_TESTS.parent.parent / "docs" / "screenshots"


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    """Browser tests run on PostgreSQL only, as production does (tests/conftest.py skips SQLite)."""
    for item in items:
        if BROWSER_TESTS in item.path.parents:
            item.add_marker(pytest.mark.postgres_only)


class _QuietRequestHandler(WSGIRequestHandler):
    """Leave out the per-request log lines: thank-you links carry signed visitor data."""

    def log_request(self, code="-", size="-") -> None:
        pass


@pytest.fixture(scope="session")
def live_server(app) -> Iterator[str]:
    """Serve the test app (PostgreSQL database) on a free port of 127.0.0.1; yield its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietRequestHandler)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's headless Chromium, started once for the session."""
    if not CHROMIUM.exists():
        message = (
            f"{CHROMIUM} is missing: run `make test` or `bash scripts/browser.sh` "
            "to install Debian's chromium"
        )
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            timeout=3 * TIMEOUT_MS,
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser, live_server) -> Iterator[Page]:
    """A fresh tab in its own context (no cookies carried over); relative URLs go to the app."""
    context = browser.new_context(base_url=live_server)
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    tab = context.new_page()
    blocked = watch_policy_violations(tab)
    try:
        yield tab
    finally:
        context.close()
    # Every browser test doubles as a check of the Content-Security-Policy: a script, style
    # or handler the policy blocks is a broken page for real users too.
    assert blocked == [], blocked


def watch_policy_violations(tab: Page) -> list[str]:
    """The Content-Security-Policy violations Chromium reports on this tab, as they happen."""
    blocked: list[str] = []

    def note(message) -> None:
        if "Content Security Policy" in message.text:
            blocked.append(message.text)

    tab.on("console", note)
    return blocked


@pytest.fixture
def screenshot(tmp_path) -> Callable[[Page, str], Path]:
    """Save a page's picture as NAME.png: in docs/screenshots/ with SAVE_SCREENSHOTS=1."""
    folder = README_SCREENSHOTS if os.environ.get("SAVE_SCREENSHOTS") == "1" else tmp_path

    def save(page: Page, name: str) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.png"
        page.screenshot(path=path, full_page=True, animations="disabled", caret="hide")
        return path

    return save


@pytest.fixture
def signed_in(app, page) -> Callable[..., Page]:
    """Create a staff user of a role and sign them in through the real form; return the tab."""
    from crm.models.enums import Role
    from tests.factories import DEFAULT_PASSWORD, make_user

    def sign_in(role: Role = Role.advocate, **fields) -> Page:
        with app.app_context():
            email = make_user(role, **fields).email
        page.goto("/login")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(DEFAULT_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("button", name="Sign out")).to_be_visible()
        return page

    return sign_in
