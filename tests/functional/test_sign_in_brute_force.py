"""1,000 sign-in guesses, with forged X-Forwarded-For headers: throttled as the README says.

The limits are the documented defaults (LOGIN_LIMIT_PER_IP 100, LOGIN_LIMIT_PER_ACCOUNT 10 per
15 minutes). A forged header is ignored without a trusted proxy (TRUSTED_PROXY_HOPS=0), and
only the address the trusted proxy itself appends counts behind one (=1). Each refusal is
audited; a refused guess costs no password hash; the advocate's own browser still gets in.

The guesses come from eight browsers at once, half straight to an app with no trusted proxy,
half through a proxy to one that trusts one hop: two web servers sharing one Redis, as a
deployment that changes its proxy setup would be. Had either counted a forged address, the
exact counts below would not hold.
"""

import re
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from crm.extensions import db
from crm.models import AuditEvent
from crm.models.enums import AuditAction, Role
from crm.services import passwords
from tests.factories import DEFAULT_PASSWORD, make_user
from tests.staff import StaffClient

pytestmark = pytest.mark.postgres_only  # the same code on SQLite; one backend keeps it quick

GUESSES = 1_000
ATTACKER_BROWSERS = 8  # guessing in parallel, as a script would: no guess slips past a limit
PROXY = "10.0.0.2"  # the trusted reverse proxy's own address, as the app sees it
ATTACKER = "203.0.113.9"  # the attacker's real address
ADVOCATE_HOME = "192.0.2.50"  # where the advocate signs in from, in another network
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


# As the README's Configuration table documents them.
DOCUMENTED = {
    "LOGIN_LIMIT_PER_IP": "100/15 minutes",
    "LOGIN_LIMIT_PER_ACCOUNT": "10/15 minutes",
    "LOGIN_LIMIT_PER_DEVICE": "10/15 minutes",
}


@pytest.fixture(autouse=True)
def _documented_limits(app):
    assert {name: app.config[name] for name in DOCUMENTED} == DOCUMENTED


@pytest.fixture
def hashes(monkeypatch) -> list[str]:
    """Every argon2 verification the app runs (the real one, only counted)."""
    checked = []
    real_verify = passwords.verify

    def counting_verify(stored_hash, password):
        checked.append(stored_hash)
        return real_verify(stored_hash, password)

    monkeypatch.setattr(passwords, "verify", counting_verify)
    return checked


class Browser:
    """One browser at one real address; behind the proxy its requests carry what it appends."""

    def __init__(self, app, address: str, hops: int):
        self.staff = StaffClient(app.test_client())
        self.address, self.hops = address, hops
        self.open_page()

    def open_page(self) -> None:
        """Load the sign-in page for its CSRF token (a new one after each sign-in or out)."""
        self.token = CSRF.search(self.request("get").get_data(as_text=True)).group(1)

    def request(self, method: str, forged: str | None = None, **kwargs):
        headers = {}
        if self.hops:
            # The proxy appends the address it saw to whatever the client claimed.
            claimed = f"{forged}, " if forged else ""
            headers["X-Forwarded-For"] = claimed + self.address
            environ = {"REMOTE_ADDR": PROXY}
        else:
            if forged:
                headers["X-Forwarded-For"] = forged
            environ = {"REMOTE_ADDR": self.address}
        call = getattr(self.staff, method)
        return call("/login", headers=headers, environ_base=environ, **kwargs)

    def sign_in(self, email: str, password: str, forged: str | None = None):
        """Post the form; behind the proxy, `forged` is what the client claims to be."""
        data = {"csrf_token": self.token, "email": email, "password": password}
        return self.request("post", forged, data=data)


@pytest.fixture
def apps(make_app) -> dict[int, object]:
    """An app per TRUSTED_PROXY_HOPS setting, on the same database and Redis."""
    return {hops: make_app(TRUSTED_PROXY_HOPS=hops) for hops in (0, 1)}


