"""What a report page shows: periods, and tables whose cells the page and its CSV share.

A cell is an int or the text the page prints, so that the CSV is exactly the table on the
screen (numbers stay numbers for the spreadsheet; a negative change is a number, not a formula).
"""

from dataclasses import dataclass, field
from datetime import date, timedelta

from crm.models.enums import CloseOutcome, Diagnosis, FormKind
from crm.services.rollups.buckets import Bucket

NOT_APPLICABLE = "n/a"
STAGE_LABELS = {
    "new": "New lead",
    "attempting": "Attempting",
    "contacted": "Contacted",
    "qualified": "Qualified",
    "referred": "Referred",
    "helped": "Closed: helped",
}


@dataclass(frozen=True)
class Period:
    """Days of the organisation's calendar, both ends included."""

    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> "Period":
        """The period of the same length just before this one."""
        return Period(self.start - timedelta(days=self.days), self.start - timedelta(days=1))

    def each_day(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range(self.days)]

    def __str__(self) -> str:
        return f"{self.start.isoformat()} to {self.end.isoformat()}"


@dataclass(frozen=True)
class Table:
    """One table of a report: the page prints it and its CSV link exports it."""

    key: str  # names the table in its CSV link and its element id
    title: str
    header: tuple[str, ...]
    rows: list[tuple] = field(default_factory=list)
    note: str = ""


def share(part: int, whole: int | None) -> str:
    """A proportion as a percentage with one decimal, or n/a when there is nothing to divide."""
    return f"{100 * part / whole:.1f}%" if whole else NOT_APPLICABLE


def ratio(part: int, whole: int) -> str:
    return f"{part / whole:.1f}" if whole else NOT_APPLICABLE


def span(bucket: Bucket | None, unit: str) -> str:
    """A histogram bucket as text: "10 min" for a one-minute bucket, "60-75 min" for wider ones."""
    if bucket is None:
        return NOT_APPLICABLE
    if bucket.high is None:
        return f"{bucket.low}+ {unit}"
    if unit == "min" and bucket.high - bucket.low == 1:
        return f"{bucket.low} {unit}"
    return f"{bucket.low}-{bucket.high} {unit}"


def value_label(dimension: str, value: object, names: dict[int, str]) -> str:
    """A dimension's value as people read it; None is a lead that gave none."""
    if dimension == "is_veteran":
        return "Veteran" if value else "Not a veteran"
    if value is None:
        return "(none)"
    if dimension == "advocate_id":
        return names.get(value, f"User {value}")
    kind = {"form": FormKind, "diagnosis": Diagnosis}.get(dimension)
    member = kind.from_value(value) if kind else None
    return member.label if member else str(value)


def lost_label(reason: str) -> str:
    member = CloseOutcome.from_value(reason)
    return member.label if member else reason
