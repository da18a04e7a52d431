"""Bodies the catalogue refuses, each with a FieldError that names the field and says why."""

import copy
import sys
import unicodedata
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.envelope.model import FieldError
from hotline.forms import prepare_body, render, validate_body
from hotline.forms.types import UNSHOWABLE_CATEGORIES, UNSHOWABLE_RANGES, unshowable, visible

LAUNCH: dict[str, Any] = {
    "missile_class": "icbm",
    "launch_window": {"start": "2026-11-24T06:00:00Z", "end": "2026-11-24T10:00:00Z"},
    "launch_area": {"shape": "circle", "centre": {"lat": "55.7558", "lon": "37.6173"}, "radius": 50, "unit": "km"},
    "impact_area": {
        "shape": "polygon",
        "vertices": [
            {"lat": "52.5", "lon": "160"},
            {"lat": "53", "lon": "160"},
            {"lat": "53", "lon": "161"},
            {"lat": "52.5", "lon": "161"},
        ],
    },
}
MEETING: dict[str, Any] = {"proposed_time": "2026-12-01T09:00:00Z", "format": "video", "agenda": "Procedures"}
ARSENAL: dict[str, Any] = {
    "as_of": "2026-09-01",
    "deployed_icbms": 400,
    "deployed_slbms": 240,
    "deployed_heavy_bombers": 60,
    "deployed_warheads": 1500,
    "deployed_and_non_deployed_launchers": 800,
}
AIR: dict[str, Any] = {
    "activity": "live_firing",
    "area": {"shape": "circle", "centre": {"lat": "57", "lon": "20"}, "radius": 20, "unit": "nm"},
    "window": {"start": "2026-11-24T06:00:00Z", "end": "2026-11-24T10:00:00Z"},
    "altitude": {"unit": "ft", "low": 0, "high": 20000},
    "contact": {"callsign": "RANGE CONTROL"},
}
INCIDENT: dict[str, Any] = {
    "category": "collision",
    "occurred_at": "2026-11-23T14:12:00Z",
    "position": {"lat": "43.25", "lon": "33.5"},
    "units_involved": ["A"],
    "what_happened": "B",
    "actions_taken": "C",
}
EXERCISE: dict[str, Any] = {
    "window": {"start": "2026-10-12T00:00:00Z", "end": "2026-10-26T18:00:00Z"},
    "forces": ["icbm", "heavy_bombers"],
    "heavy_bombers": 12,
    "area": {"shape": "circle", "centre": {"lat": "60", "lon": "90"}, "radius": 2000, "unit": "km"},
}


