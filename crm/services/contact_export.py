"""The staff contact search as CSV rows: the same contacts in the same order, read in batches.

The contacts are chosen first, by id (up to a cap, through the search itself, a page at a time),
so that what is audited is exactly who is in the file; their details are then read a batch at a
time while the file streams, so the rows never all sit in memory.
"""

from collections.abc import Iterator
from dataclasses import dataclass

import sqlalchemy as sa

from crm.extensions import db
from crm.models import Contact, Submission
from crm.models.enums import CancerStage, Role
from crm.services.contact_search import SearchKind, search_contacts

EXPORT_BATCH_SIZE = 500
# Health data is for the roles that read it on the contact page; admins never do.
HEALTH_READERS = (Role.manager,)

HEADER = (
    "Contact id",
    "Name",
    "Email",
    "Phone",
    "State",
    "Stage",
    "Form",
    "Source",
    "Medium",
    "Campaign",
    "Created",
)
HEALTH_HEADER = ("Diagnosis", "Veteran", "Branch of service", "Cancer stage")


@dataclass(frozen=True)
class ChosenContacts:
    kind: SearchKind
    contact_ids: list[int]
    cut: bool  # more contacts matched than the cap let into the file


def choose_contacts(query: str, max_rows: int) -> ChosenContacts | None:
    """The ids the search lists for query, in its order, up to max_rows; None if not a search."""
    ids: list[int] = []
    after = None
    while True:
        # One more than the cap, to know whether the file is cut.
        limit = min(EXPORT_BATCH_SIZE, max_rows + 1 - len(ids))
        page = search_contacts(query, after=after, limit=limit)
        if page.kind is None:
            return None
        ids += [row.id for row in page.rows]
        if page.next_cursor is None or len(ids) > max_rows:
            return ChosenContacts(page.kind, ids[:max_rows], cut=len(ids) > max_rows)
        after = page.next_cursor


def header(include_health: bool) -> tuple[str, ...]:
    return HEADER + HEALTH_HEADER if include_health else HEADER


def contact_rows(chosen: ChosenContacts, include_health: bool) -> Iterator[tuple]:
    """One row per chosen contact, a batch of contacts read at a time; a last line if cut."""
    ids = chosen.contact_ids
    for start in range(0, len(ids), EXPORT_BATCH_SIZE):
        batch = ids[start : start + EXPORT_BATCH_SIZE]
        contacts = {row.id: row for row in db.session.execute(_contacts(batch))}
        forms, stages = _submitted(batch, include_health)
        for contact_id in batch:
            contact = contacts.get(contact_id)
            if contact is not None:  # deleted since it was chosen: nothing left to write
                row = _row(contact, forms.get(contact_id))
                if include_health:
                    row += _health(contact, stages.get(contact_id))
                yield row
    if chosen.cut:
        yield (f"Cut at {len(ids)} contacts: narrow the search to export the rest.",)


def _contacts(batch: list[int]) -> sa.Select:
    c = Contact
    return sa.select(
        c.id,
        c.first_name,
        c.last_name,
        c.email,
        c.phone_e164,
        c.state,
        c.stage,
        c.utm_source,
        c.utm_medium,
        c.utm_campaign,
        c.created_at,
        c.diagnosis,
        c.is_veteran,
        c.veteran_branch,
    ).where(c.id.in_(batch))


def _submitted(batch: list[int], include_health: bool) -> tuple[dict, dict]:
    """Each contact's first form, and (when asked for) the cancer stage they last gave."""
    columns = [Submission.contact_id, Submission.form]
    if include_health:
        columns.append(Submission.fields)
    rows = db.session.execute(
        sa.select(*columns).where(Submission.contact_id.in_(batch)).order_by(Submission.id)
    )
    forms: dict[int, object] = {}
    stages: dict[int, str] = {}
    for row in rows:
        forms.setdefault(row.contact_id, row.form)
        stage = include_health and (row.fields or {}).get("cancer_stage")
        if stage:
            stages[row.contact_id] = stage
    return forms, stages


def _row(contact, form) -> tuple:
    return (
        contact.id,
        f"{contact.first_name} {contact.last_name}".strip(),
        contact.email,
        contact.phone_e164,
        contact.state,
        contact.stage.label,
        form.label if form else None,
        contact.utm_source,
        contact.utm_medium,
        contact.utm_campaign,
        contact.created_at,
    )


def _health(contact, cancer_stage: str | None) -> tuple:
    stage = CancerStage.from_value(cancer_stage) if cancer_stage else None
    return (
        contact.diagnosis.label if contact.diagnosis else None,
        contact.is_veteran,
        contact.veteran_branch.label if contact.veteran_branch else None,
        stage.label if stage else cancer_stage,
    )
