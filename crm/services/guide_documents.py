"""The organisation's own guide PDF: check an upload, keep every version, say which is current."""

import hashlib
import io
import re
import unicodedata

import sqlalchemy as sa
from flask import current_app

from crm.extensions import db
from crm.models import GuideDocument, User, utcnow

# pypdf is imported where a PDF is read, not here: most processes never read one.

PDF_MAGIC = b"%PDF-"


class GuideRefused(ValueError):
    """The upload is not a PDF the guide email can use; the message says why, for the admin."""


def max_bytes() -> int:
    return current_app.config["GUIDE_UPLOAD_MAX_BYTES"]


def describe_size(size: int) -> str:
    """Sizes as file managers show them: "20 MB", "2.5 MB", "40 KB"."""
    megabytes = size / (1024 * 1024)
    if megabytes >= 10:
        return f"{megabytes:.0f} MB"
    return f"{megabytes:.1f} MB" if size >= 100 * 1024 else f"{max(1, size // 1024)} KB"


def check_pdf(data: bytes) -> int:
    """The page count of a usable PDF: not empty, not too big, readable, not encrypted."""
    from pypdf import PdfReader

    if not data:
        raise GuideRefused("That file is empty. Choose the guide's PDF file.")
    if len(data) > max_bytes():
        raise GuideRefused(
            f"That file is {describe_size(len(data))}; the limit is {describe_size(max_bytes())}."
        )
    if not data.startswith(PDF_MAGIC):
        raise GuideRefused("That file is not a PDF. Export the guide as PDF and upload that.")
    try:
        reader = PdfReader(io.BytesIO(data))
        encrypted = reader.is_encrypted
        pages = 0 if encrypted else len(reader.pages)
    except Exception as error:  # a damaged file can fail in many ways; each is "unreadable"
        raise GuideRefused("That PDF is damaged and cannot be read. Export it again.") from error
    if encrypted:
        raise GuideRefused(
            "That PDF is password-protected. Save a copy without a password and upload that."
        )
    if pages < 1:
        raise GuideRefused("That PDF has no pages.")
    return pages


def upload(data: bytes, filename: str | None, uploaded_by_user_id: int) -> GuideDocument:
    """Store a checked PDF as the newest version (flushed); it becomes the one emailed."""
    pages = check_pdf(data)
    newest = db.session.scalar(sa.select(sa.func.max(GuideDocument.version))) or 0
    document = GuideDocument(
        version=newest + 1,
        content=data,
        sha256=hashlib.sha256(data).hexdigest(),
        size_bytes=len(data),
        page_count=pages,
        filename=safe_filename(filename),
        uploaded_by_user_id=uploaded_by_user_id,
        uploaded_at=utcnow(),
        active=True,
    )
    db.session.add(document)
    db.session.flush()
    return document


def choose(version: int) -> GuideDocument:
    """Email this version from now on: it becomes active and every newer version inactive."""
    document = db.session.scalar(sa.select(GuideDocument).where(GuideDocument.version == version))
    if document is None:
        raise GuideRefused("There is no such version.")
    document.active = True
    db.session.execute(
        sa.update(GuideDocument).where(GuideDocument.version > version).values(active=False)
    )
    db.session.flush()
    return document


def use_generated() -> None:
    """Email the generated guide again: every uploaded version becomes inactive (all kept)."""
    db.session.execute(sa.update(GuideDocument).values(active=False))
    db.session.flush()


def current() -> GuideDocument | None:
    """The version the guide email uses (content not loaded), or None for the generated guide."""
    return db.session.scalar(
        sa.select(GuideDocument)
        .where(GuideDocument.active.is_(True))
        .order_by(GuideDocument.version.desc())
        .limit(1)
    )


def history() -> list[tuple[GuideDocument, str]]:
    """Every version, newest first, with the name of the admin who uploaded it."""
    rows = db.session.execute(
        sa.select(GuideDocument, User.name)
        .join(User, User.id == GuideDocument.uploaded_by_user_id)
        .order_by(GuideDocument.version.desc())
    )
    return [tuple(row) for row in rows]


def find(version: int) -> GuideDocument | None:
    return db.session.scalar(sa.select(GuideDocument).where(GuideDocument.version == version))


# One version's bytes per process, so each guide email does not fetch megabytes again.
# Bounded: a web worker must stay small (issue 6), so a big upload is read each time instead.
_CACHE_MAX_BYTES = 8 * 1024 * 1024
_cache: dict[tuple[int, str], bytes] = {}


def content_of(document: GuideDocument) -> bytes:
    """The stored PDF of a version, from this process's cache when it is there."""
    key = (document.id, document.sha256)
    if key in _cache:
        return _cache[key]
    data = db.session.scalar(
        sa.select(GuideDocument.content).where(GuideDocument.id == document.id)
    )
    if document.size_bytes <= _CACHE_MAX_BYTES:
        _cache.clear()
        _cache[key] = data
    return data


def safe_filename(filename: str | None) -> str:
    """A name to show in the history: letters, digits, dot, dash, underscore; ends in .pdf."""
    name = unicodedata.normalize("NFKD", (filename or "").replace("\\", "/").rsplit("/", 1)[-1])
    name = name.encode("ascii", "ignore").decode()
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", name.removesuffix(".pdf").removesuffix(".PDF"))
    stem = stem.strip(".-_")[:100] or "guide"
    return f"{stem}.pdf"
