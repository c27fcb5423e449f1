"""The environment both servers share, apart from bench.run so that it imports no app code.

`config` reads the environment when first imported, so a process that wants the real app
configured like the served one (bench.profile_submit) must set this before importing it.
"""

import os

DEFAULT_DB = "postgresql+psycopg://postgres@127.0.0.1:5432/crm_bench"
DEFAULT_REDIS = "redis://127.0.0.1:6379/14"
SECRET_KEY = "bench"  # bench.tokens signs form tokens with it, as the served app does


def server_env(database_url: str, redis_url: str, instance_dir: str) -> dict[str, str]:
    """The real app as in production (Redis rate limits) with limits no run can reach."""
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "CRM_ENV": "development",
        "SECRET_KEY": SECRET_KEY,
        "REDIS_URL": redis_url,
        "RATELIMIT_ENABLED": "1",
        "SUBMIT_LIMIT_PER_IP": "1000000/hour",
        "SUBMIT_LIMIT_PER_CONTACT": "1000000/hour",
        "FORM_MIN_SECONDS": "0",
        "CRM_INSTANCE_DIR": instance_dir,
    }
