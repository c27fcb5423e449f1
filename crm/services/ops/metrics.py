"""Prometheus metrics: counters kept by each process, gauges read from the database per scrape.

Counters and the latency histogram live in the process that counts (web or worker). Under
gunicorn or Celery's prefork pool, set PROMETHEUS_MULTIPROC_DIR (one directory per machine,
shared by its web and worker processes, emptied only while none of them runs): each process
then writes its counts there and a scrape sums them. Without it a scrape sees this process.

The gauges are a few statements per scrape, each on an index (the board's capped counts, the
outbox's (status, due_at), the chats' waiting index): they hold counts and ages, never a row.
"""

import hmac
import ipaddress
import os
from datetime import datetime

import sqlalchemy as sa
from flask import Request
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily

from crm.extensions import db
from crm.models import Chat, OutboxMessage
from crm.models.enums import OutboxStatus
from crm.services.live_board import queue_counts

_WAITING_TO_SEND = (OutboxStatus.pending, OutboxStatus.dispatched, OutboxStatus.sending)


def scrape(now: datetime) -> bytes:
    """The text exposition of every metric: the counters, then the gauges read just now."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
        body = generate_latest(registry)
    else:
        body = generate_latest(REGISTRY)
    gauges = CollectorRegistry()
    gauges.register(_DatabaseGauges(now))
    return body + generate_latest(gauges)


class _DatabaseGauges:
    def __init__(self, now: datetime):
        self.now = now

    def collect(self):
        now = self.now
        counts = queue_counts(now)
        depth = GaugeMetricFamily(
            "crm_call_queue_depth",
            "Open calls due now, by queue band (counted no further than BOARD_COUNT_CAP + 1)",
            labels=["band"],
        )
        for band, value in counts.items():
            if band != "breaches":
                depth.add_metric([band], value)
        yield depth
        yield GaugeMetricFamily(
            "crm_sla_breaches",
            "Callbacks escalated and never attempted, now (capped like the queue depth)",
            value=counts["breaches"],
        )
        outbox = db.session.execute(_outbox_statement(), {"now": now}).one()
        yield GaugeMetricFamily(
            "crm_outbox_backlog",
            "Outbox rows due and not yet sent (pending, dispatched or sending)",
            value=outbox.backlog,
        )
        oldest = [
            when
            for when in (outbox.oldest_pending, outbox.oldest_dispatched, outbox.oldest_sending)
            if when is not None
        ]
        yield GaugeMetricFamily(
            "crm_outbox_oldest_age_seconds",
            "Age of the longest-due outbox row not yet sent (0 when none)",
            value=max(0.0, (now - min(oldest)).total_seconds()) if oldest else 0.0,
        )
        given_up = GaugeMetricFamily(
            "crm_outbox_given_up",
            "Emails given up on, by status (dead or bounced)",
            labels=["status"],
        )
        given_up.add_metric(["dead"], outbox.dead)
        given_up.add_metric(["bounced"], outbox.bounced)
        yield given_up
        yield GaugeMetricFamily(
            "crm_chats_waiting", "Chats waiting for an advocate", value=outbox.chats_waiting
        )


def _outbox_statement() -> sa.Select:
    """Every outbox and chat figure in one round trip, each an index range or endpoint."""
    now = sa.bindparam("now", type_=OutboxMessage.due_at.type)

    def count(*conditions, source=OutboxMessage) -> sa.ScalarSelect:
        return sa.select(sa.func.count()).select_from(source).where(*conditions).scalar_subquery()

    def oldest(status: OutboxStatus) -> sa.ScalarSelect:
        return (
            sa.select(sa.func.min(OutboxMessage.due_at))
            .where(OutboxMessage.status == status, OutboxMessage.due_at <= now)
            .scalar_subquery()
        )

    due = [
        count(OutboxMessage.status == status, OutboxMessage.due_at <= now)
        for status in _WAITING_TO_SEND
    ]
    return sa.select(
        (due[0] + due[1] + due[2]).label("backlog"),
        oldest(OutboxStatus.pending).label("oldest_pending"),
        oldest(OutboxStatus.dispatched).label("oldest_dispatched"),
        oldest(OutboxStatus.sending).label("oldest_sending"),
        count(OutboxMessage.status == OutboxStatus.dead).label("dead"),
        count(OutboxMessage.status == OutboxStatus.bounced).label("bounced"),
        # Written as ix_chats_waiting's own predicate, so the partial index serves it.
        count(sa.text("status = 'waiting'"), source=Chat).label("chats_waiting"),
    )


def scrape_allowed(request: Request, token: str) -> bool:
    """A bearer token equal to METRICS_TOKEN, or a loopback caller that came through no proxy.

    "Loopback" is the socket's own peer (ProxyFix keeps it), never a forwarded address; and a
    request carrying forwarding headers came through a proxy, whose other side may be anyone.
    """
    header = request.headers.get("Authorization", "")
    if token and header.startswith("Bearer "):
        return hmac.compare_digest(header[len("Bearer ") :].encode(), token.encode())
    if any(name in request.headers for name in ("X-Forwarded-For", "Forwarded", "X-Real-IP")):
        return False
    original = request.environ.get("werkzeug.proxy_fix.orig", {})
    peer = original.get("REMOTE_ADDR", request.environ.get("REMOTE_ADDR", ""))
    try:
        return ipaddress.ip_address(peer).is_loopback
    except ValueError:
        return False
