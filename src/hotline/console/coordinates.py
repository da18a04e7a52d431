# ruff: noqa: RUF001, RUF002, RUF003 - Cyrillic hemisphere letters and the prime are what is read
"""Coordinates as an officer types them: decimal degrees with a point or a comma, or degrees
and minutes (and seconds), with the hemisphere as a letter in English or Russian.

The wire carries decimal degrees (``54.71``); a chart gives ``54°42.6′ N`` (in Russian
``54°42,6′ с. ш.``). This turns what was typed into the wire's form when it can be read
unambiguously, and leaves anything else as typed, for validation to name the field.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

# Letters that give the hemisphere, negative for south and west; Russian abbreviations
# (с. ш., ю. ш., в. д., з. д.) are read by their first letter.
_HEMISPHERES = {"N": 1, "S": -1, "E": 1, "W": -1, "С": 1, "Ю": -1, "В": 1, "З": -1}
_LETTERS = {"lat": "NSСЮ", "lon": "EWВЗ"}
_NUMBER = r"\d+(?:[.,]\d+)?"
_ANGLE = re.compile(
    rf"^\s*(?P<sign>[+-])?\s*(?P<deg>{_NUMBER})\s*°?"
    rf"(?:\s*(?P<min>{_NUMBER})\s*['′]?)?"
    rf"(?:\s*(?P<sec>{_NUMBER})\s*(?:\"|″|'')?)?\s*$"
)
SIX_PLACES = Decimal("0.000001")


def to_decimal_degrees(text: str, axis: str) -> str:
    """``text`` as decimal degrees for ``axis`` (``lat`` or ``lon``); as typed if unreadable."""
    typed = text.strip()
    cleaned, hemisphere = _hemisphere(typed.upper(), _LETTERS[axis])
    match = _ANGLE.match(cleaned)
    if match is None:
        return typed
    try:
        degrees = Decimal(match["deg"].replace(",", "."))
        minutes = Decimal(match["min"].replace(",", ".")) if match["min"] else Decimal(0)
        seconds = Decimal(match["sec"].replace(",", ".")) if match["sec"] else Decimal(0)
    except InvalidOperation:
        return typed
    if (match["min"] and degrees % 1) or minutes >= 60 or seconds >= 60 or (match["sec"] and minutes % 1):
        return typed  # 54.5°30′ or 61′: not a reading to guess at
    if match["sign"] == "-" and hemisphere:
        return typed  # both a minus and a letter: which one was meant?
    value = degrees + minutes / 60 + seconds / 3600
    if match["sign"] == "-" or hemisphere < 0:
        value = -value
    if match["min"]:
        value = value.quantize(SIX_PLACES, ROUND_HALF_EVEN)  # what the wire carries, about 0.1 m
    shown = format(value, "f")
    return shown.rstrip("0").rstrip(".") if "." in shown else shown


def _hemisphere(text: str, letters: str) -> tuple[str, int]:
    """The text without its hemisphere letter (before or after the number), and its sign; 0
    when it names none."""
    for letter in letters:
        pattern = rf"^\s*{letter}\.?\s*(?:[ШД]\.?)?\s*(.+)$|^(.+?)\s*{letter}\.?\s*(?:[ШД]\.?)?\s*$"
        found = re.match(pattern, text)
        if found:
            return (found.group(1) or found.group(2)), _HEMISPHERES[letter]
    return text, 0
