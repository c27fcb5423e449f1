"""A staff member's browser against the production configuration over HTTPS.

What the issue asks a new user to see: on a staff page, the security headers and a session
cookie that is __Host- prefixed, Secure, HttpOnly and SameSite=Lax; and no page the staff
use breaks under the Content-Security-Policy (Chromium reports every blocked script or style
on the console).
"""

import ssl
import threading
from collections.abc import Iterator

import pytest
import trustme
from playwright.sync_api import expect
from werkzeug.serving import make_server

from crm.models.enums import Role
from tests.browser.conftest import TIMEOUT_MS, _QuietRequestHandler, watch_policy_violations
from tests.factories import DEFAULT_PASSWORD, make_user
from tests.unit.test_config import GOOD_PRODUCTION


@pytest.fixture
def production_server(make_app, app, monkeypatch) -> Iterator[str]:
    """The production app served over HTTPS on 127.0.0.1 with a certificate of a test CA."""
    for name, value in GOOD_PRODUCTION.items():
        monkeypatch.setenv(name, value)
    production = make_app(
        "production",
        REDIS_URL=app.config["REDIS_URL"],
        RATELIMIT_STORAGE_URI=app.config["RATELIMIT_STORAGE_URI"],
        # The test server is reached directly, not through the one proxy production names.
        TRUSTED_PROXY_HOPS=0,
    )
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    server = make_server(
        "127.0.0.1",
        0,
        production,
        threaded=True,
        request_handler=_QuietRequestHandler,
        ssl_context=context,
    )
    thread = threading.Thread(target=server.serve_forever, name="https-server", daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_a_manager_sees_strict_headers_and_a_host_only_cookie(browser, production_server, app):
    with app.app_context():
        email = make_user(Role.manager).email
    context = browser.new_context(base_url=production_server, ignore_https_errors=True)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    blocked = watch_policy_violations(page)
    try:
        page.goto("/login")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(DEFAULT_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("button", name="Sign out")).to_be_visible()

        # The live board runs a script: it must load under the policy and refresh itself.
        response = page.goto("/manager/board")
        headers = response.all_headers()
        expect(page.get_by_role("heading", name="Live board")).to_be_visible()
        for url in ("/manager/", "/manager/speed", "/advocate/chats", "/contacts"):
            page.goto(url)

        policy = headers["content-security-policy"]
        assert "'nonce-" in policy and "unsafe-inline" not in policy
        assert "object-src 'none'" in policy and "base-uri 'none'" in policy
        assert "frame-ancestors 'none'" in policy
        assert headers["strict-transport-security"].startswith("max-age=")
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "strict-origin-when-cross-origin"
        assert headers["cache-control"] == "no-store"
        (session,) = [c for c in context.cookies() if "session" in c["name"]]
        assert session["name"] == "__Host-session"
        assert session["secure"] and session["httpOnly"]
        assert session["sameSite"] == "Lax" and session["path"] == "/"
        assert blocked == []
    finally:
        context.close()
