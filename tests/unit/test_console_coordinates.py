"""Coordinates as an officer types them (#16): decimal degrees, a decimal comma, degrees and
minutes (and seconds), the hemisphere in English or Russian letters."""

from __future__ import annotations

import pytest

from hotline.console.coordinates import to_decimal_degrees


@pytest.mark.parametrize(
    ("typed", "axis", "wire"),
    [
        ("54.71", "lat", "54.71"),
        ("54,71", "lat", "54.71"),
        ("-33.9", "lat", "-33.9"),
        ("54 42.6", "lat", "54.71"),
        ("54°42.6′ N", "lat", "54.71"),
        ("54°42,6′ с. ш.", "lat", "54.71"),
        ("N 54 42.6", "lat", "54.71"),
        ("33 54 S", "lat", "-33.9"),
        ("20°30′36″ E", "lon", "20.51"),
        ("20 30.6 В", "lon", "20.51"),
        ("73 59.1 W", "lon", "-73.985"),
        ("73 59,1 з. д.", "lon", "-73.985"),
    ],
)
def test_what_is_typed_becomes_decimal_degrees(typed: str, axis: str, wire: str) -> None:
    assert to_decimal_degrees(typed, axis) == wire


@pytest.mark.parametrize(
    ("typed", "axis"),
    [("54 61", "lat"), ("54.5 30", "lat"), ("-54 30 N", "lat"), ("54 30 E", "lat"), ("north", "lat"), ("", "lon")],
)
def test_what_cannot_be_read_unambiguously_is_left_as_typed(typed: str, axis: str) -> None:
    assert to_decimal_degrees(typed, axis) == typed.strip()  # validation then names the field
