"""The referrals and guides report's figures, read from referral_guide_daily only.

Days are cohort days of the organisation's calendar (ORG_TIME_ZONE), inclusive at both
ends: the day a referral was sent, the day a guide was requested (referral_fold.py).
"""

from datetime import date

import sqlalchemy as sa

from crm.extensions import db
from crm.models import ReferralGuideDaily


def counts(start: date, end: date) -> dict[str, dict[str, int]]:
    """kind (a referral kind, or "guide") -> step -> referrals or requests that reached it."""
    query = (
        sa.select(
            ReferralGuideDaily.kind,
            ReferralGuideDaily.milestone,
            sa.func.sum(ReferralGuideDaily.items),
        )
        .where(ReferralGuideDaily.day.between(start, end))
        .group_by(ReferralGuideDaily.kind, ReferralGuideDaily.milestone)
    )
    per_kind: dict[str, dict[str, int]] = {}
    for kind, milestone, items in db.session.execute(query):
        if items:
            per_kind.setdefault(kind, {})[milestone] = int(items)
    return per_kind


def daily(start: date, end: date) -> dict[date, dict[tuple[str, str], int]]:
    """Per cohort day: (kind, step) -> referrals or requests of that day that reached it."""
    query = sa.select(
        ReferralGuideDaily.day,
        ReferralGuideDaily.kind,
        ReferralGuideDaily.milestone,
        ReferralGuideDaily.items,
    ).where(ReferralGuideDaily.day.between(start, end), ReferralGuideDaily.items != 0)
    per_day: dict[date, dict[tuple[str, str], int]] = {}
    for day, kind, milestone, items in db.session.execute(query):
        per_day.setdefault(day, {})[(kind, milestone)] = int(items)
    return dict(sorted(per_day.items()))
