"""The guide link in the guide email: the first time it is opened goes on the timeline.

The reports count guides whose link was opened (crm/services/rollups/referral_fold.py).
Only the first open of a request's link is recorded: a guide read ten times is one opened
guide, and the timeline stays a history of steps, not of downloads. The event names the
submission and nothing else (no address, no agent: nothing about who opened it). A mail
scanner that follows links also counts as an open; nothing in a GET can tell them apart.
"""

from datetime import datetime

import sqlalchemy as sa

from crm.extensions import db
from crm.models import TimelineEvent
from crm.models.enums import TimelineKind
from crm.services import events
from crm.services.actors import VISITOR


def record_first_open(submission_id: int, contact_id: int, at: datetime | None = None) -> bool:
    """Record the guide_opened event unless the link was opened before; commit. True if new."""
    opened = db.session.scalar(
        sa.select(TimelineEvent.id)
        .where(
            TimelineEvent.contact_id == contact_id,
            TimelineEvent.submission_id == submission_id,
            TimelineEvent.kind == TimelineKind.guide_opened,
        )
        .limit(1)
    )
    if opened is not None:
        return False
    # Two opens at the same moment may both record one: the roll-up counts a request once.
    events.record(
        contact_id, TimelineKind.guide_opened, VISITOR, submission_id=submission_id, at=at
    )
    db.session.commit()
    return True
