"""The referrals and guides report: specialist matches and VA hand-offs, guides emailed to shipped.

Both are counted by cohort (crm/services/rollups/referral_fold.py): referrals sent in the
period and how far they got since, guides requested in the period and which steps they
reached, so each step is a share of the step before it.
"""

from dataclasses import dataclass

from markupsafe import Markup

from crm.models.enums import ReferralKind, ReferralStatus
from crm.reports.charts import bar_chart, line_chart
from crm.reports.tables import NOT_APPLICABLE, Period, Table, share
from crm.services.rollups import referral_reports
from crm.services.rollups.referral_fold import EMAILED, GUIDE

REFERRAL_ROWS = {
    ReferralKind.specialist.value: "Specialist matches",
    ReferralKind.va_claims_handoff.value: "VA claims hand-offs",
}
# Short enough for the chart's label column.
CHART_LABELS = {
    ReferralKind.specialist.value: "Specialist",
    ReferralKind.va_claims_handoff.value: "VA hand-off",
}
_SENT = ReferralStatus.sent.value
_APPOINTMENT = ReferralStatus.appointment_scheduled.value
_SEEN = ReferralStatus.seen.value
_DECLINED = ReferralStatus.declined.value
# Each guide step, what the page calls it, and the step its share is taken of (None: none).
GUIDE_ROWS = (
    (EMAILED, "Emailed (delivered)", None),
    ("opened", "Opened the link in the email", EMAILED),
    ("to_print", "Printed copy asked for", None),
    ("printed", "Printed", "to_print"),
    ("shipped", "Shipped", "printed"),
)
# The daily table's columns: (kind, step) and its heading.
TREND_COLUMNS = (
    ((ReferralKind.specialist.value, _SENT), "Specialist matches sent"),
    ((ReferralKind.va_claims_handoff.value, _SENT), "VA claims hand-offs"),
    ((GUIDE, EMAILED), "Guides emailed"),
    ((GUIDE, "opened"), "Guide links opened"),
    ((GUIDE, "shipped"), "Printed guides shipped"),
)


@dataclass(frozen=True)
class ReferralReport:
    period: Period
    tables: dict[str, Table]
    charts: dict[str, Markup]


def referral_report(period: Period) -> ReferralReport:
    """Referrals sent and guides requested in the period, each step they reached, per day."""
    counts = referral_reports.counts(period.start, period.end)
    trend = referral_reports.daily(period.start, period.end)
    referrals = _referrals_table(counts)
    guides = _guides_table(counts.get(GUIDE, {}))
    days = period.each_day()
    charts = {
        "referrals": bar_chart(
            "referrals-chart",
            f"Referrals sent from {period}, and how far they got",
            [
                (f"{label}: {step}", counts.get(kind, {}).get(status, 0))
                for kind, label in CHART_LABELS.items()
                for status, step in (
                    (_SENT, "sent"),
                    (_APPOINTMENT, "appointment"),
                    (_SEEN, "seen"),
                )
            ],
        ),
        "guides": bar_chart(
            "guides-chart",
            f"Guides requested from {period}: the steps they reached",
            [(row[0], row[1]) for row in guides.rows],
        ),
        "trend": line_chart(
            "trend-chart",
            f"Per day from {period}: referrals by the day sent, guides by the day requested",
            [day.isoformat() for day in days],
            {
                title: [trend.get(day, {}).get(key, 0) for day in days]
                for key, title in TREND_COLUMNS
            },
        ),
    }
    tables = {
        "referrals": referrals,
        "guides": guides,
        "trend": Table(
            "trend",
            "Per day",
            ("Day", *(title for _, title in TREND_COLUMNS)),
            [
                (day.isoformat(), *(trend.get(day, {}).get(key, 0) for key, _ in TREND_COLUMNS))
                for day in days
            ],
            note="Referrals on the day they were sent, guides on the day they were requested.",
        ),
    }
    return ReferralReport(period, tables, charts)


def _referrals_table(counts: dict[str, dict[str, int]]) -> Table:
    rows = []
    for kind, label in REFERRAL_ROWS.items():
        reached = counts.get(kind, {})
        sent, appointment = reached.get(_SENT, 0), reached.get(_APPOINTMENT, 0)
        seen, declined = reached.get(_SEEN, 0), reached.get(_DECLINED, 0)
        rows.append(
            (
                label,
                sent,
                appointment,
                seen,
                declined,
                share(appointment, sent),
                share(seen, appointment),
            )
        )
    return Table(
        "referrals",
        "Referrals",
        (
            "Referral",
            "Sent",
            "Appointment scheduled",
            "Seen",
            "Declined",
            "Appointment / sent",
            "Seen / appointment",
        ),
        rows,
        note=(
            "Referrals sent in the period, and how many of them have since reached each step;"
            " a referral declined after an appointment counts in both."
        ),
    )


def _guides_table(reached: dict[str, int]) -> Table:
    rows = []
    for step, label, before in GUIDE_ROWS:
        count = reached.get(step, 0)
        rows.append(
            (label, count, share(count, reached.get(before, 0)) if before else NOT_APPLICABLE)
        )
    return Table(
        "guides",
        "Guides",
        ("Step", "Guide requests", "Share of the step before"),
        rows,
        note=(
            "Guide requests made in the period, each counted once per step however often it was"
            " sent or opened. Opened is a share of emailed, printed of asked for, shipped of"
            " printed."
        ),
    )
