"""Periodic callback checks, thin over crm.services.escalation."""

from celery import shared_task

from crm.models import utcnow
from crm.services import escalation


@shared_task(name="callbacks.escalate", ignore_result=True)
def escalate_missed_callbacks() -> int:
    """Alert the managers about callbacks nobody attempted within the response target."""
    return len(escalation.escalate_missed_callbacks(utcnow()))
