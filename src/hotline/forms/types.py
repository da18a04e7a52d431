"""Typed building blocks for form fields, and the wire conventions they keep.

The signed body is deterministic CBOR without floats or tags, so a body holds only maps with text
keys, lists, text, integers, booleans and null. Every richer value is written as text in one
canonical spelling, and ``prepare_body`` turns friendlier input into it:

- a UTC time is RFC 3339 with whole seconds and ``Z``: ``2026-11-24T06:00:00Z``. The sender may
  write ``+00:00`` or leave out the seconds; any other offset is refused rather than converted, so
  nobody's local time slips into a notification by accident.
- a calendar date is ``YYYY-MM-DD``.
- a decimal (latitude, longitude, frequency) is its shortest exact spelling: no exponent, no ``+``,
  no trailing zeros, no trailing point, no ``-0``: ``55.7558``, ``-3.5``, ``37``. Coordinates carry
  at most 6 decimal places (about 0.1 m); more is refused, not rounded, because a rounded position
  is a different position. The sender may give a JSON number.
- an optional field left out is *absent* on the wire, never null.

Texts are carried exactly as written; they may not be blank, and may not contain control
characters (other than line feed and tab), nor invisible or bidirectional format characters,
which could make a rendered notification show something other than what was signed.
"""

from __future__ import annotations

import enum
import math
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, ClassVar, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)


@dataclass(frozen=True)
class TypeDoc:
    """How a field type is described to operators in ``hotline forms``."""

    text: str


class Record(BaseModel):
    """Every form body and every part of one: strict, closed to unknown fields, immutable."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    type_doc: ClassVar[str] = "map"


# -- enumerations ------------------------------------------------------------------------------

E = TypeVar("E", bound=enum.StrEnum)


def member_of(choices: type[E]) -> BeforeValidator:
    """Accept a member's value; refuse anything else with the list of what is allowed."""

    def check(value: object) -> E:
        if isinstance(value, choices):
            return value
        if not isinstance(value, str):
            raise ValueError("must be text")  # noqa: TRY004 -- pydantic reports only ValueError
        try:
            return choices(value)
        except ValueError:
            expected = ", ".join(member.value for member in choices)
            raise ValueError(f"unknown value {value!r}; expected one of {expected}") from None

    return BeforeValidator(check)


def choice_doc(choices: type[enum.StrEnum]) -> TypeDoc:
    return TypeDoc("one of " + ", ".join(member.value for member in choices))


# -- texts -------------------------------------------------------------------------------------

# What a text may not hold: controls other than tab and line feed (category Cc), and every
# format character (Cf): the bidirectional embeddings, overrides, isolates and marks, the
# zero-width spaces and joiners, the word joiner, the byte-order mark, the soft hyphen, the
# tag characters; and the line and paragraph separators (Zl, Zp). A terminal or a browser acts
# on them instead of showing them, so a notice could read otherwise than what was signed, or
# two texts that look the same could differ. None is needed to write English or Russian (were
# a party to write Persian, whose spelling needs the zero-width non-joiner, this must change).
UNSHOWABLE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp"})  # less tab and line feed
# Those characters as ranges (Unicode 14, Python 3.11's ``unicodedata``), so that a text is
# checked by a regular expression at C speed: a loop over every character in Python made
# queueing a batch of messages through the API twice as slow. A unit test holds the ranges
# against ``unicodedata`` for every code point.
UNSHOWABLE_RANGES = (
    (0x0000, 0x0008), (0x000B, 0x001F), (0x007F, 0x009F), (0x00AD, 0x00AD), (0x0600, 0x0605),
    (0x061C, 0x061C), (0x06DD, 0x06DD), (0x070F, 0x070F), (0x0890, 0x0891), (0x08E2, 0x08E2),
    (0x180E, 0x180E), (0x200B, 0x200F), (0x2028, 0x202E), (0x2060, 0x2064), (0x2066, 0x206F),
    (0xFEFF, 0xFEFF), (0xFFF9, 0xFFFB), (0x110BD, 0x110BD), (0x110CD, 0x110CD), (0x13430, 0x13438),
    (0x1BCA0, 0x1BCA3), (0x1D173, 0x1D17A), (0xE0001, 0xE0001), (0xE0020, 0xE007F),
)  # fmt: skip
# One character class at C speed for the ranges in the Basic Multilingual Plane, and every
# character beyond it, which is then looked at in Python: a class with the few ranges beyond the
# plane was four times slower for every text, and texts hardly ever hold such characters.
_BMP = [(low, high) for low, high in UNSHOWABLE_RANGES if high <= 0xFFFF]
_BEYOND = [(low, high) for low, high in UNSHOWABLE_RANGES if low > 0xFFFF]
_CANDIDATES = re.compile(
    "[" + "".join(f"\\u{low:04X}-\\u{high:04X}" for low, high in _BMP) + "\\U00010000-\\U0010FFFF]"
)


def _is_unshowable(char: str) -> bool:
    code = ord(char)
    return code <= 0xFFFF or any(low <= code <= high for low, high in _BEYOND)


