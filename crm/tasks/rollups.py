"""Periodic refresh of the report roll-ups, thin over crm.services.rollups."""

from celery import shared_task

from crm.services import rollups


@shared_task(name="rollups.refresh", ignore_result=True)
def refresh_rollups() -> int:
    """Fold the events written since the last run into the report roll-ups."""
    # refresh() commits each batch itself: a long catch-up keeps what it has done.
    return rollups.refresh()
