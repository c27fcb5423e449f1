"""Managers' screens: reports, the live board, suspected spam, printed guides, the audit log."""

from flask import current_app, request

from crm.views.staff import staff_blueprint

bp = staff_blueprint("manager", __name__, url_prefix="/manager")

# Ids are 32-bit INTEGER columns: a bigger number in a URL is no row, not a database error.
MAX_ID = 2**31 - 1
# For routes: a larger id answers 404 like any other unknown one.
ID = f"int(min=1, max={MAX_ID})"

# The contact page belongs to the contacts blueprint (an app without it shows ids as text).
CONTACT_PAGE_ENDPOINT = "contacts.page"


@bp.app_template_global()
def contact_page_endpoint() -> str | None:
    """The contact page's endpoint, when this app has one."""
    return CONTACT_PAGE_ENDPOINT if CONTACT_PAGE_ENDPOINT in current_app.view_functions else None


def keyset_page(rows: list, size: int) -> tuple[list, int | None]:
    """Split a fetch of size + 1 rows into this page and the before_id of the next one."""
    page = rows[:size]
    return page, (page[-1].id if len(rows) > size else None)


def page_size() -> int:
    return current_app.config["STAFF_PAGE_SIZE"]


def row_id(value: str) -> int:
    """Parse an id from a form or query string (ValueError for anything that cannot be one)."""
    number = int(value)
    if not 1 <= number <= MAX_ID:
        raise ValueError(value)
    return number


def unknown_value(name: str, choices) -> str:
    """What a 400 page says of a filter value no list has (what was sent is not repeated)."""
    known = ", ".join(choice.value for choice in choices)
    return f"There is no such {name}. Choose one of: {known}."


def before_id() -> int | None:
    return request.args.get("before_id", type=row_id)


from crm.views.manager import (  # noqa: E402, F401  (registers views)
    audit_log,
    board,
    fulfilment,
    referrals,
    reports,
    spam,
)
