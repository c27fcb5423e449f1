"""The report pages on small fixed data: every figure worked out by hand."""

import pytest

from crm.models.enums import Role
from tests.factories import make_user
from tests.report_pages import FORMULA_CAMPAIGN, page_tables, seed_report_data
from tests.staff import StaffClient

PERIOD = "start=2026-11-10&end=2026-11-11"


@pytest.fixture
def manager(app_ctx, config_override):
    config_override(ORG_TIME_ZONE="America/New_York", RESPONSE_TARGET_MINUTES=15)
    seed_report_data()
    staff = StaffClient(app_ctx.test_client())
    staff.sign_in(make_user(Role.manager).email)
    return staff


def tables_of(staff, url):
    response = staff.get(url)
    assert response.status_code == 200, response.status_code
    return page_tables(response.get_data(as_text=True))


def test_the_funnel_counts_stages_conversions_and_the_previous_period(manager):
    tables = tables_of(manager, f"/manager/?{PERIOD}")

    assert tables["funnel"] == [
        [
            "Stage",
            "Leads",
            "Conversion from the stage before",
            "Previous period",
            "Previous conversion",
            "Change in leads",
        ],
        ["New lead", "3", "", "1", "", "2"],
        ["Attempting", "2", "66.7%", "1", "100.0%", "1"],
        ["Contacted", "1", "50.0%", "1", "100.0%", "0"],
        ["Qualified", "1", "100.0%", "0", "0.0%", "1"],
        ["Referred", "1", "100.0%", "0", "n/a", "1"],
        ["Closed: helped", "0", "0.0%", "0", "n/a", "0"],
    ]
    assert tables["lost"][1:] == [["Not interested", "1", "0", "1"]]


def test_the_funnel_breaks_down_by_campaign_and_filters(manager):
    tables = tables_of(manager, f"/manager/?{PERIOD}&by=campaign")

    assert tables["breakdown"][1:] == [
        ["(none)", "1", "0", "0", "0", "0", "0", "0.0%"],
        [FORMULA_CAMPAIGN, "1", "1", "1", "1", "1", "0", "0.0%"],
        ["fall", "1", "1", "0", "0", "0", "0", "0.0%"],
    ]
    callbacks = tables_of(manager, f"/manager/?{PERIOD}&form=callback&by=advocate_id")
    assert callbacks["funnel"][1][1] == "1"
    assert callbacks["breakdown"][1:] == [["Ann Avery", "1", "1", "1", "1", "1", "0", "0.0%"]]


def test_leads_count_on_the_new_york_day_they_came_in(manager):
    # A came in at 04:30 UTC on the 11th: 23:30 on the 10th in New York.
    tables = tables_of(manager, "/manager/?start=2026-11-10&end=2026-11-10")

    assert tables["funnel"][1][1] == "1"
    trend = tables_of(manager, f"/manager/?{PERIOD}")["trend"]
    assert trend[0][:3] == ["Day", "Forms sent", "New lead"]
    # Forms sent on the 11th: B's, B's second (its correction is not another) and C's.
    assert trend[1:] == [
        ["2026-11-10", "1", "1", "1", "1", "1", "1", "0"],
        ["2026-11-11", "3", "2", "1", "0", "0", "0", "0"],
    ]
    # D came in at 05:00 UTC on the 12th: midnight in New York, the 12th.
    assert tables_of(manager, "/manager/?start=2026-11-12&end=2026-11-12")["funnel"][1][1] == "1"


def test_forms_sent_follow_a_form_filter_and_leave_with_any_other(manager):
    callbacks = tables_of(manager, f"/manager/?{PERIOD}&form=callback")["trend"]
    assert [row[:2] for row in callbacks[1:]] == [["2026-11-10", "1"], ["2026-11-11", "0"]]
    page = manager.get(f"/manager/?{PERIOD}&campaign=fall").get_data(as_text=True)
    assert page_tables(page)["trend"][0][:2] == ["Day", "New lead"]
    assert "Forms sent are counted by form only" in page


def test_the_funnel_draws_its_chart_and_trend(manager):
    html = manager.get(f"/manager/?{PERIOD}&by=campaign").get_data(as_text=True)

    assert '<title id="funnel-chart-title">Funnel of the leads created from 2026-11-10 to' in html
    assert "<title>Attempting: 2</title>" in html
    assert 'id="trend-chart-title"' in html
    # The hostile campaign name is shown as text, never as markup.
    assert "=HYPERLINK(&#34;http" in html and FORMULA_CAMPAIGN not in html


def test_speed_to_lead_by_form_and_by_advocate(manager):
    tables = tables_of(manager, f"/manager/speed?{PERIOD}")

    assert tables["forms"] == [
        [
            "Form",
            "Leads",
            "Called",
            "Called / leads",
            "Median",
            "90th percentile",
            "Called within 15 min",
            "Share within target",
        ],
        ["All forms", "3", "2", "66.7%", "10 min", "45 min", "1", "50.0%"],
        ["Callback request", "1", "1", "100.0%", "10 min", "10 min", "1", "100.0%"],
        ["Free guide", "2", "1", "50.0%", "45 min", "45 min", "0", "0.0%"],
    ]
    assert tables["advocates"][1:] == [
        ["Ann Avery", "1", "10 min", "10 min", "1", "100.0%"],
        ["Bob Brown", "1", "45 min", "45 min", "0", "0.0%"],
    ]
    assert tables["contact"][1:] == [
        ["All advocates", "2", "1", "50.0%", "2.0"],
        ["Ann Avery", "1", "1", "100.0%", "1.0"],
        ["Bob Brown", "1", "0", "0.0%", "n/a"],
    ]


def test_the_advocates_report(manager):
    tables = tables_of(manager, f"/manager/advocates?{PERIOD}")

    assert tables["advocates"][1:] == [
        ["Ann Avery", "1", "1", "100.0%", "600-720 s", "1", "1", "1"],
        ["Bob Brown", "1", "0", "0.0%", "30-45 s", "1", "0", "0"],
    ]


@pytest.mark.parametrize("path", ["/manager/", "/manager/speed", "/manager/advocates"])
@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("start=2026-13-01", "Give a date as YYYY-MM-DD."),
        ("start=2026-11-12&end=2026-11-10", "The end date comes before the start date."),
        ("start=2020-01-01&end=2026-11-10", "Choose at most 366 days."),
    ],
)
def test_invalid_dates_show_the_form_again_with_a_message(manager, path, query, message):
    response = manager.get(f"{path}?{query}")

    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in html and "correct the fields marked above" in html
    assert "<table" not in html


def test_the_default_period_is_the_last_thirty_days(manager):
    html = manager.get("/manager/").get_data(as_text=True)

    assert "(30 days, America/New_York)" in html


def test_other_words_in_the_address_are_not_filters(manager):
    response = manager.get(f"/manager/?{PERIOD}&table=x&report=y&before_id=3")

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert '/manager/funnel/funnel.csv?start=2026-11-10&amp;end=2026-11-11"' in html
