"""Where a real /callback submit spends its time: cProfile over an in-process loop.

No HTTP server and no load generator, so the profile holds only app work (plus the
database and Redis round trips). Run `python -m bench.run` first: it leaves a migrated
bench database behind, which this uses with the same settings as the served app.

    .venv/bin/python -m bench.profile_submit --submits 500 [--page]
"""

import argparse
import cProfile
import itertools
import os
import pstats
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

if __package__ in (None, ""):  # run as `python bench/profile_submit.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.load import ANSWERS, hidden_fields, phone_number
from bench.settings import DEFAULT_DB, DEFAULT_REDIS, server_env


@contextmanager
def _timed(timings: dict, method: str, profile: cProfile.Profile | None):
    start = time.perf_counter()
    if profile:
        profile.enable()
    try:
        yield
    finally:
        if profile:
            profile.disable()
        if timings is not None:
            timings[method] += time.perf_counter() - start


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submits", type=int, default=500)
    parser.add_argument("--page", action="store_true", help="profile the GET, not the POST")
    parser.add_argument("--database-url", default=DEFAULT_DB)
    parser.add_argument("--top", type=int, default=35)
    parser.add_argument("--sort", default="cumulative", help="pstats key, e.g. tottime")
    parser.add_argument("--no-profile", action="store_true", help="only time, unprofiled")
    args = parser.parse_args(argv)
    instance_dir = tempfile.mkdtemp(prefix="crm-bench-profile-")
    os.environ.update(server_env(args.database_url, DEFAULT_REDIS, instance_dir))
    from wsgi import app  # configured from the environment, like gunicorn's

    client = app.test_client()
    phones = itertools.count(10_000_000)  # clear of the numbers bench.run uses
    profile = None if args.no_profile else cProfile.Profile()
    timings = {"GET": 0.0, "POST": 0.0}
    for number in range(-20, args.submits):  # the first 20 warm up pools and caches
        client.delete_cookie("session")  # a new visitor each time
        measured = number >= 0
        with _timed(timings, "GET", profile if measured and args.page else None):
            page = client.get("/callback")
        _, fields = hidden_fields(page.get_data(as_text=True))
        data = {**fields, **ANSWERS, "phone": phone_number(next(phones))}
        with _timed(timings, "POST", profile if measured and not args.page else None):
            response = client.post("/callback", data=data)
        assert response.status_code == 303, response.status_code
    for method, total in timings.items():
        print(f"{method}: {total / args.submits * 1000:.2f} ms each (wall clock, profiled or not)")
    if profile:
        pstats.Stats(profile).sort_stats(args.sort).print_stats(args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
