"""Where an email's time goes on the relay path, against the raw send: in-process, no worker.

Called by bench.followups (after its workers have stopped) with the app, its database
and the SMTP sink still up. Runs the task bodies themselves, as a worker's pool process
would (the app's FlaskTask opens the app context around each), one email at a time:

1. timed, with the round trips counted (bench/roundtrips.py) and the work split into
   phases by wrapping the service functions delivery.py calls (in this process only):
   the raw send of N rows, then the relay (outbox.relay, which also publishes one
   outbox.deliver per row to this bench's own Redis database, flushed afterwards) and
   outbox.deliver on the same rows;
2. under cProfile, outbox.deliver on N fresh rows, for the functions behind the phases.
"""

import contextlib
import cProfile
import functools
import importlib
import io
import pstats
import ssl
import time
from collections import defaultdict

import redis

# (module, function) pairs that delivery.deliver_outbox_message and the raw task call
# through their module, so that wrapping the module attribute times every call.
PHASES = (
    ("crm.services.outbox", "start_sending"),
    ("crm.services.suppressions", "is_suppressed"),
    ("crm.services.email_content", "recipient"),
    ("crm.services.email_content", "compose"),
    ("crm.services.mail", "build_message"),
    ("crm.services.mail", "deliver"),
    ("crm.services.outbox", "mark_sent"),
)
SSL_PHASE = "ssl.create_default_context"  # inside mail.deliver, timed apart
RELAY_PHASE = "relay run (claim + publish)"
OTHER = "other (ORM loads, app context, log)"


class PhaseClock:
    """Exclusive wall time per phase: a phase called inside another (compose calls
    recipient) counts for itself only, so the phases add up to the time measured."""

    def __init__(self) -> None:
        self.spent: defaultdict = defaultdict(float)
        self._children: list[float] = []

    @contextlib.contextmanager
    def phase(self, name: str):
        self._children.append(0.0)
        started = time.perf_counter()
        try:
            yield
        finally:
            elapsed = time.perf_counter() - started
            self.spent[name] += elapsed - self._children.pop()
            if self._children:
                self._children[-1] += elapsed

    def wrap(self, name: str, function):
        @functools.wraps(function)
        def timed(*args, **kwargs):
            with self.phase(name):
                return function(*args, **kwargs)

        return timed


class _TimedSsl:
    """crm.services.mail's `ssl`, with create_default_context timed as its own phase."""

    def __init__(self, clock: PhaseClock) -> None:
        self.create_default_context = clock.wrap(SSL_PHASE, ssl.create_default_context)

    def __getattr__(self, name):
        return getattr(ssl, name)


@contextlib.contextmanager
def phase_timers(clock: PhaseClock):
    """Wrap the PHASES functions (and mail's ssl) in this process, for the block only."""
    import crm.services.mail

    originals = [(crm.services.mail, "ssl", crm.services.mail.ssl)]
    for module_name, name in PHASES:
        module = importlib.import_module(module_name)
        originals.append((module, name, getattr(module, name)))
        setattr(
            module, name, clock.wrap(f"{module_name.rsplit('.', 1)[1]}.{name}", originals[-1][2])
        )
    crm.services.mail.ssl = _TimedSsl(clock)
    try:
        yield
    finally:
        for module, name, original in originals:
            setattr(module, name, original)


def _timed_pass(ids, run_one, trips) -> dict:
    clock = PhaseClock()
    trips.totals.clear()
    trips.sql.clear()
    trips.on = True
    started = time.perf_counter()
    cpu = time.process_time()
    with phase_timers(clock):
        run_one(ids, clock)
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu
    trips.on = False
    n = len(ids)
    phases = {name: round(seconds * 1000 / n, 3) for name, seconds in clock.spent.items()}
    phases[OTHER] = round((wall - sum(clock.spent.values())) * 1000 / n, 3)
    return {
        "ms_per_email": round(wall * 1000 / n, 3),
        "cpu_ms_per_email": round(cpu * 1000 / n, 3),
        "phases_ms_per_email": phases,
        "postgres_round_trips_per_email": round(trips.totals["postgres"] / n, 2),
        "sql_statements_per_email": round(trips.totals["sql statements"] / n, 2),
        "redis_round_trips_per_email": round(trips.totals["redis"] / n, 2),
        "sql": {text: round(count / n, 2) for text, count in trips.sql.most_common(20)},
    }


