"""Retention: contacts nobody ever reached are anonymised after a while (crm.services.privacy)."""

import logging

from celery import shared_task
from flask import current_app

from crm.extensions import db
from crm.models import utcnow
from crm.services import privacy

log = logging.getLogger(__name__)


@shared_task(name="privacy.erase_never_reached", ignore_result=True)
def erase_never_reached() -> int:
    """Anonymise one batch of never-reached contacts past NEVER_REACHED_RETENTION_DAYS."""
    days = current_app.config["NEVER_REACHED_RETENTION_DAYS"]
    if not days:
        return 0
    erased = privacy.erase_never_reached(utcnow(), days)
    db.session.commit()
    if erased:
        log.info("retention: anonymised %d never-reached contacts", erased)
    return erased
