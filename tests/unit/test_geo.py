"""Distances between ZIP codes come from the packaged coordinates, in miles."""

import pytest

from crm.services import geo


def test_boston_to_new_york_is_about_190_miles():
    # Downtown Boston (02110) to Midtown Manhattan (10001): about 190 miles as the crow flies.
    assert geo.miles_between("02110", "10001") == pytest.approx(190, abs=10)


def test_a_zip_is_no_distance_from_itself():
    assert geo.miles_between("60601", "60601") == 0


def test_an_unknown_zip_has_no_distance():
    assert geo.coordinates("00000") is None
    assert geo.miles_between("00000", "10001") is None
    assert geo.miles_between(None, "10001") is None


def test_the_haversine_distance_of_a_quarter_meridian_is_a_quarter_circumference():
    quarter = geo.haversine_miles((0.0, 0.0), (90.0, 0.0))

    assert quarter == pytest.approx(geo.EARTH_RADIUS_MILES * 3.14159265 / 2, rel=1e-6)
