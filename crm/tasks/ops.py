"""The beat heartbeat, thin over crm.services.ops.health."""

from celery import shared_task

from crm.models import utcnow
from crm.services.ops import health


@shared_task(name="ops.heartbeat", ignore_result=True)
def beat_heartbeat() -> None:
    """Note that beat, the broker and a worker all did their part just now (/readyz reads it)."""
    health.record_beat(utcnow())
