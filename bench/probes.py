"""What a probe and a scrape cost: median and p95 time and SQL statements per request.

In-process (Flask's test client, no HTTP server), so the figures are the app's own work for
/healthz, /readyz (database, migrations, heartbeat, broker) and /metrics (every gauge), on a
database migrated to head here. The timings move with the machine's load; the statement
counts do not.

    .venv/bin/python -m bench.probes [DATABASE_URL]    # a few seconds
"""

import os
import statistics
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as `python bench/probes.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa
from flask_migrate import upgrade

from crm import create_app
from crm.extensions import db
from crm.models import utcnow
from crm.services.ops import health

DEFAULT_DB = "postgresql+psycopg://postgres@127.0.0.1:5432/crm_test"
REQUESTS = 200
LOOPBACK = {"REMOTE_ADDR": "127.0.0.1"}


def main() -> None:
    url = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB)
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url})
    statements: list[str] = []
    with app.app_context():
        upgrade(directory=str(Path(__file__).resolve().parent.parent / "migrations"))
        health.record_beat(utcnow())
        sa.event.listen(db.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    client = app.test_client()
    for path in ("/healthz", "/readyz", "/metrics"):
        client.get(path, environ_base=LOOPBACK)  # warm: pools, caches, compiled statements
        times, counts = [], []
        for _ in range(REQUESTS):
            statements.clear()
            started = time.perf_counter()
            response = client.get(path, environ_base=LOOPBACK)
            times.append((time.perf_counter() - started) * 1000)
            counts.append(len(statements))
            assert response.status_code == 200, (path, response.status_code)
        p95 = sorted(times)[int(REQUESTS * 0.95) - 1]
        print(
            f"{path:9} median {statistics.median(times):6.2f} ms   p95 {p95:6.2f} ms   "
            f"SQL statements {max(counts)}"
        )


if __name__ == "__main__":
    main()
