"""The load generator: threads of virtual visitors on keep-alive http.client connections.

Stdlib only (the form tokens come from a callable the caller passes), so the load adds no
dependency. Three kinds of visitor, one per target:

- `bare`: POST the bare endpoint a body of the real form's size.
- `hand`: POST the same body to the hand-written floor (bench/hand_app.py).
- `submit`: GET /callback once, in warm-up (session cookie with the CSRF secret, hidden
  fields), then only POST it, each time with a fresh form token and a new phone.
- `page+submit`: what a new browser visitor does per submit: GET /callback with an empty
  cookie jar, keep its hidden fields, POST the form. The GET is recorded as a page load.

Only a POST counts as a submit, and only a 303 as a success.
"""

import html
import http.client
import itertools
import re
import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode

_INPUT = re.compile(r"<input\b[^>]*>", re.IGNORECASE)
_ATTR = re.compile(r'([\w-]+)="([^"]*)"')
_FORM_ACTION = re.compile(r'<form\b[^>]*\baction="([^"]*)"', re.IGNORECASE)
# Real area codes; every exchange 200-999 with them is a valid number to `phonenumbers`,
# so 8 x 800 x 10,000 submits get distinct phones, i.e. each one is a new contact.
_AREA_CODES = (212, 312, 415, 617, 713, 305, 206, 404)
ANSWERS = {
    "first_name": "James",
    "last_name": "O'Brien",
    "zip": "10001",
    "best_time": "asap",
    "message": "My father was just diagnosed.",
    "consent_calls": "y",
}


