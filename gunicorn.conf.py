"""Gunicorn settings, read from the environment (the Procfile and docs/deploy use this file).

gthread workers: a request waiting on the database holds a thread, not a process, and the
chat's event streams (CHAT_STREAM_SECONDS) each hold one thread for their length.
"""

import os

bind = os.environ.get("BIND") or f"127.0.0.1:{os.environ.get('PORT', '8000')}"
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("WEB_THREADS", "8"))
# A worker silent this long is restarted; graceful stops let running requests finish.
timeout = int(os.environ.get("WEB_TIMEOUT_SECONDS", "30"))
graceful_timeout = int(os.environ.get("WEB_GRACEFUL_TIMEOUT_SECONDS", "20"))
keepalive = int(os.environ.get("WEB_KEEPALIVE_SECONDS", "5"))
# No access log: its lines carry paths and query strings (tokens, what staff searched for).
# The app logs one line per request with the endpoint, status, time and request id instead.
accesslog = None
errorlog = "-"
# No control socket (gunicorn 25.1+): its default path is one per user, which a second
# gunicorn on the machine would fight over, and nothing here uses it.
control_socket_disable = True


def child_exit(server, worker):
    """A dead worker's live gauges leave the shared metrics directory (its counts stay)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
