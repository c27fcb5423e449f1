"""What every web and Celery process loads at start: the app, not data sets it never reads."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_PROBE = """
import json, sys
from wsgi import app
rss_kb = int(open('/proc/self/status').read().split('VmRSS:')[1].split()[0])
heavy = [name for name in ('zipcodes', 'reportlab') if name in sys.modules]
print(json.dumps({'rss_mb': rss_kb / 1024, 'heavy': heavy}))
"""


def test_a_started_app_process_loads_neither_zipcodes_nor_reportlab(tmp_path):
    env = {**os.environ, "CRM_ENV": "development", "CRM_INSTANCE_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    env.pop("REDIS_URL", None)
    result = subprocess.run(
        [sys.executable, "-c", _PROBE], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    probe = json.loads(result.stdout.splitlines()[-1])

    assert probe["heavy"] == []
    # Issue 6 section 8: a web worker within 120 MB; the app itself is most of it.
    assert probe["rss_mb"] < 120
