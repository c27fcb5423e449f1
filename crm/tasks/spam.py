"""Periodic clean-up of suspected spam, thin over crm.services.spam."""

from celery import shared_task
from flask import current_app

from crm.extensions import db
from crm.models import utcnow
from crm.services import spam


@shared_task(name="spam.purge", ignore_result=True)
def purge_old_spam() -> int:
    """Delete kept submits nobody released within the retention period."""
    purged = spam.purge_expired(utcnow(), current_app.config["SPAM_RETENTION_DAYS"])
    # The task is the unit of work here, as the request is for a staff view.
    db.session.commit()
    return purged
