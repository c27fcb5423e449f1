"""Probes and metrics for operators: /healthz, /readyz, /metrics.

No sign-in, CSRF or rate limit applies (a probe holds no session and sends no form), and each
answer is cheap: /healthz touches nothing, /readyz makes one database and one broker round trip.
"""

import logging
import time

from flask import Blueprint, Flask, Response, abort, current_app, g, jsonify, request

from crm.models import utcnow
from crm.services.ops import counters, health, metrics

bp = Blueprint("ops", __name__)
log = logging.getLogger("crm.requests")


@bp.get("/healthz")
def healthz():
    """The process answers requests; nothing else is asked (a restart would not cure it)."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    """Ready for traffic: 200, or 503 with the names of the checks that failed."""
    report = health.readiness(utcnow())
    response = jsonify(report.as_json())
    response.status_code = 200 if report.ready else 503
    return response


@bp.get("/metrics")
def prometheus_metrics():
    if not metrics.scrape_allowed(request, current_app.config["METRICS_TOKEN"]):
        # Not found, rather than forbidden: a stranger learns nothing of what is here.
        abort(404)
    body = metrics.scrape(utcnow())
    return Response(body, mimetype="text/plain")


def observe_requests(app: Flask) -> None:
    """Time each request into the latency histogram and log one line of ids and numbers."""

    @app.before_request
    def start_clock():
        g.request_started = time.perf_counter()

    @app.after_request
    def stop_clock(response):
        started = g.pop("request_started", None)
        if started is None:
            return response
        seconds = time.perf_counter() - started
        endpoint = request.endpoint or counters.UNMATCHED_ENDPOINT
        counters.REQUEST_SECONDS.labels(endpoint).observe(seconds)
        # The endpoint, not the path: paths carry tokens and ids, query strings what was typed.
        log.info("%s %s %s %.1fms", request.method, endpoint, response.status_code, seconds * 1000)
        return response
