"""A person we may help: one row per human, however many forms they send."""

import unicodedata
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.models.attribution import AttributionMixin
from crm.models.base import (
    Base,
    UTCDateTime,
    bytewise,
    created_at_column,
    enum_type,
    utcnow,
)
from crm.models.enums import (
    CloseOutcome,
    Diagnosis,
    Language,
    Relationship,
    Stage,
    VeteranBranch,
)


class Contact(AttributionMixin, Base):
    """A lead; its attribution columns hold the first touch that brought them to us."""

    __tablename__ = "contacts"
    __table_args__ = (
        sa.CheckConstraint("email IS NOT NULL OR phone_e164 IS NOT NULL", name="reachable"),
        sa.CheckConstraint(
            "(stage = 'closed') = (close_outcome IS NOT NULL)", name="closed_has_outcome"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    first_name: Mapped[str] = mapped_column(sa.String(80))
    last_name: Mapped[str] = mapped_column(sa.String(80))
    # Lower-cased, so that dedupe is a plain unique lookup.
    email: Mapped[str | None] = mapped_column(sa.String(254), unique=True)
    # Not unique: families share phones (patient and caregiver). The same phone with another
    # name is another person, linked as a possible duplicate for staff to resolve.
    phone_e164: Mapped[str | None] = mapped_column(sa.String(20), index=True)
    zip_code: Mapped[str | None] = mapped_column(sa.String(10))
    state: Mapped[str | None] = mapped_column(sa.String(2))
    time_zone: Mapped[str | None] = mapped_column(sa.String(64))
    relationship_to_patient: Mapped[Relationship | None] = mapped_column(
        enum_type(Relationship, "relationship")
    )
    diagnosis: Mapped[Diagnosis | None] = mapped_column(enum_type(Diagnosis, "diagnosis"))
    is_veteran: Mapped[bool] = mapped_column(default=False)
    veteran_branch: Mapped[VeteranBranch | None] = mapped_column(
        enum_type(VeteranBranch, "veteran_branch")
    )
    # The language they asked to be called in: the queue offers a Spanish speaker to an
    # advocate with the Spanish skill first (crm/services/queue/routing.py).
    preferred_language: Mapped[Language] = mapped_column(
        enum_type(Language, "preferred_language"), default=Language.en, server_default="en"
    )
    # An advocate logged "wrong number" for this phone: the queue never offers it again.
    phone_wrong_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    stage: Mapped[Stage] = mapped_column(enum_type(Stage, "stage"), default=Stage.new)
    close_outcome: Mapped[CloseOutcome | None] = mapped_column(
        enum_type(CloseOutcome, "close_outcome")
    )
    # Set when a submission matched another contact too: by phone with another name, or by
    # email and by phone to two different contacts. Staff merge them or keep them apart.
    # Indexed: the contact page finds the records linked to it from the other side.
    possible_duplicate_of_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("contacts.id", ondelete="SET NULL"), index=True
    )
    # Folded into another record by staff: its rows stay here (they are append-only) and the
    # survivor's page shows them; search and queues skip a merged contact.
    merged_into_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("contacts.id", ondelete="SET NULL"), index=True
    )
    # The advocate who owns this contact's follow-up, if any.
    assigned_user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    submission_count: Mapped[int] = mapped_column(default=0)
    # Set by a privacy erasure (crm/services/privacy.py): the row stays for the reports' counts.
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = created_at_column()
    # Indexed: the report roll-ups look for contacts whose dimensions changed since last time.
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow, index=True
    )

    submissions = relationship("Submission", back_populates="contact", lazy="raise")

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def __repr__(self) -> str:
        return f"<Contact {self.id} {self.stage}>"


# Staff search (crm/services/contact_search.py) looks contacts up by these keys. Each index
# holds a key and then the id newest first, which is the order of a page of results, so a
# page is one short index range however many contacts there are. Only PostgreSQL gets the
# indexes: SQLite, the embedded default, scans.
_c = Contact.__table__.c


def _name_key(first: sa.ColumnElement, second: sa.ColumnElement) -> sa.ColumnElement:
    # Parenthesised as PostgreSQL prints the index back, so the migrations test compares it;
    # the space is written into the SQL, not bound: an index matches constants only, and a
    # prepared statement's generic plan would not see it.
    space = sa.literal_column("' '", sa.String)
    joined = sa.Grouping(first.op("||")(space)).op("||")(sa.Grouping(bytewise(second)))
    return sa.func.search_fold(joined, type_=sa.String)  # lower case, accents removed


SEARCH_KEYS = {
    "name": _name_key(_c.first_name, _c.last_name),
    "surname": _name_key(_c.last_name, _c.first_name),
    "email": sa.func.lower(bytewise(_c.email), type_=sa.String),
    # Reversed, so that the last digits of a number are the start of its key.
    "phone": sa.func.reverse(bytewise(_c.phone_e164), type_=sa.String),
}
for _kind, _key in SEARCH_KEYS.items():
    sa.Index(f"ix_contacts_search_{_kind}", _key, _c.id.desc()).ddl_if(dialect="postgresql")


def search_fold_text(text: str) -> str:
    """Fold text as the database's search_fold() does: lower case, accents removed."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


# What SQLite lacks of the functions above; registered on each of its connections.
SQLITE_FUNCTIONS = {
    "search_fold": lambda text: None if text is None else search_fold_text(text),
    "reverse": lambda text: None if text is None else text[::-1],
    "local_clock": lambda moment, zone: _sqlite_local_clock(moment, zone),
}


def _sqlite_local_clock(moment, zone):
    from crm.services.queue.rules import sqlite_local_clock  # the queue owns calling time

    return sqlite_local_clock(moment, zone)