def profile_paths(app, emails: int, seed) -> dict:
    from bench.followups_raw import send_in_context
    from bench.roundtrips import RoundTrips

    tasks = app.extensions["celery"].tasks  # the app's FlaskTask versions, not a proxy's
    relay_due_messages, deliver_message = tasks["outbox.relay"], tasks["outbox.deliver"]

    broker = redis.Redis.from_url(app.config["REDIS_URL"])
    trips = RoundTrips().install()

    def raw(ids, clock=None):
        for message_id in ids:
            with app.app_context():  # what the raw task does around each send
                send_in_context(message_id)

    def relay(ids, clock):
        claimed = 0
        while claimed < len(ids):  # the relay's runs: claim a batch, publish each id
            with clock.phase(RELAY_PHASE):
                ran = relay_due_messages()  # FlaskTask.__call__: app context, then the body
            if not ran:
                raise RuntimeError("the relay claimed nothing")
            claimed += ran
        for message_id in ids:
            outcome = deliver_message(message_id)
            if outcome != "sent":
                raise RuntimeError(f"outbox {message_id}: {outcome}")

    ids = seed(emails)
    raw(ids[:20])  # warm-up: templates, pool, SMTP
    result = {"emails": len(ids), "raw": _timed_pass(ids, raw, trips)}
    result["relay"] = _timed_pass(ids, relay, trips)
    # What the ratio would be if neither path built an SSL context per plain-SMTP email.
    raw_ms, relay_ms = (
        result[p]["ms_per_email"] - result[p]["phases_ms_per_email"].get(SSL_PHASE, 0.0)
        for p in ("raw", "relay")
    )
    result["ratio_in_process"] = round(
        result["raw"]["ms_per_email"] / result["relay"]["ms_per_email"], 3
    )
    result["ratio_without_ssl_context"] = round(raw_ms / relay_ms, 3)
    broker.flushdb()  # the outbox.deliver tasks the relay published, with no worker to run them

    ids = seed(emails)
    profiler = cProfile.Profile()
    claimed = 0
    while claimed < len(ids):
        claimed += relay_due_messages()
    broker.flushdb()
    profiler.enable()
    for message_id in ids:
        deliver_message(message_id)
    profiler.disable()
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text)
    stats.sort_stats("cumulative").print_stats(r"/crm/|ssl|smtplib", 30)
    stats.sort_stats("tottime").print_stats(15)
    result["cprofile_deliver"] = text.getvalue()
    print_profile(result)
    return result


def print_profile(result: dict) -> None:
    raw, relay = result["raw"], result["relay"]
    print(f"\nin-process, one email at a time, {result['emails']} emails per path:")
    print(f"{'':<40}{'raw':>10}{'relay':>10}")
    print(f"{'wall ms/email':<40}{raw['ms_per_email']:>10.2f}{relay['ms_per_email']:>10.2f}")
    print(f"{'CPU ms/email':<40}{raw['cpu_ms_per_email']:>10.2f}{relay['cpu_ms_per_email']:>10.2f}")
    names = sorted(
        {*relay["phases_ms_per_email"], *raw["phases_ms_per_email"]},
        key=lambda name: -relay["phases_ms_per_email"].get(name, 0.0),
    )
    for name in names:
        r = raw["phases_ms_per_email"].get(name, 0.0)
        s = relay["phases_ms_per_email"].get(name, 0.0)
        print(f"  {name:<38}{r:>10.2f}{s:>10.2f}")
    for key, title in (
        ("postgres_round_trips_per_email", "PostgreSQL round trips/email"),
        ("sql_statements_per_email", "  of which SQL statements"),
        ("redis_round_trips_per_email", "Redis round trips/email"),
    ):
        print(f"{title:<40}{raw[key]:>10.2f}{relay[key]:>10.2f}")
    print(
        f"relay/raw in-process {result['ratio_in_process']:.2f}; without the per-email "
        f"{SSL_PHASE}() in mail.deliver {result['ratio_without_ssl_context']:.2f}"
    )
    print("relay path SQL per email:")
    for text, count in relay["sql"].items():
        print(f"  {count:5.2f}  {text}")
    print("\ncProfile of outbox.deliver (the task body), cumulative then own time:")
    lines = [line for line in result["cprofile_deliver"].splitlines() if line.strip()]
    print("\n".join(lines))
