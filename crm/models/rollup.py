"""Report roll-ups: derived from contacts, stage changes and calls by crm/services/rollups.

Ordinary tables (not append-only): `flask crm rebuild-rollups` empties and recomputes them.
Key columns hold '' and 0 instead of NULL so that a key is one unique row on every backend
(NULLs are never equal in a unique index), and an upsert can add to it.
"""

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from crm.models.base import Base, UTCDateTime


def _key_text(length: int = 200):
    return mapped_column(sa.String(length), primary_key=True, default="")


class RollupWatermark(Base):
    """How far one source of events has been folded into the roll-ups."""

    __tablename__ = "rollup_watermarks"

    name: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    last_id: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    # Ids at or below settled_id that are still missing belong to transactions that rolled
    # back: they are passed over. horizon_id is the highest id seen at horizon_at; once it
    # is ROLLUP_GAP_GRACE_SECONDS old it becomes settled_id.
    settled_id: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    horizon_id: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    horizon_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Contacts whose report dimensions changed are looked for from here (minus the grace).
    synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class RollupContact(Base):
    """One lead's cohort day and report dimensions, as last folded into funnel_daily."""

    __tablename__ = "rollup_contacts"

    contact_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    cohort_day: Mapped[date] = mapped_column(sa.Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    form: Mapped[str] = mapped_column(sa.String(32), default="")
    source: Mapped[str] = mapped_column(sa.String(200), default="")
    medium: Mapped[str] = mapped_column(sa.String(200), default="")
    campaign: Mapped[str] = mapped_column(sa.String(200), default="")
    diagnosis: Mapped[str] = mapped_column(sa.String(32), default="")
    is_veteran: Mapped[bool] = mapped_column(default=False)
    state: Mapped[str] = mapped_column(sa.String(2), default="")
    advocate_id: Mapped[int] = mapped_column(default=0)
    first_call_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    first_caller_id: Mapped[int | None] = mapped_column()


class ContactMilestone(Base):
    """The first time a contact reached a funnel stage, or was lost for a reason."""

    __tablename__ = "contact_milestones"

    contact_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    # A funnel stage (new ... referred, helped) or "lost:<close outcome>"; no CHECK: the
    # values are derived, and a new close outcome needs no migration here.
    stage: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    reached_at: Mapped[datetime] = mapped_column(UTCDateTime())


class FunnelDaily(Base):
    """Contacts of one cohort day and dimension combination that reached one stage."""

    __tablename__ = "funnel_daily"

    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    form: Mapped[str] = _key_text(32)
    source: Mapped[str] = _key_text()
    medium: Mapped[str] = _key_text()
    campaign: Mapped[str] = _key_text()
    diagnosis: Mapped[str] = _key_text(32)
    is_veteran: Mapped[bool] = mapped_column(primary_key=True, default=False)
    state: Mapped[str] = _key_text(2)
    advocate_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False, default=0)
    stage: Mapped[str] = _key_text(40)
    contacts: Mapped[int] = mapped_column(default=0)


class SpeedDaily(Base):
    """Leads of one cohort day and form first called by one advocate, per minutes bucket."""

    __tablename__ = "speed_daily"

    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    form: Mapped[str] = _key_text(32)
    advocate_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    minutes_bucket: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    contacts: Mapped[int] = mapped_column(default=0)


class CallDaily(Base):
    """Calls one advocate logged on one day with one outcome, per handling-time bucket."""

    __tablename__ = "call_daily"

    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    user_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    outcome: Mapped[str] = _key_text(32)
    seconds_bucket: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    calls: Mapped[int] = mapped_column(default=0)
    seconds_total: Mapped[int] = mapped_column(sa.BigInteger, default=0)


class ReportSlice(Base):
    """A measure summed over a block of days, for all leads or one value of one dimension.

    The roll-ups above at a coarser grain, so that a report reads the same few rows whatever
    the number of leads: `span` is the block's length in days (a power of two) and `day` its
    first day, aligned on a multiple of the span (crm/services/rollups/slices.py). Families:
    "funnel" (measure: milestone; dimension '' or a funnel_daily dimension), "speed"
    (measure: minutes bucket; '', form, advocate_id), "calls" (measure: outcome and
    handling-time bucket; dimension user_id; `total` holds the seconds), "submissions"
    (measure: "submitted"; '' and form) and "chats" (crm/services/rollups/chat_fold.py).
    """

    __tablename__ = "report_slices"
    # The amounts ride in the key's index on PostgreSQL: a report's read is then index-only.
    __table_args__ = (
        sa.PrimaryKeyConstraint(
            "family",
            "dimension",
            "span",
            "day",
            "value",
            "measure",
            postgresql_include=["n", "total"],
        ),
    )

    family: Mapped[str] = _key_text(16)
    dimension: Mapped[str] = _key_text(16)
    span: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True, autoincrement=False)
    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    value: Mapped[str] = _key_text()
    measure: Mapped[str] = _key_text(48)
    n: Mapped[int] = mapped_column(default=0)
    total: Mapped[int] = mapped_column(sa.BigInteger, default=0)


class GuideMilestone(Base):
    """One guide request (its submission) reached one step: emailed, opened, printed, ..."""

    __tablename__ = "guide_milestones"

    submission_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    # emailed, opened, to_print, printed or shipped (crm/services/rollups/referral_fold.py).
    milestone: Mapped[str] = _key_text(20)


class ReferralGuideDaily(Base):
    """Referrals of one kind sent on one day, or guides requested on one day, per step reached.

    Kind is a referral kind (specialist, va_claims_handoff) or "guide"; the day is the cohort's:
    the day the referral was sent, or the day the guide was requested (its submission).
    """

    __tablename__ = "referral_guide_daily"

    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    kind: Mapped[str] = _key_text(32)
    milestone: Mapped[str] = _key_text(32)
    items: Mapped[int] = mapped_column(default=0)