def unshowable(text: str) -> str | None:
    """The first character of ``text`` that a screen would act on instead of showing, if any."""
    for found in _CANDIDATES.finditer(text):
        if _is_unshowable(found.group()):
            return found.group()
    return None


def visible(text: str) -> str:
    """``text`` with every character that ``unshowable`` finds written out as ``<U+202E>``:
    for texts shown to people that no form checked (a peer's rejection, a message stored before
    the check was made)."""
    return _CANDIDATES.sub(lambda found: _written_out(found.group()), text)


def _written_out(char: str) -> str:
    return f"<U+{ord(char):04X}>" if _is_unshowable(char) else char


def _showable(text: str) -> str:
    if not text.strip():
        raise ValueError("must not be blank")
    bad = unshowable(text)
    if bad is not None:
        name = unicodedata.name(bad, "a control character")
        raise ValueError(f"contains U+{ord(bad):04X} ({name}), which a screen acts on instead of showing")
    return text


_SHOWABLE = AfterValidator(_showable)

Name = Annotated[  # a person, a watch, an exercise, a callsign
    str, StringConstraints(min_length=1, max_length=64), _SHOWABLE, TypeDoc("text, up to 64 characters")
]
Line = Annotated[  # one line: a unit, a place
    str, StringConstraints(min_length=1, max_length=200), _SHOWABLE, TypeDoc("text, up to 200 characters")
]
Paragraph = Annotated[  # a question, an agenda, remarks
    str, StringConstraints(min_length=1, max_length=2000), _SHOWABLE, TypeDoc("text, up to 2000 characters")
]
Narrative = Annotated[  # an account of what happened, an answer
    str, StringConstraints(min_length=1, max_length=4000), _SHOWABLE, TypeDoc("text, up to 4000 characters")
]
LongText = Annotated[  # a free-text message
    str, StringConstraints(min_length=1, max_length=20_000), _SHOWABLE, TypeDoc("text, up to 20000 characters")
]


def _matching(pattern: str, expected: str) -> AfterValidator:
    compiled = re.compile(pattern)

    def check(text: str) -> str:
        if not compiled.fullmatch(text):
            raise ValueError(f"{text!r} is not {expected}")
        return text

    return AfterValidator(check)


LanguageTag = Annotated[
    str,
    _matching(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})*", "a language tag such as en or ru"),  # the BCP 47 we need
    TypeDoc("language tag, e.g. en or ru"),
]
SerialReference = Annotated[
    str,
    _matching(r"[A-Z][A-Z0-9_-]{1,31}-[0-9]{6}", "a message serial such as SACEUR-000123"),  # envelope.serial()
    TypeDoc("message serial, e.g. SACEUR-000123"),
]


# -- numbers -----------------------------------------------------------------------------------

Count = Annotated[int, Field(ge=0, le=100_000)]  # a number of weapons, vehicles or warheads

_DECIMAL = re.compile(r"^[+-]?[0-9]+(\.[0-9]+)?$")


def _decimal(value: object, places: int) -> Decimal:
    """A JSON number or decimal string as an exact ``Decimal`` with at most ``places`` decimals."""
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError('must be a decimal number, e.g. "55.7558"')  # noqa: TRY004 -- pydantic reports only ValueError
    elif isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{value} is not a number")
    elif isinstance(value, float):
        # repr() is the shortest text that reads back as the same float: 55.7558, or 1e-06.
        number = Decimal(repr(value))
    else:
        text = str(value)
        if not _DECIMAL.match(text):
            raise ValueError(f'{text!r} is not a decimal number such as "55.7558"')
        number = Decimal(text)
    exponent = number.as_tuple().exponent
    if not isinstance(exponent, int) or exponent < -places:
        raise ValueError(f"{decimal_text(number)} has more than {places} decimal places")
    return number


def decimal_text(number: Decimal) -> str:
    """The canonical spelling: shortest, exact, no exponent, zero without a sign."""
    if number.is_zero():
        return "0"
    return format(number.normalize(), "f")


def _bounded_decimal(what: str, low: int, high: int, places: int) -> Callable[[object], Decimal]:
    def check(value: object) -> Decimal:
        number = _decimal(value, places)
        if not low <= number <= high:
            raise ValueError(f"{what} {decimal_text(number)} is outside {_signed(low)}..{_signed(high)}")
        return number

    return check


def _signed(bound: int) -> str:
    return str(bound).replace("-", "\u2212")  # a true minus sign, as in the range -90..90 on a chart


_AS_TEXT = PlainSerializer(decimal_text, return_type=str)

Latitude = Annotated[
    Decimal, BeforeValidator(_bounded_decimal("latitude", -90, 90, 6)), _AS_TEXT, TypeDoc("decimal degrees")
]
Longitude = Annotated[
    Decimal, BeforeValidator(_bounded_decimal("longitude", -180, 180, 6)), _AS_TEXT, TypeDoc("decimal degrees")
]
Megahertz = Annotated[
    Decimal,
    BeforeValidator(_bounded_decimal("frequency", 2, 400, 3)),  # HF to UHF, kHz resolution
    _AS_TEXT,
    TypeDoc("frequency in MHz, decimal text, e.g. 121.5"),
]


