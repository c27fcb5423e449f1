"""CSV exports: read back by Python's csv module they equal the rows, and formulas are defused."""

import csv
import io
from datetime import UTC, date, datetime

import pytest
from flask import Flask

from crm.reports.csv_export import BOM, csv_lines, csv_response, download_name, neutralise


def read_back(text: str) -> list[list[str]]:
    assert text.startswith(BOM)
    return list(csv.reader(io.StringIO(text[len(BOM) :], newline="")))


@pytest.mark.parametrize(
    "hostile",
    ['=HYPERLINK("http://evil")', "+1+2", "-2+3", "@SUM(A1)", "\tcmd", "\r=1"],
)
def test_cells_a_spreadsheet_would_run_as_formulas_are_written_as_text(hostile):
    assert neutralise(hostile) == "'" + hostile


def test_numbers_dates_and_plain_text_are_written_as_they_are():
    assert neutralise(-3) == "-3"
    assert neutralise(2.5) == "2.5"
    assert neutralise(date(2026, 11, 27)) == "2026-11-27"
    assert neutralise(datetime(2026, 11, 27, 9, 30, tzinfo=UTC)) == "2026-11-27T09:30:00+00:00"
    assert neutralise(None) == ""
    assert neutralise(True) == "yes"
    assert neutralise("José O'Brien, Jr.") == "José O'Brien, Jr."


def test_the_csv_reads_back_as_the_rows_with_quotes_commas_and_newlines_intact():
    rows = [
        ['spring, "mesothelioma" ads', 12, None],
        ["line one\nline two", -1, date(2026, 1, 2)],
        ["=cmd|' /C calc'!A0", 0, "ok"],
    ]

    text = "".join(csv_lines(["campaign", "leads", "day"], rows))

    assert read_back(text) == [
        ["campaign", "leads", "day"],
        ['spring, "mesothelioma" ads', "12", ""],
        ["line one\nline two", "-1", "2026-01-02"],
        ["'=cmd|' /C calc'!A0", "0", "ok"],
    ]
    assert "\r\n" in text and text.count("\r\n") == 4  # RFC 4180 line ends, one per record


def test_a_large_export_is_sent_in_chunks_as_it_is_read():
    chunks = list(csv_lines(["n"], ([n] for n in range(1200))))

    assert len(chunks) > 2
    assert len(read_back("".join(chunks))) == 1201


def test_the_download_is_a_utf8_csv_attachment_with_a_safe_name():
    app = Flask(__name__)
    name = download_name('Funnel: "spring" /../ campaign', date(2026, 11, 27))
    with app.test_request_context():
        response = csv_response(name, ["a"], [["é"]])
        body = b"".join(response.iter_encoded()).decode("utf-8")

    assert name == "funnel-spring-campaign-2026-11-27.csv"
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == f'attachment; filename="{name}"'
    assert read_back(body) == [["a"], ["é"]]
