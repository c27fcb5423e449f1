"""Managers' review screens: suspected spam, printed guides, the audit log."""

from flask import current_app, request

from crm.views.staff import staff_blueprint

bp = staff_blueprint("manager", __name__, url_prefix="/manager")

# The contact page belongs to the contacts blueprint; until it exists, ids show as text.
CONTACT_PAGE_ENDPOINT = "contacts.contact"


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


def before_id() -> int | None:
    return request.args.get("before_id", type=int)


from crm.views.manager import audit_log, fulfilment, spam  # noqa: E402, F401  (registers views)
