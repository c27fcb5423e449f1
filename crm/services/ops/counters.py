"""The counters each process keeps (imported by the code that counts; nothing else here).

Labels are bounded sets (form kinds, email kinds, endpoint names): never ids or paths.
"""

from prometheus_client import Counter, Histogram

SUBMISSIONS = Counter(
    "crm_submissions", "Submissions stored (replays not counted), by form kind", ["form"]
)
EMAILS_SENT = Counter("crm_emails_sent", "Emails accepted by the SMTP server, by kind", ["kind"])
# By endpoint (the view's name), never by path: paths carry ids and tokens without bound.
REQUEST_SECONDS = Histogram(
    "crm_request_duration_seconds",
    "Time from request to response headers, by endpoint",
    ["endpoint"],
)
UNMATCHED_ENDPOINT = "unmatched"
