"""Distances between US ZIP codes, from the packaged coordinates table (no web service)."""

import math
from array import array
from functools import cache

from crm.data import zip_table

EARTH_RADIUS_MILES = 3958.8


_UNKNOWN = -32768  # no ZIP has this latitude in hundredths of a degree


@cache
def _hundredths() -> tuple[array, array]:
    # Loaded on the first distance question, not at start-up: most processes never ask.
    # Two arrays indexed by the ZIP as a number hold ~0.4 MB where a dict of tuples held ~11 MB.
    latitudes, longitudes = array("h", [_UNKNOWN]) * 100_000, array("h", [0]) * 100_000
    table = zip_table.read_coordinates(zip_table.COORDINATES_PATH.read_text())
    for zip_code, (lat, lon) in table.items():
        latitudes[int(zip_code)] = round(lat * 100)
        longitudes[int(zip_code)] = round(lon * 100)
    return latitudes, longitudes


def coordinates(zip_code: str | None) -> tuple[float, float] | None:
    """(latitude, longitude) of a 5-digit ZIP, or None when unknown."""
    digits = (zip_code or "").strip()[:5]
    if len(digits) != 5 or not digits.isdigit() or not digits.isascii():
        return None
    latitudes, longitudes = _hundredths()
    lat = latitudes[int(digits)]
    if lat == _UNKNOWN:
        return None
    return lat / 100, longitudes[int(digits)] / 100


def haversine_miles(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance in miles between two (latitude, longitude) points."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_MILES * math.asin(math.sqrt(h))


def miles_between(zip_a: str | None, zip_b: str | None) -> float | None:
    """Distance in miles between two ZIP codes, or None when either is unknown."""
    a, b = coordinates(zip_a), coordinates(zip_b)
    if a is None or b is None:
        return None
    return haversine_miles(a, b)
