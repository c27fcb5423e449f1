"""Small fixed report data around New York's midnight, and the tables of a report page."""

import csv
import io
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

from crm.extensions import db
from crm.models import Submission
from crm.models.enums import CallOutcome, CloseOutcome, FormKind, Role, Stage
from crm.services import rollups
from crm.services.actors import SYSTEM
from crm.services.stages import StageMove, change_stage
from tests.factories import make_contact, make_user
from tests.rollup_data import log_call

FORMULA_CAMPAIGN = '=HYPERLINK("http://evil.example","click")'


def utc(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def _lead(at: datetime, form=FormKind.guide, campaign=None, owner=None):
    contact = make_contact(form, received_at=at, attribution={"utm_campaign": campaign})
    contact.assigned_user_id = owner
    return contact


def _moves(contact, *moves):
    for to_stage, at, *outcome in moves:
        change_stage(contact.id, StageMove(to_stage, "report test", *outcome), SYSTEM, at=at)


def seed_report_data() -> dict:
    """Leads of 8-12 November 2026 (New York), their moves and calls, folded into roll-ups.

    The period 10-11 November holds A (23:30 on the 10th in New York, though the 11th in UTC),
    B (who sends a second form that day, and corrects it) and C (23:59 on the 11th); D is
    midnight of the 12th, outside; E is the period before.
    """
    ann = make_user(Role.advocate, name="Ann Avery")
    bob = make_user(Role.advocate, name="Bob Brown")
    a = _lead(utc(11, 4, 30), FormKind.callback, FORMULA_CAMPAIGN, ann.id)
    log_call(a, ann.id, utc(11, 4, 40), CallOutcome.reached, 600)
    _moves(a, (Stage.qualified, utc(11, 5, 0)), (Stage.referred, utc(11, 6, 0)))
    b = _lead(utc(11, 15, 0), campaign="fall", owner=bob.id)
    log_call(b, bob.id, utc(11, 15, 45), CallOutcome.no_answer, 30)
    _moves(b, (Stage.attempting, utc(11, 15, 45)))
    # B comes back on the 11th with a second form, then corrects a typo in it: two forms
    # sent that day by B, the correction not counted as a third.
    again = Submission(
        form=FormKind.specialist_match, contact_id=b.id, fields={}, created_at=utc(11, 20)
    )
    db.session.add(again)
    db.session.flush()
    db.session.add(
        Submission(
            form=FormKind.specialist_match,
            contact_id=b.id,
            fields={},
            created_at=utc(11, 20, 5),
            corrects_submission_id=again.id,
        )
    )
    c = _lead(utc(12, 4, 59))
    _moves(c, (Stage.closed, utc(12, 6, 0), CloseOutcome.not_interested))
    _lead(utc(12, 5, 0))
    e = _lead(utc(9, 12, 0))
    _moves(e, (Stage.contacted, utc(9, 12, 0) + timedelta(hours=1)))
    db.session.commit()
    rollups.refresh()
    return {"ann": ann, "bob": bob}


class _Tables(HTMLParser):
    """The text of every cell of every table with an id, header row first."""

    def __init__(self):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._rows = None
        self._cell = None

    def handle_starttag(self, tag, attrs):
        if tag == "table" and dict(attrs).get("id"):
            self._rows = self.tables.setdefault(dict(attrs)["id"], [])
        elif tag == "tr" and self._rows is not None:
            self._rows.append([])
        elif tag in ("td", "th") and self._rows is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "table":
            self._rows = None
        elif tag in ("td", "th") and self._cell is not None:
            self._rows[-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def page_tables(html: str) -> dict[str, list[list[str]]]:
    """{table id without "table-": rows of cell text}, as a person reads the page."""
    parser = _Tables()
    parser.feed(html)
    return {key.removeprefix("table-"): rows for key, rows in parser.tables.items()}


def read_csv(response) -> list[list[str]]:
    """A CSV download's rows, as Python's csv module reads them (after its UTF-8 BOM)."""
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline="")))
