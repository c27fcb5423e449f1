"""The compact ZIP table the app ships agrees with the zipcodes package, its source."""

import subprocess
import sys

from crm.data import zip_table
from crm.services.lookups import lookup_zip


def test_the_shipped_zip_table_agrees_with_zipcodes_on_every_zip():
    # In a subprocess: loading zipcodes costs ~180 MB, which the test process need not keep.
    check = [sys.executable, "-m", "crm.data.zip_table", "--check"]
    result = subprocess.run(check, capture_output=True, text=True, timeout=120)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "agrees with zipcodes on all" in result.stdout


def test_a_zip_without_a_time_zone_in_zipcodes_has_none():
    table = zip_table.read(zip_table.TABLE_PATH.read_text())
    zip_code = next(z for z, (_, zone) in table.items() if zone is None)

    assert lookup_zip(zip_code).time_zone is None


def test_the_table_reads_back_what_was_rendered():
    table = {"02110": ("MA", "America/New_York"), "34000": ("AA", None)}

    assert zip_table.read(zip_table.render(table)) == table


def test_the_coordinates_read_back_what_was_rendered():
    table = {"02110": (42.36, -71.05), "99501": (61.22, -149.86)}

    assert zip_table.read_coordinates(zip_table.render_coordinates(table)) == table
