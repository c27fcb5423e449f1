"""Server-drawn charts: named and described for screen readers, visitor text escaped."""

from xml.etree import ElementTree

from crm.reports.charts import bar_chart, line_chart

SVG = "{http://www.w3.org/2000/svg}"


def parse(markup) -> ElementTree.Element:
    return ElementTree.fromstring(str(markup))


def test_a_bar_chart_has_a_title_a_description_and_one_bar_per_value():
    svg = parse(bar_chart("funnel", "Funnel", [("New", 120), ("Contacted", 60), ("Referred", 0)]))

    assert svg.get("role") == "img"
    assert svg.get("aria-labelledby") == "funnel-title funnel-desc"
    assert svg.find(f"{SVG}title").text == "Funnel"
    assert svg.find(f"{SVG}desc").text == "New: 120; Contacted: 60; Referred: 0"
    widths = [float(rect.get("width")) for rect in svg.iter(f"{SVG}rect")]
    assert widths[0] == 2 * widths[1] and widths[2] == 0
    assert [g.find(f"{SVG}title").text for g in svg.iter(f"{SVG}g")] == [
        "New: 120",
        "Contacted: 60",
        "Referred: 0",
    ]


def test_visitor_text_in_labels_is_escaped():
    hostile = '<script>alert(1)</script>" onload="x'
    markup = str(bar_chart("c", "By campaign", [(hostile, 3)]))

    assert "<script>" not in markup and 'onload="x' not in markup
    assert parse(markup).find(f"{SVG}desc").text == f"{hostile}: 3"


def test_a_line_chart_draws_one_line_per_series_and_says_what_it_shows():
    svg = parse(
        line_chart(
            "trend",
            "Submissions a day",
            ["2026-11-01", "2026-11-02", "2026-11-03"],
            {"Guide": [4, 0, 2], "Callback": [1, 3, 1]},
        )
    )

    lines = list(svg.iter(f"{SVG}polyline"))
    assert len(lines) == 2
    assert len(lines[0].get("points").split()) == 3
    assert svg.find(f"{SVG}desc").text == (
        "from 2026-11-01 to 2026-11-03. Guide: 6 in all, at most 4 a day; "
        "Callback: 5 in all, at most 3 a day"
    )


def test_charts_with_no_data_still_render_and_say_so():
    assert parse(bar_chart("e", "Empty", [])).find(f"{SVG}desc").text == "No data."
    assert parse(line_chart("e", "Empty", [], {})).find(f"{SVG}desc").text == "No data."


def test_the_trends_eight_lines_each_have_their_own_colour_and_dashes():
    # The funnel page's trend draws seven: forms sent and the six stages.
    series = {f"Series {n}": [n, n + 1] for n in range(8)}
    svg = parse(line_chart("trend", "Trend", ["2026-11-01", "2026-11-02"], series))

    styles = {
        (line.get("stroke"), line.get("stroke-dasharray")) for line in svg.iter(f"{SVG}polyline")
    }
    assert len(styles) == 8