def phone_number(n: int) -> str:
    """The n-th distinct valid US number, formatted as visitors type it."""
    area = _AREA_CODES[n % len(_AREA_CODES)]
    exchange = 200 + (n // len(_AREA_CODES)) // 10_000 % 800
    line = (n // len(_AREA_CODES)) % 10_000
    return f"{area}-{exchange}-{line:04d}"


def hidden_fields(page: str) -> tuple[str | None, dict[str, str]]:
    """The form's action and hidden inputs (csrf_token, form_token, attribution)."""
    fields = {}
    for tag in _INPUT.findall(page):
        attrs = dict(_ATTR.findall(tag))
        if attrs.get("type") == "hidden" and attrs.get("name"):
            fields[attrs["name"]] = html.unescape(attrs.get("value", ""))
    action = _FORM_ACTION.search(page)
    return (html.unescape(action.group(1)) if action else None), fields


class Browser:
    """One keep-alive connection and a cookie jar, reconnecting after any failure."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}
        self.conn: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, str]:
        headers = {"User-Agent": "advocate-crm-bench/1"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        data = None
        if body is not None:
            data = urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            self.conn.request(method, path, body=data, headers=headers)
            response = self.conn.getresponse()
            text = response.read().decode()
        except Exception:
            self.conn.close()
            self.conn = None
            raise
        for cookie in response.headers.get_all("Set-Cookie") or []:
            name, _, value = cookie.split(";", 1)[0].partition("=")
            self.cookies[name.strip()] = value
        return response.status, text


@dataclass
class Shared:
    """What all visitor threads of one round share: clock, caps, phones, token maker."""

    measure_from: float
    deadline: float
    max_requests: int
    phones: itertools.count
    new_token: Callable[[], str] | None = None
    issued: itertools.count = field(default_factory=itertools.count)

    def in_window(self, start: float, latency: float) -> bool:
        """Whether a request ran wholly inside the measured window (not warm-up, not after)."""
        return start >= self.measure_from and start + latency <= self.deadline

    def go_on(self) -> bool:
        """Until the deadline, or until max_requests visits began in the measured window."""
        now = time.perf_counter()
        if now >= self.deadline:
            return False
        return now < self.measure_from or next(self.issued) < self.max_requests


@dataclass
class Tally:
    """One thread's measurements; `statuses` covers warm-up too, for the row-count check."""

    submits: list[float] = field(default_factory=list)
    pages: list[float] = field(default_factory=list)
    errors: Counter = field(default_factory=Counter)
    statuses: Counter = field(default_factory=Counter)


def _timed(browser: Browser, method: str, path: str, body=None):
    start = time.perf_counter()
    status, text = browser.request(method, path, body)
    return start, time.perf_counter() - start, status, text


def _visit_bare(browser: Browser, shared: Shared, tally: Tally, state: dict) -> None:
    post = {**state, "phone": phone_number(next(shared.phones))}
    start, latency, status, _ = _timed(browser, "POST", "/submit", post)
    _count(tally, shared, start, latency, status)


def _visit_submit(browser: Browser, shared: Shared, tally: Tally, state: dict) -> None:
    """The headline: the POST only, on the session and hidden fields of one earlier GET."""
    if not state:  # once per visitor, in warm-up: its session cookie and the form's fields
        state.update(_fetch_form(browser, shared, tally, record_page=False) or {})
        return
    # A fresh form token per submit (new nonce: a new submission, not a replay); the
    # CSRF token stays valid for the session, as in a tab that submits again and again.
    fields = {**state["fields"], "form_token": shared.new_token()}
    _post_form(browser, shared, tally, state["action"], fields)


def _visit_page_submit(browser: Browser, shared: Shared, tally: Tally, _state: dict) -> None:
    browser.cookies.clear()  # a new visitor: the GET starts a session with a CSRF secret
    form = _fetch_form(browser, shared, tally, record_page=True)
    if form:
        _post_form(browser, shared, tally, form["action"], form["fields"])


VISITS = {
    "bare": _visit_bare,
    "hand": _visit_bare,  # the same body to the hand-written floor's /submit
    "submit": _visit_submit,
    "page+submit": _visit_page_submit,
}


def _fetch_form(browser: Browser, shared: Shared, tally: Tally, record_page: bool):
    """GET /callback: {"action", "fields"} of its form, or None (an error if measured)."""
    start, latency, status, page = _timed(browser, "GET", "/callback")
    measured = shared.in_window(start, latency)
    if status != 200:
        if measured:
            tally.errors[f"GET {status}"] += 1
        return None
    if measured and record_page:
        tally.pages.append(latency)
    action, fields = hidden_fields(page)
    return {"action": action or "/callback", "fields": fields}


def _post_form(browser: Browser, shared: Shared, tally: Tally, action: str, fields: dict):
    post = {**fields, **ANSWERS, "phone": phone_number(next(shared.phones))}
    start, latency, status, _ = _timed(browser, "POST", action, post)
    _count(tally, shared, start, latency, status)


def _count(tally: Tally, shared: Shared, start: float, latency: float, status: int) -> None:
    tally.statuses[status] += 1
    if not shared.in_window(start, latency):
        return
    if status == 303:
        tally.submits.append(latency)
    else:
        tally.errors[f"POST {status}"] += 1


def _visitor(port: int, shared: Shared, tally: Tally, visit, state: dict) -> None:
    browser = Browser(port)
    while shared.go_on():
        try:
            visit(browser, shared, tally, state)
        except Exception as error:
            tally.errors[type(error).__name__] += 1


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile: an observed latency, never an interpolated one."""
    if not sorted_values:
        return float("nan")
    rank = max(1, round(q / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def run_round(
    target: str, port: int, seconds, warmup, concurrency, max_requests, phones, new_token
) -> dict:
    """Load one target for warm-up + `seconds`; return its rates and POST latencies.

    `new_token` makes a fresh form token (used by the `submit` target only).
    """
    # A bare POST carries a body of the same size as the real one, fake tokens included.
    body = {**ANSWERS, "csrf_token": "x" * 91, "form_token": "x" * 64, "page_url": "x" * 30}
    visit = VISITS[target]
    cpu_start, now = time.process_time(), time.perf_counter()
    shared = Shared(now + warmup, now + warmup + seconds, max_requests, phones, new_token)
    tallies = [Tally() for _ in range(concurrency)]
    threads = []
    for tally in tallies:  # each visitor its own state: the bare body, or its session's form
        state = dict(body) if target in ("bare", "hand") else {}
        args = (port, shared, tally, visit, state)
        threads.append(threading.Thread(target=_visitor, args=args, daemon=True))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # Shorter than asked only when --max-requests ran out first.
    elapsed = max(min(time.perf_counter(), shared.deadline) - shared.measure_from, 1e-9)
    # The generator shares the machine's CPUs with the servers: say how much it took.
    client_cpu = (time.process_time() - cpu_start) / (time.perf_counter() - now)
    submits = sorted(x for t in tallies for x in t.submits)
    pages = sorted(x for t in tallies for x in t.pages)
    errors = sum((t.errors for t in tallies), Counter())
    return {
        "target": target,
        "seconds": round(elapsed, 3),
        "submits": len(submits),
        "submits_per_s": len(submits) / elapsed,
        "requests_per_s": (len(submits) + len(pages)) / elapsed,
        "p50_ms": percentile(submits, 50) * 1000,
        "p99_ms": percentile(submits, 99) * 1000,
        "mean_ms": statistics.fmean(submits) * 1000 if submits else float("nan"),
        "page_p50_ms": percentile(pages, 50) * 1000 if pages else None,
        "errors": sum(errors.values()),
        "error_kinds": dict(errors),
        "client_cpu_cores": round(client_cpu, 2),
        "statuses": dict(sum((t.statuses for t in tallies), Counter())),
    }
