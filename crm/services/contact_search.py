"""Staff search for contacts by name, email or phone, one page at a time.

Every search is "the key starts with what was typed": a name (first then last, or last then
first), an email from its start, or a phone number by its last digits (a whole number in any
formatting is its own last digits). Results come in key order, newest first among equal keys,
and each page starts after the last contact of the page before (keyset pagination): a page
reads one short range of one index per key (crm/models/contact.py), and nothing ever counts
the whole table, so a page costs the same at ten thousand contacts as at a million.
"""

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import cache

import sqlalchemy as sa

from crm.extensions import db
from crm.models.base import bytewise
from crm.models.contact import SEARCH_KEYS, Contact, search_fold_text
from crm.models.enums import Stage

PAGE_SIZE = 25
MIN_NAME_LENGTH = 2
MIN_PHONE_DIGITS = 4
# Longer than any key: nothing could match, so nothing is asked of the database.
MAX_QUERY_LENGTH = 254

_LARGEST_ID = 2**31 - 1  # contacts.id is a 32-bit integer: a larger cursor names nobody
_PHONE_LIKE = re.compile(r"[\d\s().+\-]+")
_c = Contact.__table__.c
_COLUMNS = (_c.id, _c.first_name, _c.last_name, _c.email, _c.phone_e164, _c.stage, _c.created_at)


class SearchKind(StrEnum):
    name = "name"
    email = "email"
    phone = "phone"


# The keys searched for each kind; a contact found by an earlier key is not found again.
_KEYS = {
    SearchKind.name: ("name", "surname"),
    SearchKind.email: ("email",),
    SearchKind.phone: ("phone",),
}


@dataclass(frozen=True)
class ContactHit:
    id: int
    name: str
    email: str | None
    phone: str | None
    stage: Stage
    created_at: datetime


@dataclass(frozen=True)
class SearchPage:
    """One page of results; next_cursor is what to pass as `after` for the next one."""

    kind: SearchKind | None
    rows: list[ContactHit]
    next_cursor: int | None
    hint: str | None = None


@dataclass(frozen=True)
class SearchQuery:
    """What was typed, understood: the kind of search and the start of the keys it wants."""

    kind: SearchKind
    prefix: str  # in key form: folded name, lower-cased email, reversed digits


def search_contacts(query: str, *, after: int | None = None, limit: int = PAGE_SIZE) -> SearchPage:
    """Return the page of contacts matching `query` that follows contact `after`."""
    understood = interpret(query)
    if isinstance(understood, str):
        return SearchPage(kind=None, rows=[], next_cursor=None, hint=understood)
    kind, prefix = understood.kind, understood.prefix
    stop = _first_after_prefix(prefix)
    start = _cursor_key(kind, prefix, after)
    connection = db.session.connection()
    found = connection.execute(
        _statement(kind, paged=start is not None),
        {
            "prefix": prefix,
            "stop": stop,
            "start": start or prefix,
            "after": after,
            "limit": limit + 1,
        },
    ).all()
    rows = [_hit(row) for row in found[:limit]]
    more = len(found) > limit
    return SearchPage(kind=kind, rows=rows, next_cursor=rows[-1].id if more else None)


def interpret(query: str) -> SearchQuery | str:
    """Say what kind of search `query` is and its key prefix, or why it is not searched."""
    # Control characters out (PostgreSQL refuses NUL in text), runs of spaces made one.
    words = (
        "".join(ch for ch in word if unicodedata.category(ch)[0] != "C") for word in query.split()
    )
    text = " ".join(word for word in words if word)
    if not text:
        return "Search by name, email address or phone number."
    if len(text) > MAX_QUERY_LENGTH:
        return "That is longer than any name, email address or phone number."
    if "@" in text:
        if text.startswith("@"):
            return "Type the email address from its start; a domain alone is not searched."
        return SearchQuery(SearchKind.email, text.replace(" ", "").lower())
    if _PHONE_LIKE.fullmatch(text):
        digits = re.sub(r"\D", "", text)
        if len(digits) < MIN_PHONE_DIGITS:
            return f"Type at least the last {MIN_PHONE_DIGITS} digits of a phone number."
        return SearchQuery(SearchKind.phone, digits[::-1])
    # "Lopez, Maria" is how a surname-first list writes "Lopez Maria".
    name = " ".join(search_fold_text(text.replace(",", " ")).split())
    if len(name) < MIN_NAME_LENGTH:
        return f"Type at least {MIN_NAME_LENGTH} letters of a name."
    return SearchQuery(SearchKind.name, name)


@cache
def _statement(kind: SearchKind, paged: bool) -> sa.Select:
    """One index range per key of this kind, from :start (after contact :after if paged)."""
    keys = [SEARCH_KEYS[name] for name in _KEYS[kind]]
    lanes = [_lane(key, paged, earlier=keys[:i]) for i, key in enumerate(keys)]
    if len(lanes) == 1:
        return lanes[0]
    # Each lane keeps its own ORDER BY and LIMIT inside a subquery (SQLite wants it so); the
    # merge orders byte by byte too, as the lanes do, whatever the database's collation.
    merged = sa.union_all(*(sa.select(lane.subquery()) for lane in lanes)).subquery()
    return (
        sa.select(merged)
        .order_by(bytewise(merged.c.sort_key), merged.c.id.desc())
        .limit(sa.bindparam("limit", type_=sa.Integer))
    )


def _lane(key, paged: bool, earlier) -> sa.Select:
    """The first :limit contacts whose `key` starts with :prefix (below :stop), from :start."""
    prefix, start, stop = (
        sa.bindparam(name, type_=sa.String) for name in ("prefix", "start", "stop")
    )
    # A contact merged into another is found as the one it was merged into.
    conditions = [key >= start, key < stop, _c.merged_into_id.is_(None)]
    if paged:
        # The cursor's own key goes on only with older contacts; `key >= start` stays the
        # index's starting point, so the range skips no more than the contacts of that key.
        conditions.append(sa.or_(key > start, _c.id < sa.bindparam("after", type_=sa.Integer)))
    conditions += [sa.not_(sa.and_(k >= prefix, k < stop)) for k in earlier]
    return (
        sa.select(*_COLUMNS, key.label("sort_key"))
        .where(*conditions)
        .order_by(key, _c.id.desc())
        .limit(sa.bindparam("limit", type_=sa.Integer))
    )


@cache
def _cursor_statement(kind: SearchKind) -> sa.Select:
    keys = [SEARCH_KEYS[name] for name in _KEYS[kind]]
    return sa.select(*keys).where(_c.id == sa.bindparam("after", type_=sa.Integer))


def _cursor_key(kind: SearchKind, prefix: str, after: int | None) -> str | None:
    """The key under which contact `after` was listed; None starts from the top."""
    if after is None or not 0 < after <= _LARGEST_ID:
        return None
    row = db.session.connection().execute(_cursor_statement(kind), {"after": after}).first()
    # A contact renamed (or a cursor made up) since the last page starts the search again.
    return next((key for key in row or () if key and key.startswith(prefix)), None)


def _first_after_prefix(prefix: str) -> str:
    """The first string after every string that starts with prefix (in code point order)."""
    following = ord(prefix[-1]) + 1
    if 0xD800 <= following <= 0xDFFF:  # surrogates are not characters
        following = 0xE000
    # interpret() keeps no U+10FFFF (a noncharacter), so there always is a next character.
    return prefix[:-1] + chr(following)


def _hit(row) -> ContactHit:
    name = f"{row.first_name} {row.last_name}".strip()
    return ContactHit(row.id, name, row.email, row.phone_e164, row.stage, row.created_at)
