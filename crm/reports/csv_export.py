"""CSV for spreadsheets: RFC 4180, UTF-8 with a BOM, streamed, and safe to open.

Attribution values (utm_campaign and the like) and names come from visitors. A cell that a
spreadsheet would read as a formula (OWASP "CSV injection": it starts with =, +, -, @, a tab
or a carriage return) is written with a leading apostrophe, so that it shows as the text it is.
"""

import csv
import io
import re
from collections.abc import Iterable, Iterator
from datetime import date, datetime
from decimal import Decimal

from flask import Response, stream_with_context

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"
# Rows per chunk sent: small enough to start at once, large enough not to flood the socket.
_ROWS_PER_CHUNK = 500


def neutralise(value: object) -> str:
    """One cell's text: numbers and dates as written, anything formula-like defused."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float | Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_lines(header: Iterable[str], rows: Iterable[Iterable[object]]) -> Iterator[str]:
    """The BOM, the header and the rows as CRLF-terminated CSV text, a chunk at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([neutralise(name) for name in header])
    yield BOM + buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    for number, row in enumerate(rows, 1):
        writer.writerow([neutralise(cell) for cell in row])
        if number % _ROWS_PER_CHUNK == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue()


def download_name(title: str, today: date) -> str:
    """A file name from a report title: "funnel-2026-11-27.csv", never a path or a header break."""
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "export"
    return f"{slug[:60]}-{today.isoformat()}.csv"


def csv_response(
    filename: str, header: Iterable[str], rows: Iterable[Iterable[object]]
) -> Response:
    """Stream the CSV as a download; rows may be a generator reading as it goes."""
    response = Response(
        stream_with_context(csv_lines(header, rows)), content_type="text/csv; charset=utf-8"
    )
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
