"""Configuration read from the environment, with safe development defaults.

The embedded defaults (SQLite, kombu's SQLAlchemy transport, mail written to files)
let the app run with no servers; production sets DATABASE_URL, REDIS_URL and SMTP_URL.
"""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("CRM_INSTANCE_DIR", BASE_DIR / "instance"))
# Signs nothing outside a developer's machine: production refuses to start with it.
DEVELOPMENT_SECRET_KEY = "dev-only-not-secret"
# The development and test data key (crm/crypto.py): public, so production refuses it.
DEVELOPMENT_DATA_KEYS = "dev=ZGV2LW9ubHktZGF0YS1rZXktbm90LXNlY3JldC0wMSE"
MIN_SECRET_KEY_LENGTH = 32


def normalise_database_url(url: str) -> str:
    """Accept postgres://, postgresql:// and postgresql+psycopg:// alike; use psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_list(name: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]


def _env_seconds(name: str, default: float) -> float:
    return float(os.environ.get(name, str(default)))


def celery_settings(broker_url: str) -> dict:
    """The one CELERY dict: reliability settings live here, not scattered over tasks."""
    return {
        "broker_url": broker_url,
        "task_ignore_result": True,
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "task_time_limit": 120,
        "task_soft_time_limit": 90,
        # Well above the longest task, so Redis never redelivers a task still running.
        # (kombu's SQLAlchemy transport passes these options to create_engine, so not there.)
        "broker_transport_options": (
            {"visibility_timeout": 3600} if broker_url.startswith("redis") else {}
        ),
        "broker_connection_retry_on_startup": True,
        "worker_hijack_root_logger": False,
        "timezone": "UTC",
        "enable_utc": True,
        # The database is the scheduler; beat only wakes the relay and the periodic checks.
        # Intervals come from the environment so that fault tests can wait for short leases.
        "beat_schedule": {
            "relay-due-outbox": {
                "task": "outbox.relay",
                "schedule": _env_seconds("OUTBOX_RELAY_INTERVAL_SECONDS", 2),
            },
            "return-stuck-outbox": {
                "task": "outbox.return_stuck",
                "schedule": _env_seconds("OUTBOX_SWEEP_INTERVAL_SECONDS", 30),
            },
            "escalate-missed-callbacks": {
                "task": "callbacks.escalate",
                "schedule": _env_seconds("ESCALATION_INTERVAL_SECONDS", 60),
            },
            "alert-dead-outbox": {
                "task": "outbox.alert_dead",
                "schedule": _env_seconds("DEAD_ALERT_INTERVAL_SECONDS", 300),
            },
            # Often, though a day would do: an interval restarts with beat, so a daily one
            # might never come round on a server that is redeployed every day.
            "purge-old-spam": {
                "task": "spam.purge",
                "schedule": _env_seconds("SPAM_PURGE_INTERVAL_SECONDS", 300),
            },
            "erase-never-reached": {
                "task": "privacy.erase_never_reached",
                "schedule": _env_seconds("PRIVACY_RETENTION_INTERVAL_SECONDS", 300),
            },
            "mark-missed-chats": {
                "task": "chats.mark_missed",
                "schedule": _env_seconds("CHAT_MISSED_INTERVAL_SECONDS", 60),
            },
            # Report roll-ups: how stale a manager's figures may be.
            "refresh-rollups": {
                "task": "rollups.refresh",
                "schedule": _env_seconds("ROLLUP_INTERVAL_SECONDS", 60),
            },
            # /readyz reads the row this writes; one left waiting in a queue is worth nothing.
            "beat-heartbeat": {
                "task": "ops.heartbeat",
                "schedule": _env_seconds("BEAT_HEARTBEAT_INTERVAL_SECONDS", 30),
                "options": {"expires": _env_seconds("BEAT_HEARTBEAT_INTERVAL_SECONDS", 30)},
            },
        },
        "worker_cancel_long_running_tasks_on_connection_loss": True,
        # On a warm shutdown, give running sends this long to finish before they are
        # requeued (acks_late), instead of cutting an SMTP conversation in half.
        "worker_soft_shutdown_timeout": 10.0,
        "worker_enable_soft_shutdown_on_idle": True,
    }


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY", DEVELOPMENT_SECRET_KEY)
    # Old keys, still accepted for what they signed (emailed links, sessions) after a rotation.
    SECRET_KEY_FALLBACKS = _env_list("SECRET_KEY_FALLBACKS")
    # Keys sealing free text at rest, `id=base64 32 bytes` comma-separated: the first seals,
    # all open (add a new one first, run `flask crm rotate-keys`, then drop the old one).
    DATA_KEYS = os.environ.get("DATA_KEYS", DEVELOPMENT_DATA_KEYS)
    SQLALCHEMY_DATABASE_URI = normalise_database_url(
        os.environ.get("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'crm.sqlite3'}")
    )
    # Bounds on a sick database, so a visitor gets their form back (503) within seconds.
    DB_CONNECT_TIMEOUT_SECONDS = int(os.environ.get("DB_CONNECT_TIMEOUT_SECONDS", "3"))
    DB_STATEMENT_TIMEOUT_MS = int(os.environ.get("DB_STATEMENT_TIMEOUT_MS", "5000"))
    DB_POOL_TIMEOUT_SECONDS = float(os.environ.get("DB_POOL_TIMEOUT_SECONDS", "5"))
    REDIS_URL = os.environ.get("REDIS_URL", "")
    # smtp:// upgrades with STARTTLS (?starttls=false opts out); smtps:// is TLS from the start.
    SMTP_URL = os.environ.get("SMTP_URL", "")
    # CA certificates to verify the SMTP server against instead of the system's (a private relay).
    SMTP_CA_FILE = os.environ.get("SMTP_CA_FILE", "")
    MAIL_DIR = os.environ.get("MAIL_DIR", str(INSTANCE_DIR / "mail"))
    MAIL_FROM = os.environ.get("MAIL_FROM", "Patient Advocates <advocates@example.org>")
    ORG_NAME = os.environ.get("ORG_NAME", "Mesothelioma Patient Advocates")
    ORG_POSTAL_ADDRESS = os.environ.get(
        "ORG_POSTAL_ADDRESS", "100 Example Street, Suite 200, Boston, MA 02110"
    )
    ORG_PHONE = os.environ.get("ORG_PHONE", "(800) 555-0199")

    CELERY = celery_settings(
        REDIS_URL or f"sqla+sqlite:///{INSTANCE_DIR / 'celery-broker.sqlite3'}"
    )

    # Rate limits: Redis when configured, memory when it is not or when it is down,
    # so that a visitor is never refused because Redis is.
    RATELIMIT_ENABLED = _env_bool("RATELIMIT_ENABLED", True)
    RATELIMIT_STORAGE_URI = REDIS_URL or "memory://"
    RATELIMIT_STORAGE_OPTIONS = {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}
    # Generous: hospital and cancer-centre networks put many real visitors behind one address.
    # Over the limit a submit is still kept, apart, for staff to release.
    SUBMIT_LIMIT_PER_IP = os.environ.get("SUBMIT_LIMIT_PER_IP", "200/hour")
    SUBMIT_LIMIT_PER_CONTACT = os.environ.get("SUBMIT_LIMIT_PER_CONTACT", "8/hour")
    # The JSON API's calls all come from its client's server: a budget per API key.
    SUBMIT_LIMIT_PER_API_KEY = os.environ.get("SUBMIT_LIMIT_PER_API_KEY", "3000/hour")

    # Bot checks on the signed render timestamp of every public form.
    FORM_MIN_SECONDS = float(os.environ.get("FORM_MIN_SECONDS", "3"))
    FORM_MAX_AGE_SECONDS = int(os.environ.get("FORM_MAX_AGE_SECONDS", str(24 * 3600)))
    # Chat bounds: messages per chat per minute, chats started per address per hour.
    CHAT_MESSAGE_LIMIT = os.environ.get("CHAT_MESSAGE_LIMIT", "20/minute")
    CHAT_START_LIMIT = os.environ.get("CHAT_START_LIMIT", "10/hour")
    # A chat's event stream ends after this (the browser reconnects) and says something
    # (a comment, if nothing else) at least this often, so idle proxies keep it open.
    CHAT_STREAM_SECONDS = float(os.environ.get("CHAT_STREAM_SECONDS", "300"))
    CHAT_HEARTBEAT_SECONDS = float(os.environ.get("CHAT_HEARTBEAT_SECONDS", "15"))
    # A chat nobody accepted within this long is marked missed: it leaves the advocates'
    # waiting list, and the visitor sees it ended, with the callback form offered.
    CHAT_MISSED_MINUTES = int(os.environ.get("CHAT_MISSED_MINUTES", "15"))
    # Chats started per email and per phone (HMACed), on top of CHAT_START_LIMIT per address.
    CHAT_START_PER_IDENTITY_LIMIT = os.environ.get("CHAT_START_PER_IDENTITY_LIMIT", "5/hour")
    # Typing indicator: the page says "typing" at most this often, the other side shows it
    # this long after the last one, and the server fans out at most CHAT_TYPING_LIMIT per side.
    CHAT_TYPING_SECONDS = float(os.environ.get("CHAT_TYPING_SECONDS", "3"))
    CHAT_TYPING_SHOWN_SECONDS = float(os.environ.get("CHAT_TYPING_SHOWN_SECONDS", "6"))
    CHAT_TYPING_LIMIT = os.environ.get("CHAT_TYPING_LIMIT", "30/minute")
    # The waiting visitor's estimate: the median wait of chats accepted in this window (this
    # many minutes a chat when there were none), refreshed on the page this often.
    CHAT_ESTIMATE_WINDOW_MINUTES = float(os.environ.get("CHAT_ESTIMATE_WINDOW_MINUTES", "60"))
    CHAT_ESTIMATE_DEFAULT_MINUTES = float(os.environ.get("CHAT_ESTIMATE_DEFAULT_MINUTES", "2"))
    CHAT_ESTIMATE_REFRESH_SECONDS = float(os.environ.get("CHAT_ESTIMATE_REFRESH_SECONDS", "20"))
    # The chat report's service level: the share of chats accepted within this many seconds
    # (exact for a multiple of 5 up to 300, of 30 up to 900: crm/services/rollups/chat_fold.py).
    CHAT_ANSWER_TARGET_SECONDS = int(os.environ.get("CHAT_ANSWER_TARGET_SECONDS", "60"))
    # How often the call queue and chats pages ask for the waiting count (chat_notice.js).
    CHAT_NOTICE_POLL_SECONDS = float(os.environ.get("CHAT_NOTICE_POLL_SECONDS", "5"))
    # Kept submits nobody released are deleted after this many days (they hold what a
    # visitor, or a bot, typed: no reason to keep it longer than a review takes).
    SPAM_RETENTION_DAYS = float(os.environ.get("SPAM_RETENTION_DAYS", "30"))
    # Contacts nobody ever reached are anonymised this long after they came (0: never).
    NEVER_REACHED_RETENTION_DAYS = float(os.environ.get("NEVER_REACHED_RETENTION_DAYS", "730"))

    WTF_CSRF_TIME_LIMIT = 24 * 3600
    MAX_CONTENT_LENGTH = int(os.environ.get("MAX_CONTENT_LENGTH", str(64 * 1024)))
    MAX_FORM_MEMORY_SIZE = MAX_CONTENT_LENGTH
    # Sites allowed to frame the /embed/* pages.
    EMBED_ORIGINS = _env_list("EMBED_ORIGINS")
    # Reverse proxies in front of the app whose X-Forwarded-* headers are trusted (0: none).
    TRUSTED_PROXY_HOPS = int(os.environ.get("TRUSTED_PROXY_HOPS") or "0")

    # Absolute links in emails (unsubscribe, guide download) start with this.
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000")

    # The outbox relay and its retries (DESIGN.md rules 2 and 3).
    OUTBOX_BATCH_SIZE = int(os.environ.get("OUTBOX_BATCH_SIZE", "200"))
    # Transient failures are retried for this long after the first attempt, as mail servers do.
    OUTBOX_RETRY_WINDOW_HOURS = float(os.environ.get("OUTBOX_RETRY_WINDOW_HOURS", "48"))
    OUTBOX_RETRY_BASE_SECONDS = float(os.environ.get("OUTBOX_RETRY_BASE_SECONDS", "30"))
    OUTBOX_RETRY_MAX_SECONDS = float(os.environ.get("OUTBOX_RETRY_MAX_SECONDS", "3600"))
    # A safety net above the most attempts the window allows (about 100 with the defaults):
    # it buries a row whose every attempt kills its worker and so never reaches the window.
    OUTBOX_MAX_ATTEMPTS = int(os.environ.get("OUTBOX_MAX_ATTEMPTS", "120"))
    # A dispatched row whose task never ran (broker lost it) goes back to pending after this.
    OUTBOX_DISPATCH_LEASE_SECONDS = int(os.environ.get("OUTBOX_DISPATCH_LEASE_SECONDS", "300"))
    # A claim to send that has not finished by then died with its worker; longer than
    # SMTP_TIMEOUT_SECONDS and the task time limit together.
    OUTBOX_SENDING_LEASE_SECONDS = int(os.environ.get("OUTBOX_SENDING_LEASE_SECONDS", "300"))
    SMTP_TIMEOUT_SECONDS = float(os.environ.get("SMTP_TIMEOUT_SECONDS", "15"))

    # "link": the guide email carries a signed download link that expires; "attachment": the PDF.
    GUIDE_DELIVERY = os.environ.get("GUIDE_DELIVERY", "link")
    # Largest guide PDF an admin may upload; only /admin/guide accepts a body this big.
    GUIDE_UPLOAD_MAX_BYTES = int(os.environ.get("GUIDE_UPLOAD_MAX_BYTES", str(20 * 1024 * 1024)))

    # Speed-to-lead: minutes of working time before an unattempted callback is escalated, and
    # the promise the thank-you page and the confirmation email make ("within N minutes").
    RESPONSE_TARGET_MINUTES = int(os.environ.get("RESPONSE_TARGET_MINUTES", "15"))
    # The three daily windows, named here only. Calls only inside CALLING_HOURS in the contact's
    # own zone (TCPA allows 8:00-21:00); commercial email only inside EMAIL_SEND_HOURS in the
    # contact's zone; the response target counts WORKING_HOURS on WORKING_DAYS in ORG_TIME_ZONE.
    CALLING_HOURS = os.environ.get("CALLING_HOURS", "08:00-21:00")
    EMAIL_SEND_HOURS = os.environ.get("EMAIL_SEND_HOURS", "08:00-20:00")
    ORG_TIME_ZONE = os.environ.get("ORG_TIME_ZONE", "America/New_York")
    WORKING_HOURS = os.environ.get("WORKING_HOURS", "08:00-20:00")
    WORKING_DAYS = os.environ.get("WORKING_DAYS", "mon,tue,wed,thu,fri")
    # Next call: how long a claimed call stays with the advocate who took it before anyone
    # else may take it (an advocate who walks away does not strand the contact).
    # The queue page counts each band only this far ("100+"): a figure for the advocate, not a
    # walk over every due call on each page view.
    QUEUE_COUNT_CAP = int(os.environ.get("QUEUE_COUNT_CAP", "100"))
    # The managers' live board counts further ("1000+") and refreshes itself this often.
    BOARD_COUNT_CAP = int(os.environ.get("BOARD_COUNT_CAP", "1000"))
    BOARD_REFRESH_SECONDS = int(os.environ.get("BOARD_REFRESH_SECONDS", "5"))
    CALL_LEASE_MINUTES = int(os.environ.get("CALL_LEASE_MINUTES", "20"))
    # After no answer, a voicemail or a busy line: when to try again, one offset per retry
    # (each moved into the contact's calling hours). Past the last one the contact closes as
    # unreachable and gets the "we tried to reach you" email.
    CALL_RETRY_OFFSETS = os.environ.get("CALL_RETRY_OFFSETS", "2h,1d,3d")

    # Report roll-ups (crm/services/rollups): events folded per source per transaction, and
    # how long an id gap may stay open before it is taken for a rollback (well above the
    # longest transaction: the task time limit).
    ROLLUP_BATCH_SIZE = int(os.environ.get("ROLLUP_BATCH_SIZE", "2000"))
    ROLLUP_GAP_GRACE_SECONDS = float(os.environ.get("ROLLUP_GAP_GRACE_SECONDS", "300"))

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    # Strict-Transport-Security max-age; 0 sends none (development serves plain HTTP).
    HSTS_SECONDS = 0
    DEV_MAILBOX_ENABLED = False

    # Staff sign-in. argon2id costs: OWASP's floor is t=2 with 19 MiB; these are above it.
    PASSWORD_HASH_TIME_COST = int(os.environ.get("PASSWORD_HASH_TIME_COST", "3"))
    PASSWORD_HASH_MEMORY_KIB = int(os.environ.get("PASSWORD_HASH_MEMORY_KIB", str(64 * 1024)))
    PASSWORD_HASH_PARALLELISM = int(os.environ.get("PASSWORD_HASH_PARALLELISM", "1"))
    # A staff session ends after this long without a request, and this long after sign-in.
    STAFF_IDLE_MINUTES = float(os.environ.get("STAFF_IDLE_MINUTES", "15"))
    STAFF_SESSION_HOURS = float(os.environ.get("STAFF_SESSION_HOURS", "12"))
    # Sign-in attempts: per client address (a whole office shares one), per account from
    # unknown browsers, and per account from each browser that signed in to it before.
    LOGIN_LIMIT_PER_IP = os.environ.get("LOGIN_LIMIT_PER_IP", "100/15 minutes")
    LOGIN_LIMIT_PER_ACCOUNT = os.environ.get("LOGIN_LIMIT_PER_ACCOUNT", "10/15 minutes")
    LOGIN_LIMIT_PER_DEVICE = os.environ.get("LOGIN_LIMIT_PER_DEVICE", "10/15 minutes")
    # Operations. /readyz fails once the beat heartbeat is older than this (several intervals).
    BEAT_HEARTBEAT_MAX_AGE_SECONDS = _env_seconds("BEAT_HEARTBEAT_MAX_AGE_SECONDS", 120)
    # /metrics answers loopback requests that came through no proxy, and any request with
    # "Authorization: Bearer <METRICS_TOKEN>" (when set); everyone else gets a 404.
    METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
    # "json": one JSON object per line (for a log collector); "text": for people.
    LOG_FORMAT = os.environ.get("LOG_FORMAT", "json")
    LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
    # Staff pages: rows per page of search results and lists.
    STAFF_PAGE_SIZE = int(os.environ.get("STAFF_PAGE_SIZE", "25"))
    # A contact list exported as CSV stops here, and says so in its last line.
    EXPORT_MAX_ROWS = int(os.environ.get("EXPORT_MAX_ROWS", "50000"))


class DevelopmentConfig(Config):
    DEBUG = False
    LOG_FORMAT = os.environ.get("LOG_FORMAT", "text")
    DEV_MAILBOX_ENABLED = True


class TestingConfig(Config):
    TESTING = True
    # tests/conftest.py recreates this database from the migrations for every run.
    SQLALCHEMY_DATABASE_URI = "postgresql+psycopg://postgres@127.0.0.1:5432/crm_test"
    REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    RATELIMIT_STORAGE_URI = REDIS_URL
    # A loaded CI machine can take longer than half a second to answer; a limit test must not
    # fall back to per-process memory half way through (the outage tests use refused ports).
    RATELIMIT_STORAGE_OPTIONS = {"socket_connect_timeout": 5, "socket_timeout": 5}
    RATELIMIT_KEY_PREFIX = "crm-test"
    FORM_MIN_SECONDS = 0
    MAIL_DIR = str(INSTANCE_DIR / "test-mail")
    EMBED_ORIGINS = ["https://www.example-advocacy.org"]
    # The floor the issue sets (t >= 2, m >= 19 MiB): tests sign in hundreds of times.
    PASSWORD_HASH_TIME_COST = 2
    PASSWORD_HASH_MEMORY_KIB = 19 * 1024
    # Tests read records through caplog; the console shows only what is worth a look.
    LOG_FORMAT = "text"
    LOG_LEVEL = "WARNING"


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = True
    # __Host-: the browser takes the cookie only if Secure, for the whole site (Path=/) and
    # from this host alone (no Domain), so a sibling subdomain can neither read nor plant it.
    SESSION_COOKIE_NAME = "__Host-session"
    # Two years, as the HSTS preload list asks; HTTPS is terminated at the proxy.
    HSTS_SECONDS = int(os.environ.get("HSTS_SECONDS", str(2 * 365 * 24 * 3600)))

    @classmethod
    def check(cls) -> None:
        """Refuse to start on anything that must never fall back to a default."""
        problems = production_problems(os.environ)
        if problems:
            raise ConfigurationError(
                "Production refuses to start:\n" + "\n".join(f"  - {line}" for line in problems)
            )


class ConfigurationError(RuntimeError):
    """A setting production cannot run without; the message has one line per problem."""


def production_problems(environ) -> list[str]:
    """One clear line for each setting production is missing or has unsafe."""
    problems = []
    secret = environ.get("SECRET_KEY", "")
    if not secret:
        problems.append("SECRET_KEY is not set (use at least 32 random characters).")
    elif secret == DEVELOPMENT_SECRET_KEY:
        problems.append("SECRET_KEY is the development value; generate a new one.")
    elif len(secret) < MIN_SECRET_KEY_LENGTH:
        problems.append(f"SECRET_KEY is shorter than {MIN_SECRET_KEY_LENGTH} characters.")
    problems += data_key_problems(environ.get("DATA_KEYS", ""))
    for name, what in (
        ("DATABASE_URL", "the PostgreSQL database"),
        ("REDIS_URL", "the Celery broker and rate-limit storage"),
        ("SMTP_URL", "outgoing mail"),
    ):
        if not environ.get(name):
            problems.append(f"{name} is not set ({what}).")
    # The SMTP URL's own rules (TLS, no AUTH in the clear, certificates verified) live with
    # the mail code that obeys them.
    from crm.services.mail import smtp_url_problems

    problems += smtp_url_problems(environ.get("SMTP_URL", ""), "production")
    public_url = environ.get("PUBLIC_BASE_URL", "")
    if not public_url.startswith("https://"):
        problems.append("PUBLIC_BASE_URL must be set to the site's https:// address.")
    hops = environ.get("TRUSTED_PROXY_HOPS")
    if hops is None or not hops.strip().isdigit():
        problems.append(
            "TRUSTED_PROXY_HOPS must be set explicitly: the number of proxies in front "
            "(0 when none)."
        )
    return problems


def data_key_problems(setting: str) -> list[str]:
    from crm.crypto import KeysMisconfigured, parse_keys

    if not setting:
        return ["DATA_KEYS is not set (make one with `flask crm new-data-key`)."]
    if DEVELOPMENT_DATA_KEYS.split("=")[1] in setting:
        return ["DATA_KEYS holds the development key; make one with `flask crm new-data-key`."]
    try:
        parse_keys(setting)
    except KeysMisconfigured as bad:
        return [f"{bad}."]
    return []


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}