def changed(body: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A copy of ``body`` with the dotted ``path`` set to ``value`` (or removed, for ``...``)."""
    result = copy.deepcopy(body)
    *parents, last = path.split(".")
    target: Any = result
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    if value is ...:
        del target[last]
    else:
        target[last] = value
    return result


REFUSED = [
    ("missing field", "missile_launch", changed(LAUNCH, "impact_area", ...), "body.impact_area", "missing"),
    (
        "latitude 91",
        "missile_launch",
        changed(LAUNCH, "impact_area.vertices.3.lat", "91"),
        "body.impact_area.vertices.3.lat",
        "latitude 91 is outside \u221290..90",
    ),
    (
        "longitude -180.5",
        "missile_launch",
        changed(LAUNCH, "launch_area.centre.lon", -180.5),
        "body.launch_area.centre.lon",
        "longitude -180.5 is outside \u2212180..180",
    ),
    (
        "window ends before it starts",
        "missile_launch",
        changed(LAUNCH, "launch_window.end", "2026-11-24T05:00:00Z"),
        "body.launch_window",
        "the window ends before it starts",
    ),
    (
        "empty window",
        "missile_launch",
        changed(LAUNCH, "launch_window.end", "2026-11-24T06:00:00Z"),
        "body.launch_window",
        "the window is empty: it ends when it starts",
    ),
    (
        "unknown enum value",
        "missile_launch",
        changed(LAUNCH, "missile_class", "xyz"),
        "body.missile_class",
        "unknown value 'xyz'; expected one of icbm, slbm",
    ),
    (
        "string for an integer",
        "arsenal_declaration",
        changed(ARSENAL, "deployed_icbms", "400"),
        "body.deployed_icbms",
        "must be an integer",
    ),
    (
        "boolean for an integer",
        "arsenal_declaration",
        changed(ARSENAL, "deployed_icbms", True),
        "body.deployed_icbms",
        "must be an integer",
    ),
    (
        "negative count",
        "arsenal_declaration",
        changed(ARSENAL, "deployed_warheads", -1),
        "body.deployed_warheads",
        "-1 is below the minimum 0",
    ),
    (
        "fewer launchers than deployed",
        "arsenal_declaration",
        changed(ARSENAL, "deployed_and_non_deployed_launchers", 650),
        "body.deployed_and_non_deployed_launchers",
        "650 is fewer than the 700 deployed ICBMs, SLBMs and heavy bombers",
    ),
    ("extra field", "missile_launch", changed(LAUNCH, "colour", "red"), "body.colour", "is not a field of this form"),
    (
        "extra nested field",
        "missile_launch",
        changed(LAUNCH, "launch_area.centre.alt", "0"),
        "body.launch_area.centre.alt",
        "is not a field of this form",
    ),
    (
        "polygon with two vertices",
        "missile_launch",
        changed(LAUNCH, "impact_area.vertices", LAUNCH["impact_area"]["vertices"][:2]),
        "body.impact_area.vertices",
        "has 2 entries; at least 3 are needed",
    ),
    (
        "unknown shape",
        "missile_launch",
        changed(LAUNCH, "launch_area.shape", "hexagon"),
        "body.launch_area.shape",
        "unknown value 'hexagon'; expected one of polygon, circle",
    ),
    (
        "area without shape",
        "missile_launch",
        changed(LAUNCH, "launch_area.shape", ...),
        "body.launch_area.shape",
        "missing",
    ),
    (
        "radius of zero",
        "missile_launch",
        changed(LAUNCH, "launch_area.radius", 0),
        "body.launch_area.radius",
        "0 is below the minimum 1",
    ),
    (
        "local time",
        "missile_launch",
        changed(LAUNCH, "launch_window.start", "2026-11-24T09:00:00+03:00"),
        "body.launch_window.start",
        "'2026-11-24T09:00:00+03:00' is not in UTC; give the time in UTC, ending in Z",
    ),
    (
        "fraction of a second",
        "missile_launch",
        changed(LAUNCH, "launch_window.start", "2026-11-24T06:00:00.5Z"),
        "body.launch_window.start",
        "'2026-11-24T06:00:00.5Z' has a fraction of a second; times are given in whole seconds",
    ),
    (
        "no such day",
        "missile_launch",
        changed(LAUNCH, "launch_window.start", "2026-02-30T06:00:00Z"),
        "body.launch_window.start",
        "'2026-02-30T06:00:00Z' is not a valid date and time",
    ),
    (
        "too many decimal places",
        "missile_launch",
        changed(LAUNCH, "launch_area.centre.lat", "55.7558001"),
        "body.launch_area.centre.lat",
        "55.7558001 has more than 6 decimal places",
    ),
    (
        "exponent",
        "missile_launch",
        changed(LAUNCH, "launch_area.centre.lat", "5e1"),
        "body.launch_area.centre.lat",
        "'5e1' is not a decimal number such as \"55.7558\"",
    ),
    (
        "area that is not a map",
        "missile_launch",
        changed(LAUNCH, "launch_area", "Moscow"),
        "body.launch_area",
        "must be a map",
    ),
    (
        "unknown pre-agreed code",
        "pre_agreed",
        {"code": "PA99"},
        "body.code",
        "unknown pre-agreed message 'PA99'; expected one of " + ", ".join(f"PA{n:02d}" for n in range(1, 14)),
    ),
    (
        "bad reference",
        "pre_agreed",
        {"code": "PA01", "reference": "message 42"},
        "body.reference",
        "'message 42' is not a message serial such as SACEUR-000123",
    ),
    (
        "meeting in person without a place",
        "meeting_request",
        changed(MEETING, "format", "in_person"),
        "body.place",
        "missing: a meeting in person needs a place",
    ),
    (
        "band upside down",
        "air_deconfliction",
        changed(AIR, "altitude", {"unit": "fl", "low": 350, "high": 100}),
        "body.altitude.high",
        "the top of the band (100) is not above its bottom (350)",
    ),
    (
        "flight level too high",
        "air_deconfliction",
        changed(AIR, "altitude", {"unit": "fl", "low": 100, "high": 1200}),
        "body.altitude.high",
        "1200 is outside 0..999 fl",
    ),
    (
        "no way to reach anyone",
        "air_deconfliction",
        changed(AIR, "contact", {}),
        "body.contact",
        "give a callsign, a frequency or both",
    ),
    (
        "frequency out of band",
        "air_deconfliction",
        changed(AIR, "contact", {"frequency_mhz": "1090"}),
        "body.contact.frequency_mhz",
        "frequency 1090 is outside 2..400",
    ),
    (
        "bombers not among the forces",
        "strategic_exercise",
        changed(EXERCISE, "forces", ["icbm"]),
        "body.heavy_bombers",
        "heavy bombers are counted but heavy_bombers is not among the forces",
    ),
    (
        "a force twice",
        "strategic_exercise",
        changed(EXERCISE, "forces", ["icbm", "icbm"]),
        "body.forces",
        "names a force more than once",
    ),
    (
        "no forces",
        "strategic_exercise",
        changed(EXERCISE, "forces", []),
        "body.forces",
        "has 0 entries; at least 1 are needed",
    ),
    ("blank text", "free_text", {"text": "  \n", "lang": "en"}, "body.text", "must not be blank"),
    ("empty text", "free_text", {"text": "", "lang": "en"}, "body.text", "must not be empty"),
    (
        "terminal escape",
        "free_text",
        {"text": "ok\x1b[2J", "lang": "en"},
        "body.text",
        "contains U+001B (a control character), which a screen acts on instead of showing",
    ),
    (
        "bidi override",
        "free_text",
        {"text": "abc\u202edef", "lang": "en"},
        "body.text",
        "contains U+202E (RIGHT-TO-LEFT OVERRIDE), which a screen acts on instead of showing",
    ),
    (
        "bidi mark",
        "free_text",
        {"text": "PAY \u200f0001", "lang": "en"},
        "body.text",
        "contains U+200F (RIGHT-TO-LEFT MARK), which a screen acts on instead of showing",
    ),
    (
        "zero-width space",
        "free_text",
        {"text": "SA\u200bCEUR", "lang": "en"},
        "body.text",
        "contains U+200B (ZERO WIDTH SPACE), which a screen acts on instead of showing",
    ),
    (
        "byte-order mark",
        "clarification",
        {"answer": "\ufeffyes"},
        "body.answer",
        "contains U+FEFF (ZERO WIDTH NO-BREAK SPACE), which a screen acts on instead of showing",
    ),
    (
        "line separator",
        "free_text",
        {"text": "one\u2028two", "lang": "ru"},
        "body.text",
        "contains U+2028 (LINE SEPARATOR), which a screen acts on instead of showing",
    ),
    (
        "bad language tag",
        "free_text",
        {"text": "x", "lang": "English"},
        "body.lang",
        "'English' is not a language tag such as en or ru",
    ),
    ("text that is not text", "clarification", {"answer": 42}, "body.answer", "must be text"),
    (
        "list that is not a list",
        "incident_report",
        changed(INCIDENT, "units_involved", "A"),
        "body.units_involved",
        "must be a list",
    ),
    (
        "boolean that is not a boolean",
        "ack",
        {"by": "Duty", "at": "2026-11-24T06:00:00Z", "auto": 1},
        "body.auto",
        "must be true or false",
    ),
    ("body that is not a map", "free_text", ["text"], "body", "must be a map"),
]


@pytest.mark.parametrize(
    ("kind", "body", "field", "detail"), [case[1:] for case in REFUSED], ids=[case[0] for case in REFUSED]
)
def test_refused(kind: str, body: Any, field: str, detail: str) -> None:
    with pytest.raises(FieldError) as sender_side:
        prepare_body(kind, 1, body)
    with pytest.raises(FieldError) as receiver_side:
        validate_body(kind, 1, body, reply_to=bytes(32))
    for raised in (sender_side.value, receiver_side.value):
        assert (raised.field, raised.detail) == (field, detail)


NON_CANONICAL = [
    (
        changed(LAUNCH, "launch_window.start", "2026-11-24T06:00:00+00:00"),
        "body.launch_window.start",
        "'2026-11-24T06:00:00Z'",
    ),
    (changed(LAUNCH, "launch_window.start", "2026-11-24T06:00Z"), "body.launch_window.start", "'2026-11-24T06:00:00Z'"),
    (changed(LAUNCH, "launch_area.centre.lat", "55.755800"), "body.launch_area.centre.lat", "'55.7558'"),
    (changed(LAUNCH, "launch_area.centre.lat", 55.7558), "body.launch_area.centre.lat", "'55.7558'"),
    (changed(LAUNCH, "impact_area.vertices.2.lon", 161), "body.impact_area.vertices.2.lon", "'161'"),
    (changed(LAUNCH, "impact_area.vertices.2.lon", "-0"), "body.impact_area.vertices.2.lon", "'0'"),
]


@pytest.mark.parametrize(("body", "field", "canonical"), NON_CANONICAL)
def test_receiver_refuses_what_the_sender_would_have_normalised(
    body: dict[str, Any], field: str, canonical: str
) -> None:
    prepare_body("missile_launch", 1, body)  # the sender accepts it...
    with pytest.raises(FieldError) as raised:
        validate_body("missile_launch", 1, body)  # ...but it is not what may be signed
    assert (raised.value.field, raised.value.detail) == (field, f"is not in canonical form; write it as {canonical}")


def test_receiver_refuses_null_for_an_absent_field() -> None:
    with pytest.raises(FieldError) as raised:
        validate_body("missile_launch", 1, {**LAUNCH, "remarks": None})
    assert (raised.value.field, raised.value.detail) == ("body.remarks", "must be left out rather than null")


@pytest.mark.parametrize("kind", ["clarification", "ack"])
def test_answers_must_name_what_they_answer(kind: str) -> None:
    body = {"answer": "Yes."} if kind == "clarification" else {"by": "Duty", "at": "2026-11-24T06:00:00Z", "auto": True}
    with pytest.raises(FieldError) as raised:
        validate_body(kind, 1, body)
    assert raised.value.field == "re"
    assert validate_body(kind, 1, body, reply_to=bytes(32))


@pytest.mark.parametrize(("kind", "version"), [("telegram", 1), ("free_text", 2)])
def test_unknown_form(kind: str, version: int) -> None:
    for check in (prepare_body, validate_body):
        with pytest.raises(FieldError) as raised:
            check(kind, version, {"text": "x", "lang": "en"})
        assert raised.value.field == "kind"
        assert raised.value.detail.startswith(f"unknown form {kind!r} version {version}")
        if kind == "telegram":  # a name no version of which exists: the operator is shown the forms
            assert "the forms are: ack, air_deconfliction," in raised.value.detail


def test_render_refuses_an_unknown_language() -> None:
    with pytest.raises(ValueError, match="unsupported language 'de'"):
        render("free_text", 1, {"text": "x", "lang": "en"}, "de")


# -- properties --------------------------------------------------------------------------------

decimals = st.decimals(min_value=-90, max_value=90, places=6, allow_nan=False, allow_infinity=False)
positions = st.fixed_dictionaries(
    {
        "lat": decimals.flatmap(lambda d: st.sampled_from([str(d), float(d)])),
        "lon": decimals.map(lambda d: str(d * 2)),
    }
)
moments = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31)).map(  # noqa: DTZ001
    lambda t: t.replace(microsecond=0, tzinfo=UTC)
)
times = moments.flatmap(lambda t: st.sampled_from([t.isoformat(), t.isoformat().replace("+00:00", "Z")]))
areas = st.one_of(
    st.fixed_dictionaries({"shape": st.just("polygon"), "vertices": st.lists(positions, min_size=3, max_size=8)}),
    st.fixed_dictionaries(
        {
            "shape": st.just("circle"),
            "centre": positions,
            "radius": st.integers(1, 20_000),
            "unit": st.sampled_from(["km", "nm"]),
        }
    ),
)
texts = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cc", "Cf", "Cs", "Zl", "Zp")), min_size=1, max_size=40
).filter(str.strip)


@st.composite
def windows(draw: st.DrawFn) -> dict[str, str]:
    start, end = sorted(draw(st.lists(moments, min_size=2, max_size=2, unique=True)))
    return {"start": start.isoformat(), "end": end.isoformat()}


bodies = st.one_of(
    st.tuples(st.just("link_test"), st.fixed_dictionaries({"probe": st.integers(0, 2**53), "sent": times})),
    st.tuples(
        st.just("missile_launch"),
        st.fixed_dictionaries(
            {
                "missile_class": st.sampled_from(["icbm", "slbm"]),
                "launch_window": windows(),
                "launch_area": areas,
                "impact_area": areas,
            },
            optional={"remarks": texts},
        ),
    ),
    st.tuples(
        st.just("incident_report"),
        st.fixed_dictionaries(
            {
                "category": st.sampled_from(["collision", "laser_use", "other"]),
                "occurred_at": times,
                "position": positions,
                "units_involved": st.lists(texts, min_size=1, max_size=3),
                "what_happened": texts,
                "actions_taken": texts,
            }
        ),
    ),
    st.tuples(
        st.just("clarification_request"),
        st.fixed_dictionaries({"question": texts}, optional={"observed_at": times, "area": areas}),
    ),
)


def floats_in(value: object) -> bool:
    if isinstance(value, dict):
        return any(floats_in(item) for item in value.values())
    if isinstance(value, list):
        return any(floats_in(item) for item in value)
    return isinstance(value, float | Decimal)


@settings(max_examples=60, deadline=None)
@given(bodies)
def test_prepared_bodies_are_fixed_points_without_floats(case: tuple[str, dict[str, Any]]) -> None:
    kind, data = case
    body = prepare_body(kind, 1, data)
    assert prepare_body(kind, 1, body) == body
    assert not floats_in(body)
    validate_body(kind, 1, body)
    assert render(kind, 1, body, "ru").text


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=12,
)


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(["missile_launch", "air_deconfliction", "free_text", "pre_agreed"]),
    st.dictionaries(
        st.sampled_from(["missile_class", "launch_area", "area", "text", "lang", "code", "window", "altitude"]),
        json_values,
    ),
)
def test_garbage_is_refused_with_a_field_error_and_nothing_else(kind: str, body: dict[str, Any]) -> None:
    try:
        validate_body(kind, 1, body)
    except FieldError as exc:
        field = exc.field
    else:
        return
    assert field == "body" or field.startswith("body.")


@pytest.mark.parametrize(
    ("kind", "data", "message"),
    [
        ("pre_agreed", {"cod": "PA01"}, "body.cod: is not a field of this form; did you mean 'code'?"),
        ("free_text", {"txt": "Hello.", "lang": "en"}, "body.txt: is not a field of this form; did you mean 'text'?"),
    ],
)
def test_a_misspelt_field_is_named_with_the_field_meant(kind: str, data: dict[str, Any], message: str) -> None:
    with pytest.raises(FieldError) as caught:
        prepare_body(kind, 1, data)
    assert str(caught.value) == message


def test_texts_no_form_checked_are_shown_with_what_a_screen_would_act_on_written_out() -> None:
    assert visible("Москва, 06:00\tZ\n") == "Москва, 06:00\tZ\n"
    assert visible("a\u202eb\u200bc\u00ad\x1b") == "a<U+202E>b<U+200B>c<U+00AD><U+001B>"
    assert unshowable("PAY\u200f") == "\u200f"
    assert unshowable("Generalstab, 30 км") is None


def test_the_ranges_of_unshowable_characters_are_unicodes_categories() -> None:
    expected = {
        code
        for code in range(sys.maxunicode + 1)
        if unicodedata.category(chr(code)) in UNSHOWABLE_CATEGORIES and chr(code) not in "\t\n"
    }
    listed = {code for low, high in UNSHOWABLE_RANGES for code in range(low, high + 1)}
    assert listed == expected, f"Unicode {unicodedata.unidata_version}: update UNSHOWABLE_RANGES"
    found = {code for code in range(sys.maxunicode + 1) if unshowable(chr(code)) is not None}
    assert found == expected
