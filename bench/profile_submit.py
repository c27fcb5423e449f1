"""Where a real /callback submit spends its time: cProfile over an in-process loop.

No HTTP server and no load generator, so the profile holds only app work (plus the
database and Redis round trips). Run `python -m bench.run` first: it leaves a migrated
bench database behind, which this uses with the same settings as the served app.

By default it does what the `submit` target does: one GET /callback (a session and the
form's hidden fields), then POSTs only, each with a fresh form token and a new phone,
and profiles the POSTs. `--page` does what `page+submit` does (a new visitor per submit)
and profiles the GETs. Both print wall and CPU ms per request and its round trips.

    .venv/bin/python -m bench.profile_submit --submits 500 [--page] [--no-profile] [--cpu]
    .venv/bin/python -m bench.profile_submit --no-profile --without-capture   # the rest alone
"""

import argparse
import cProfile
import itertools
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # run as `python bench/profile_submit.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.load import ANSWERS, hidden_fields, phone_number
from bench.settings import DEFAULT_DB, DEFAULT_REDIS, server_env

WARMUP = 20  # submits that warm up pools and caches, unmeasured


class Meter:
    """Wall and CPU time, round trips and (optionally) a profile of the measured requests."""

    def __init__(self, profile: cProfile.Profile | None, trips) -> None:
        self.profile, self.trips = profile, trips
        self.wall = self.cpu = 0.0
        self.count = 0

    def run(self, measured: bool, call, *args, **kwargs):
        if not measured:
            return call(*args, **kwargs)
        self.trips.on = True
        if self.profile:
            self.profile.enable()
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            return call(*args, **kwargs)
        finally:
            self.wall += time.perf_counter() - wall
            self.cpu += time.process_time() - cpu
            if self.profile:
                self.profile.disable()
            self.trips.on = False
            self.count += 1


def _first_free_phone(app) -> int:
    """Clear of bench.run's numbers and of every earlier profile's: each submit a new contact.

    Every run starts past 10,000,000 plus all contacts stored so far, so no two runs share
    a phone (an old phone would make the submit a re-engagement, a different path).
    """
    import sqlalchemy as sa

    from crm.extensions import db

    with app.app_context():
        return 10_000_000 + db.session.scalar(sa.text("SELECT count(*) FROM contacts"))


def _profile_hand(args, meter: Meter, phones) -> int:
    """The same measurement of the hand-written floor's POST, with bench.run's bare body."""
    from bench.hand_app import app as hand_app

    client = hand_app.test_client()
    body = {**ANSWERS, "csrf_token": "x" * 91, "form_token": "x" * 64, "page_url": "x" * 30}
    for number in range(-WARMUP, args.submits):
        data = {**body, "phone": phone_number(next(phones))}
        post = meter.run(number >= 0, client.post, "/submit", data=data)
        assert post.status_code == 303, post.status_code
    print(
        f"POST /submit (hand floor): {meter.wall / meter.count * 1000:.2f} ms wall, "
        f"{meter.cpu / meter.count * 1000:.2f} ms CPU each ({meter.count} measured)"
    )
    meter.trips.print_per_request(meter.count)
    return 0


def _stub_capture() -> None:
    """Answer every submit as stored without touching the database (a diagnostic only)."""
    from crm.services import capture

    def submit_lead(lead, meta, idempotency_key=None, received_at=None, *, corrections=False):
        return capture.CaptureResult("0" * 32, 0, is_new_contact=True, replayed=False)

    capture.submit_lead = submit_lead


def _page(client) -> dict:
    page = client.get("/callback")
    assert page.status_code == 200, page.status_code
    return hidden_fields(page.get_data(as_text=True))[1]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submits", type=int, default=500)
    parser.add_argument("--page", action="store_true", help="profile the GET, not the POST")
    parser.add_argument("--database-url", default=DEFAULT_DB)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS)
    parser.add_argument("--top", type=int, default=35)
    parser.add_argument("--sort", default="cumulative", help="pstats key, e.g. tottime")
    parser.add_argument("--no-profile", action="store_true", help="only time, unprofiled")
    parser.add_argument(
        "--cpu", action="store_true", help="profile CPU time, not wall (waits on I/O vanish)"
    )
    parser.add_argument("--save", metavar="PATH", help="also write the pstats data here")
    parser.add_argument(
        "--without-capture",
        action="store_true",
        help="stub capture.submit_lead out: what the rest of the submit costs",
    )
    parser.add_argument(
        "--hand", action="store_true", help="the hand-written floor's POST instead (bench.hand_app)"
    )
    args = parser.parse_args(argv)
    instance_dir = tempfile.mkdtemp(prefix="crm-bench-profile-")
    os.environ.update(server_env(args.database_url, args.redis_url, instance_dir))
    from bench.roundtrips import RoundTrips
    from bench.tokens import fresh_form_token
    from wsgi import app  # configured from the environment, like gunicorn's

    if args.without_capture:
        _stub_capture()
    client = app.test_client()
    phones = itertools.count(_first_free_phone(app))
    profile = cProfile.Profile(time.process_time) if args.cpu else cProfile.Profile()
    meter = Meter(None if args.no_profile else profile, RoundTrips().install())
    if args.hand:
        return _profile_hand(args, meter, phones)
    fields = _page(client)  # the `submit` target's one GET per visitor
    for number in range(-WARMUP, args.submits):
        measured = number >= 0
        if args.page:  # a new visitor each time, as `page+submit`
            client.delete_cookie("session")
            fields = meter.run(measured, _page, client)
        else:
            fields = {**fields, "form_token": fresh_form_token()}
        data = {**fields, **ANSWERS, "phone": phone_number(next(phones))}
        post = meter.run(measured and not args.page, client.post, "/callback", data=data)
        assert post.status_code == 303, post.status_code
    method = "GET" if args.page else "POST"
    print(
        f"{method} /callback: {meter.wall / meter.count * 1000:.2f} ms wall, "
        f"{meter.cpu / meter.count * 1000:.2f} ms CPU each "
        f"({meter.count} measured{', under cProfile' if meter.profile else ''})"
    )
    meter.trips.print_per_request(meter.count)
    if meter.profile:
        pstats.Stats(meter.profile).sort_stats(args.sort).print_stats(args.top)
        if args.save:
            meter.profile.dump_stats(args.save)
    return 0


if __name__ == "__main__":
    sys.exit(main())
