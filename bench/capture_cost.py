"""What capture.submit_lead costs in CPU for a new callback contact, and a Core variant.

The submit's CPU is mostly the capture service (bench.profile_submit --without-capture
shows the rest costs about what the whole hand-written floor does). This calls
`capture.submit_lead` in-process, against the database bench.run leaves behind, with
the LeadInput the benchmark's visitor makes (new phone each time, no email), and prints
CPU and wall ms per call. `--variant core` first replaces the new-contact path with an
experiment (not the app's code): the same rows written by INSERT statements built once
(parameters at execute) instead of ORM objects and four flushes. Rounds alternate.

    .venv/bin/python -m bench.capture_cost --calls 500 --rounds 3
"""

import argparse
import itertools
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

if __package__ in (None, ""):  # run as `python bench/capture_cost.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.load import phone_number
from bench.settings import DEFAULT_DB, DEFAULT_REDIS, server_env


def _core_variant():
    """The experiment: one pre-built INSERT per table, no ORM unit of work (new contacts only)."""
    import sqlalchemy as sa

    from crm.extensions import db
    from crm.models import ConsentRecord, Contact, Submission, TimelineEvent
    from crm.models.call_task import CallTask
    from crm.models.enums import BestTime, FormKind, TimelineKind
    from crm.services import capture
    from crm.services.callback_times import callback_due_at
    from crm.services.consent import disclosure

    def insert(model, *returning):
        table = model.__table__
        return sa.insert(table).returning(*(table.c[name] for name in returning))

    contact_insert = insert(Contact, "id")
    submission_insert = insert(Submission, "id", "public_id")
    task_insert = insert(CallTask, "id")
    consent_insert, event_insert = insert(ConsentRecord), insert(TimelineEvent)
    orm_path = capture._submit_once

    def submit_once(lead, meta, key, now):
        found, _ = capture._match_contact(lead)
        if found is not None or lead.email or lead.form != FormKind.callback:
            return orm_path(lead, meta, key, now)  # the experiment covers the bench's case
        connection = db.session.connection()
        attribution = capture._attribution(lead)
        contact_id = connection.scalar(
            contact_insert,
            {
                **attribution,
                "first_name": lead.first_name,
                "last_name": lead.last_name,
                "phone_e164": lead.phone_e164,
                "zip_code": lead.zip_code,
                "state": lead.state,
                "time_zone": lead.time_zone,
                "diagnosis": lead.diagnosis,
                "is_veteran": lead.is_veteran,
                "submission_count": 1,
                "last_submitted_at": now,
                "created_at": now,
            },
        )
        clip = capture._clip
        seen = {"ip_address": meta.ip_address, "user_agent": clip(meta.user_agent, 500)}
        seen["page_url"] = clip(meta.page_url, 1000)
        fields = lead.stored_fields()
        submission_id, public_id = connection.execute(
            submission_insert,
            {
                **attribution,
                **seen,
                "form": lead.form,
                "contact_id": contact_id,
                "idempotency_key": key,
                "content_digest": lead.content_digest(),
                "is_reengagement": False,
                "fields": fields,
                "created_at": now,
            },
        ).one()
        ids = {"contact_id": contact_id, "submission_id": submission_id}
        consents = [
            {**ids, **seen, "channel": channel, "granted": granted, "form": lead.form}
            | {"text": disclosure(channel).text, "text_version": disclosure(channel).version}
            | {"recorded_at": now}
            for channel, granted in lead.consents.items()
        ]
        connection.execute(consent_insert, consents)
        best_time = BestTime.from_value(fields.get("best_time")) or BestTime.asap
        due = callback_due_at(best_time, lead.time_zone, now)
        task = {**ids, "best_time": best_time, "due_at": due, "created_at": now}
        task_id = connection.scalar(task_insert, task)
        event = {**ids, "outbox_id": None, "created_at": now}
        due_detail = {"call_task_id": task_id, "due_at": due.isoformat()}
        connection.execute(
            event_insert,
            [
                {**event, "kind": TimelineKind.created, "detail": {"form": lead.form.value}},
                {**event, "kind": TimelineKind.callback_due, "detail": due_detail},
            ],
        )
        db.session.commit()
        return capture.CaptureResult(public_id, contact_id, True, replayed=False)

    return submit_once


def core_app():
    """The real app with the experiment installed: `gunicorn 'bench.capture_cost:core_app()'`.

    For `bench.run --capture core` only: what the submit would cost served, if the
    capture service wrote its rows this way.
    """
    from crm.services import capture
    from wsgi import app

    capture._submit_once = _core_variant()
    return app


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=3, help="per variant, alternating")
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

    variants = {"orm (the app)": capture._submit_once, "core (experiment)": _core_variant()}
    phones = itertools.count(60_000_000 + int(time.time()) % 100_000 * 20)
    meta = RequestMeta("127.0.0.1", "advocate-crm-bench/1", "http://127.0.0.1/callback")

    def lead() -> LeadInput:
        return LeadInput(
            form=FormKind.callback,
            first_name="James",
            last_name="O'Brien",
            email=None,
            phone_e164=normalise_us_phone(phone_number(next(phones))),
            zip_code="10001",
            state="NY",
            time_zone="America/New_York",
            consents={ConsentChannel.calls_texts: True, ConsentChannel.email: False},
            details={"best_time": "asap", "message": "My father was just diagnosed."},
        )

    def calls(count: int) -> tuple[float, float]:
        leads = [lead() for _ in range(count)]
        cpu, wall = time.process_time(), time.perf_counter()
        for one in leads:
            capture.submit_lead(one, meta, "bench:" + uuid.uuid4().hex)
            db.session.remove()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        return cpu / count * 1000, wall / count * 1000

    results: dict[str, list[tuple[float, float]]] = {name: [] for name in variants}
    with app.app_context():
        for variant in variants.values():
            capture._submit_once = variant
            calls(30)  # warm-up: pool, prepared statements, caches
        for _, (name, variant) in itertools.product(range(args.rounds), variants.items()):
            capture._submit_once = variant
            results[name].append(calls(args.calls))
            cpu, wall = results[name][-1]
            print(f"{name:<18} {cpu:6.2f} ms CPU  {wall:6.2f} ms wall per call", flush=True)
    medians = {name: sorted(r)[len(r) // 2][0] for name, r in results.items()}
    orm, core = medians.values()
    print(f"median CPU per call: orm {orm:.2f} ms, core {core:.2f} ms ({core / orm:.2f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