# -- time --------------------------------------------------------------------------------------

_TIME = re.compile(
    r"^([0-9]{4}-[0-9]{2}-[0-9]{2})T([0-9]{2}:[0-9]{2})(:[0-9]{2})?(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$"
)


def _utc_time(value: object) -> datetime:
    if isinstance(value, datetime):
        if value.utcoffset() is None or value.utcoffset() or value.microsecond:
            raise ValueError("must be a UTC time in whole seconds")
        return value.astimezone(UTC)
    if not isinstance(value, str):
        raise ValueError("must be a UTC time written as text, e.g. 2026-11-24T06:00:00Z")  # noqa: TRY004 -- pydantic reports only ValueError
    match = _TIME.match(value)
    if match is None:
        raise ValueError(f"{value!r} is not a UTC time such as 2026-11-24T06:00:00Z")
    day, minute, second, fraction, offset = match.groups()
    if fraction:
        raise ValueError(f"{value!r} has a fraction of a second; times are given in whole seconds")
    if offset not in {"Z", "+00:00", "-00:00"}:
        raise ValueError(f"{value!r} is not in UTC; give the time in UTC, ending in Z")
    try:
        return datetime.fromisoformat(f"{day}T{minute}{second or ':00'}").replace(tzinfo=UTC)
    except ValueError:
        raise ValueError(f"{value!r} is not a valid date and time") from None


def utc_text(moment: datetime) -> str:
    return moment.replace(tzinfo=None).isoformat() + "Z"


def _calendar_date(value: object) -> date:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        raise ValueError("must be a date written as text, e.g. 2026-09-01")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a valid date") from None


UtcTime = Annotated[
    datetime,
    BeforeValidator(_utc_time),
    PlainSerializer(utc_text, return_type=str),
    TypeDoc("UTC time, e.g. 2026-11-24T06:00:00Z"),
]
CalendarDate = Annotated[
    date,
    BeforeValidator(_calendar_date),
    PlainSerializer(date.isoformat, return_type=str),
    TypeDoc("date, e.g. 2026-09-01"),
]


class TimeWindow(Record):
    type_doc = "time window {start, end} in UTC"

    start: UtcTime
    end: UtcTime

    @model_validator(mode="after")
    def _ends_after_start(self) -> TimeWindow:
        if self.end < self.start:
            raise ValueError("the window ends before it starts")
        if self.end == self.start:
            raise ValueError("the window is empty: it ends when it starts")
        return self


# -- places ------------------------------------------------------------------------------------


class Position(Record):
    """A point in WGS 84."""

    type_doc = "position {lat, lon} in WGS 84 decimal degrees"

    lat: Latitude
    lon: Longitude


class DistanceUnit(enum.StrEnum):
    KM = "km"
    NM = "nm"  # nautical miles


class Polygon(Record):
    """Vertices in order; the ring closes itself, so the first point need not be repeated."""

    type_doc = "polygon {shape: polygon, vertices: [position, ...]}"

    shape: Literal["polygon"]
    vertices: list[Position] = Field(min_length=3, max_length=64)


class Circle(Record):
    type_doc = "circle {shape: circle, centre: position, radius, unit: km|nm}"

    shape: Literal["circle"]
    centre: Position
    # Whole kilometres or miles: notified areas are tens to thousands of them wide.
    radius: int = Field(ge=1, le=20_000)
    unit: Annotated[DistanceUnit, member_of(DistanceUnit)]


Area = Annotated[Polygon | Circle, Field(discriminator="shape"), TypeDoc("area: polygon or circle")]
AREA_SHAPES = ("polygon", "circle")  # pydantic names the chosen shape in an error's location


# -- altitudes ---------------------------------------------------------------------------------


class AltitudeUnit(enum.StrEnum):
    FT = "ft"
    M = "m"
    FL = "fl"  # flight level: hundreds of feet on the standard pressure setting


_CEILING = {AltitudeUnit.FT: 100_000, AltitudeUnit.M: 30_000, AltitudeUnit.FL: 999}


class AltitudeBand(Record):
    type_doc = "altitude band {unit: ft|m|fl, low, high}"

    unit: Annotated[AltitudeUnit, member_of(AltitudeUnit)]
    low: int
    high: int

    # Field validators rather than one model check, so that an error names ``low`` or ``high``.
    @field_validator("low", "high")
    @classmethod
    def _within_ceiling(cls, value: int, info: ValidationInfo) -> int:
        unit = info.data.get("unit")
        if unit is not None and not 0 <= value <= _CEILING[unit]:
            raise ValueError(f"{value} is outside 0..{_CEILING[unit]} {unit}")
        if info.field_name == "high" and "low" in info.data and value <= info.data["low"]:
            raise ValueError(f"the top of the band ({value}) is not above its bottom ({info.data['low']})")
        return value
