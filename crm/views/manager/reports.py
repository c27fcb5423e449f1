"""The manager reports: funnel, speed, advocates, referrals and guides, chats; a CSV per table.

Pages show aggregates only and are not audited; every export is (who, which table, the
filters and how many rows), since a file leaves the system.
"""

from flask import abort, current_app, render_template, request
from flask_login import current_user

from crm.forms.reports import BREAKDOWNS, FunnelFilterForm, ReportPeriodForm
from crm.models import utcnow
from crm.models.enums import AuditAction, Role
from crm.reports.chat_report import chat_report
from crm.reports.csv_export import csv_response, download_name
from crm.reports.funnel_report import funnel_report
from crm.reports.referral_report import referral_report
from crm.reports.tables import Period
from crm.reports.team_reports import (
    BREACH_TABLES,
    advocates_report,
    breach_table,
    speed_report,
)
from crm.services import sla_breaches, users
from crm.services.rollups.fold import org_day
from crm.views.manager import bp
from crm.views.staff import REPORT_READERS, audit_view, role_required

TEMPLATES = {
    "funnel": "manager/report_funnel.html",
    "speed": "manager/report_speed.html",
    "advocates": "manager/report_advocates.html",
    "referrals-and-guides": "manager/report_referrals.html",
    "chats": "manager/report_chats.html",
}


def _build(name: str):
    """The report's filter form, the report itself when the form is valid, and staff names."""
    today = org_day(utcnow())
    staff = users.staff_list()
    if name == "funnel":
        form = FunnelFilterForm(request.args, today=today, staff=staff)
    else:
        form = ReportPeriodForm(request.args, today=today)
    names = {user.id: user.name for user in staff}
    if not form.validate():
        return form, None, names
    period = Period(*form.period_or_default())
    if name == "referrals-and-guides":
        report = referral_report(period)
    elif name == "chats":
        report = chat_report(period, current_app.config["CHAT_ANSWER_TARGET_SECONDS"], names)
    elif name == "funnel":
        by_label = dict(BREAKDOWNS)[form.by.data]
        report = funnel_report(period, form.by.data, by_label, form.filters(), names)
    elif name == "speed":
        report = speed_report(period, current_app.config["RESPONSE_TARGET_MINUTES"], names)
    else:
        report = advocates_report(period, names)
    return form, report, names


def _page(name: str, **extra):
    form, report, names = _build(name)
    if name == "speed" and report is not None:
        extra |= _breaches(report, names)
    page = render_template(
        TEMPLATES[name],
        form=form,
        report=report,
        report_name=name,
        query=_query(form, report),
        **extra,
    )
    # An unknown or impossible filter is the request's fault, said on the page: 400, not 200.
    return page, 200 if report is not None else 400


def _breaches(report, names: dict[int, str]) -> dict:
    """The speed page's breaches: those waiting now and those of the period, a page of each."""
    now, past = sla_breaches.speed_page_breaches(
        report.period.start,
        report.period.end,
        now_after=request.args.get("now_after"),
        past_before=request.args.get("past_before"),
    )
    return {
        "breached_now": now,
        "past_breaches": past,
        "names": names,
        # Admins read reports but never a contact's page: their rows show the id alone.
        "may_open_contacts": current_user.role == Role.manager,
    }


def _query(form, report) -> dict:
    """The filters as the CSV links carry them: the dates the page shows, always explicit."""
    # The form's own fields only: anything else in the URL would not be a filter.
    query = {name: value for name, value in request.args.items() if value and name in form}
    if report is not None:
        query |= {"start": report.period.start.isoformat(), "end": report.period.end.isoformat()}
    return query


@bp.get("/", endpoint="funnel")
@role_required(*REPORT_READERS)
def funnel_page():
    """The funnel of leads created in a period, against the period before."""
    return _page("funnel")


@bp.get("/speed", endpoint="speed")
@role_required(*REPORT_READERS)
def speed_page():
    """How soon new leads get their first call, by form and advocate; the contact rate."""
    return _page("speed")


@bp.get("/advocates", endpoint="advocates")
@role_required(*REPORT_READERS)
def advocates_page():
    """Calls, reaches and handling time per advocate, and how far their leads got."""
    return _page("advocates")


@bp.get("/referrals-and-guides", endpoint="referrals_and_guides")
@role_required(*REPORT_READERS)
def referrals_and_guides_page():
    """Specialist matches and VA hand-offs to their outcome; guides emailed to shipped."""
    return _page("referrals-and-guides")


@bp.get("/chats", endpoint="chats")
@role_required(*REPORT_READERS)
def chats_page():
    """Chats started, accepted and missed, waits to accept, outcomes, advocates and hours."""
    return _page("chats")


@bp.get(
    '/<any(funnel, speed, advocates, "referrals-and-guides", chats):report>/<table>.csv',
    endpoint="report_csv",
)
@role_required(*REPORT_READERS)
def report_csv(report: str, table: str):
    """One table of a report as CSV, with the page's filters; invalid filters show the page."""
    form, built, names = _build(report)
    if built is None:
        page = render_template(
            TEMPLATES[report], form=form, report=None, report_name=report, query={}
        )
        return page, 400
    if report == "speed" and table in BREACH_TABLES:
        # Read only for its CSV: the page shows a page of each list, the file the whole list.
        chosen = breach_table(table, built.period, names, current_app.config["BOARD_COUNT_CAP"])
    elif table in built.tables:
        chosen = built.tables[table]
    else:
        abort(404)
    audit_view(
        AuditAction.report_exported,
        detail={
            "report": report,
            "table": table,
            "filters": _query(form, built),
            "rows": len(chosen.rows),
        },
    )
    filename = download_name(f"{report} {table}", org_day(utcnow()))
    return csv_response(filename, chosen.header, chosen.rows)