def guess(apps, guesses: list[tuple[str, str, str]]) -> Counter:
    """Send (email, password, forged address) guesses from the attacker's address; count answers."""

    def one_browser(number: int) -> Counter:
        hops = number % 2
        browser = Browser(apps[hops], ATTACKER, hops)
        share = guesses[number::ATTACKER_BROWSERS]
        return Counter(browser.sign_in(*attempt).status_code for attempt in share)

    with ThreadPoolExecutor(ATTACKER_BROWSERS) as pool:
        return sum(pool.map(one_browser, range(ATTACKER_BROWSERS)), Counter())


def audit_rows() -> list[tuple[AuditAction, str | None, dict]]:
    db.session.remove()
    return [
        tuple(row)
        for row in db.session.execute(
            sa.select(AuditEvent.action, AuditEvent.ip_address, AuditEvent.detail).order_by(
                AuditEvent.id
            )
        )
    ]


def forged_address(n: int) -> str:
    return f"198.51.{n // 250}.{n % 250 + 1}"


def test_a_thousand_guesses_at_one_account_from_many_addresses(apps, app_ctx, hashes):
    make_user(Role.advocate, email="ada@example.org")
    # The advocate's own browser, on each proxy setting, signed in before (its device cookie).
    own_browsers = {hops: Browser(app, ADVOCATE_HOME, hops) for hops, app in apps.items()}
    for browser in own_browsers.values():
        assert browser.sign_in("ada@example.org", DEFAULT_PASSWORD).status_code == 302
        browser.staff.sign_out()
        browser.open_page()
    hashes.clear()

    answers = guess(
        apps, [("ada@example.org", f"guess {n}", forged_address(n)) for n in range(GUESSES)]
    )

    # Ten wrong passwords are checked; every later guess is refused before any hashing.
    assert answers == {200: 10, 429: GUESSES - 10}
    assert len(hashes) == 10
    rows = audit_rows()[4:]  # after the advocate's own sign-ins and sign-outs
    assert Counter(action for action, _, _ in rows) == {
        AuditAction.sign_in_failed: 10,
        AuditAction.sign_in_throttled: GUESSES - 10,
    }
    # No forged address reached the log: only the attacker's real one.
    assert {ip for _, ip, _ in rows} == {ATTACKER}
    counters = Counter(detail["counter"] for action, _, detail in rows if detail)
    assert counters == {"login-account": GUESSES - 10}
    for hops, app in apps.items():
        # The right password from the attacker's browser is refused too, without a hash.
        attacker = Browser(app, ATTACKER, hops)
        assert attacker.sign_in("ada@example.org", DEFAULT_PASSWORD).status_code == 429
    assert len(hashes) == 10

    for own in own_browsers.values():
        assert own.sign_in("ada@example.org", DEFAULT_PASSWORD).status_code == 302
        assert own.staff.get("/staff").status_code == 200


def test_a_thousand_guesses_at_many_accounts_from_one_address(apps, app_ctx, hashes):
    make_user(Role.advocate, email="ada@example.org")

    answers = guess(
        apps, [(f"someone{n}@example.org", "guess", forged_address(n)) for n in range(GUESSES)]
    )

    assert answers == {200: 100, 429: GUESSES - 100}
    assert len(hashes) == 100  # unknown emails cost one hash each, as a wrong password does
    rows = audit_rows()
    assert Counter(action for action, _, _ in rows) == {
        AuditAction.sign_in_failed: 100,
        AuditAction.sign_in_throttled: GUESSES - 100,
    }
    assert {ip for _, ip, _ in rows} == {ATTACKER}
    assert {detail["counter"] for action, _, detail in rows if detail} == {"login-ip"}

    # The office's address is not the attacker's: the advocate signs in, even on a new browser.
    for hops, app in apps.items():
        colleague = Browser(app, ADVOCATE_HOME, hops)
        assert colleague.sign_in("ada@example.org", DEFAULT_PASSWORD).status_code == 302
        colleague.staff.sign_out()
