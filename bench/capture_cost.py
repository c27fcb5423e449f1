"""What capture.submit_lead costs in CPU, in-process, for new and for returning contacts.

The submit's CPU is mostly the capture service (bench.profile_submit --without-capture
shows the rest). This calls `capture.submit_lead` in-process, against the database
bench.run leaves behind, with the LeadInput the benchmark's visitor makes (`new`: a new
phone each time, no email, a callback: what `bench.run` measures) and, for information,
the same visitor coming back (`returning`: the phone and name of a contact made in the
warm-up, so the identity match, the UPDATE of the contact and a re-engagement). Prints
CPU and wall ms per call; rounds alternate.

    .venv/bin/python -m bench.capture_cost --calls 400 --rounds 3
"""

import argparse
import itertools
import os
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path

if __package__ in (None, ""):  # run as `python bench/capture_cost.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.load import phone_number
from bench.settings import DEFAULT_DB, DEFAULT_REDIS, server_env


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3, help="per case, alternating")
    parser.add_argument("--database-url", default=DEFAULT_DB)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS)
    args = parser.parse_args(argv)
    os.environ.update(server_env(args.database_url, args.redis_url, tempfile.mkdtemp()))
    from crm.extensions import db
    from crm.models.enums import ConsentChannel, FormKind
    from crm.services import capture
    from crm.services.leads import LeadInput, RequestMeta
    from crm.services.lookups import normalise_us_phone
    from wsgi import app

    # A random start in the 64 million numbers bench.load makes, so that runs minutes apart
    # do not send each other's numbers (a "new" visitor must be new; the count is printed).
    phones = itertools.count(random.randrange(60_000_000))
    meta = RequestMeta("127.0.0.1", "advocate-crm-bench/1", "http://127.0.0.1/callback")

    def lead(phone: str) -> LeadInput:
        return LeadInput(
            form=FormKind.callback,
            first_name="James",
            last_name="O'Brien",
            email=None,
            phone_e164=phone,
            zip_code="10001",
            state="NY",
            time_zone="America/New_York",
            consents={ConsentChannel.calls_texts: True, ConsentChannel.email: False},
            details={"best_time": "asap", "message": "My father was just diagnosed."},
        )

    def new_phone() -> str:
        return normalise_us_phone(phone_number(next(phones)))

    def calls(leads: list[LeadInput]) -> tuple[float, float, int]:
        new = 0
        cpu, wall = time.process_time(), time.perf_counter()
        for one in leads:
            new += capture.submit_lead(one, meta, "bench:" + uuid.uuid4().hex).is_new_contact
            db.session.remove()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        return cpu / len(leads) * 1000, wall / len(leads) * 1000, new

    results: dict[str, list[tuple[float, float, int]]] = {"new": [], "returning": []}
    with app.app_context():
        known = [new_phone() for _ in range(50)]
        calls([lead(phone) for phone in known])  # warm-up: pool, prepared statements, caches
        cases = {
            "new": lambda: [lead(new_phone()) for _ in range(args.calls)],
            "returning": lambda: [lead(known[i % len(known)]) for i in range(args.calls)],
        }
        for _, (name, leads) in itertools.product(range(args.rounds), cases.items()):
            results[name].append(calls(leads()))
            cpu, wall, new = results[name][-1]
            line = f"{name:<10} {cpu:6.2f} ms CPU  {wall:6.2f} ms wall per call"
            print(f"{line}  ({new}/{args.calls} new contacts)", flush=True)
    medians = {name: sorted(r)[len(r) // 2] for name, r in results.items()}
    print(
        "median per call: "
        + ", ".join(
            f"{name} {cpu:.2f} ms CPU ({wall:.2f} wall)" for name, (cpu, wall, _) in medians.items()
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
