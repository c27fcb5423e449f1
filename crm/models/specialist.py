"""The specialist directory (doctors and cancer centres) and the referrals advocates send."""

from datetime import datetime

import phonenumbers
import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from crm.models.base import Base, UTCDateTime, created_at_column, enum_type, utcnow
from crm.models.enums import ReferralKind, ReferralStatus, SpecialistKind, Specialty


class Specialist(Base):
    __tablename__ = "specialists"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    kind: Mapped[SpecialistKind] = mapped_column(enum_type(SpecialistKind, "kind"))
    # Specialty codes (crm.models.enums.Specialty), like users' skills: a small set per row.
    specialties: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    organisation: Mapped[str] = mapped_column(sa.String(160))
    city: Mapped[str] = mapped_column(sa.String(80))
    state: Mapped[str] = mapped_column(sa.String(2))
    zip_code: Mapped[str] = mapped_column(sa.String(5))
    phone: Mapped[str] = mapped_column(sa.String(20))
    email: Mapped[str | None] = mapped_column(sa.String(254))
    accepts_va: Mapped[bool] = mapped_column(default=False)
    # Deactivated rather than deleted: referrals keep pointing at who they went to.
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    @property
    def display_phone(self) -> str:
        """The phone as people write it, (617) 555-0100, from the stored E.164."""
        number = phonenumbers.parse(self.phone, "US")
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)

    @property
    def specialty_labels(self) -> list[str]:
        return [Specialty(code).label for code in self.specialties]


class Referral(Base):
    """One person sent to one specialist (or to VA claims help), followed to its outcome."""

    __tablename__ = "referrals"
    __table_args__ = (
        # A specialist referral names its specialist; a VA claims hand-off names none.
        sa.CheckConstraint(
            "(kind = 'specialist') = (specialist_id IS NOT NULL)", name="specialist_matches_kind"
        ),
        sa.Index("ix_referrals_status_created_at", "status", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(
        sa.ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    specialist_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("specialists.id", ondelete="RESTRICT"), index=True
    )
    kind: Mapped[ReferralKind] = mapped_column(enum_type(ReferralKind, "kind"))
    status: Mapped[ReferralStatus] = mapped_column(
        enum_type(ReferralStatus, "status"), default=ReferralStatus.sent
    )
    created_by_user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id", ondelete="RESTRICT"))
    # The match email that told the person about this specialist.
    outbox_id: Mapped[int | None] = mapped_column(sa.ForeignKey("outbox.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
