"""Form fields as inputs, what an operator typed back as a body, and errors beside their inputs."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markupsafe import escape
from pydantic import ValidationError

from hotline.console.fields import (
    AREA,
    CHECKBOX,
    CHOICE,
    CHOICES,
    DATE,
    DECIMAL,
    GROUP,
    INTEGER,
    LANGUAGE_CHOICES,
    LINES,
    MISSING,
    TEXT,
    TEXTAREA,
    TIME,
    Errors,
    Submitted,
    Widget,
    collect,
    errors_by_field,
    widgets,
)
from hotline.console.i18n import words
from hotline.console.rendering import template_environment
from hotline.forms import FORMS, PRE_AGREED
from hotline.forms.schemas import ForceComponent, FormBody


def fields_of(kind: str) -> list[Widget]:
    return widgets(FORMS[kind, 1].schema)


def by_name(fields: list[Widget]) -> dict[str, Widget]:
    found: dict[str, Widget] = {}
    for widget in fields:
        found[widget.name] = widget
        found.update(by_name(list(widget.children)))
    return found


def kinds(kind: str) -> dict[str, str]:
    return {name: widget.kind for name, widget in by_name(fields_of(kind)).items()}


def body_of(kind: str, form: Submitted) -> dict[str, Any]:
    return collect(fields_of(kind), form)


def validated(kind: str, form: Submitted) -> FormBody:
    return FORMS[kind, 1].schema.model_validate(body_of(kind, form))


def errors_of(kind: str, form: Submitted) -> Errors:
    fields = fields_of(kind)
    with pytest.raises(ValidationError) as caught:
        FORMS[kind, 1].schema.model_validate(collect(fields, form))
    return errors_by_field(fields, caught.value, form)


# What a browser sends for a complete air activity notification with a circle: every input of
# the page, the untouched ones empty.
AIR_CIRCLE: dict[str, list[str]] = {
    "activity": ["live_firing"],
    "area.shape": ["circle"],
    "area.centre.lat": ["57.25"],
    "area.centre.lon": ["-20"],
    "area.radius": ["20"],
    "area.unit": ["nm"],
    "area.vertices": [""],
    "window.start": ["2026-11-24T06:00"],
    "window.end": ["2026-11-24T10:00:05"],
    "altitude.unit": ["ft"],
    "altitude.low": ["0"],
    "altitude.high": ["20000"],
    "contact.callsign": ["RANGE CONTROL"],
    "contact.frequency_mhz": [""],
    "remarks": [""],
}


def air(**changes: str) -> dict[str, list[str]]:
    """AIR_CIRCLE with some inputs changed; names use '__' for '.'."""
    return AIR_CIRCLE | {name.replace("__", "."): [value] for name, value in changes.items()}


# -- widgets ---------------------------------------------------------------------------------


def test_air_deconfliction_inputs() -> None:
    assert kinds("air_deconfliction") == {
        "activity": CHOICE,
        "area": AREA,
        "area.centre.lat": DECIMAL,
        "area.centre.lon": DECIMAL,
        "area.radius": INTEGER,
        "area.unit": CHOICE,
        "area.vertices": LINES,
        "window": GROUP,
        "window.start": TIME,
        "window.end": TIME,
        "altitude": GROUP,
        "altitude.unit": CHOICE,
        "altitude.low": INTEGER,
        "altitude.high": INTEGER,
        "contact": GROUP,
        "contact.callsign": TEXT,
        "contact.frequency_mhz": DECIMAL,
        "remarks": TEXTAREA,  # a paragraph of up to 2000 characters
    }
    fields = by_name(fields_of("air_deconfliction"))
    area = fields["area"]
    assert area.choices == (("polygon", "polygon"), ("circle", "circle"))
    assert [c.name for c in area.children] == [
        "area.centre.lat",
        "area.centre.lon",
        "area.radius",
        "area.unit",
        "area.vertices",
    ]
    assert fields["area.unit"].choices == (("km", "km"), ("nm", "NM"))
    assert [v for v, _ in fields["altitude.unit"].choices] == ["ft", "m", "fl"]
    assert "live_firing" in [v for v, _ in fields["activity"].choices]
    # Required as the schema says; a part's label is the console's own, a field's title the forms'.
    assert fields["activity"].required
    assert not fields["remarks"].required
    assert not fields["contact.callsign"].required
    assert not fields["contact.frequency_mhz"].required
    assert (fields["window"].label, fields["window"].own_label) == ("Period", False)
    assert (fields["window.start"].label, fields["window.start"].own_label) == ("Start", True)
    assert fields["area.centre.lat"].dom_id == "f-area-centre-lat"


def test_free_text_inputs() -> None:
    assert kinds("free_text") == {
        "text": TEXTAREA,
        "lang": CHOICE,
        "translation": GROUP,
        "translation.text": TEXTAREA,
        "translation.lang": CHOICE,
    }
    fields = by_name(fields_of("free_text"))
    assert fields["lang"].choices == LANGUAGE_CHOICES
    assert fields["lang"].own_label
    assert fields["translation.lang"].choices == LANGUAGE_CHOICES
    assert fields["text"].required
    assert not fields["translation"].required
    assert fields["translation.text"].required  # within the group, once the group is given


def test_strategic_exercise_inputs() -> None:
    found = kinds("strategic_exercise")
    assert found["name"] == TEXT
    assert found["forces"] == CHOICES
    assert found["heavy_bombers"] == INTEGER
    assert found["area"] == AREA
    assert (found["window.start"], found["window.end"]) == (TIME, TIME)
    fields = by_name(fields_of("strategic_exercise"))
    assert [v for v, _ in fields["forces"].choices] == [f.value for f in ForceComponent]
    assert not fields["name"].required
    assert fields["forces"].required


def test_incident_report_inputs() -> None:
    assert kinds("incident_report") == {
        "category": CHOICE,
        "occurred_at": TIME,
        "position": GROUP,
        "position.lat": DECIMAL,
        "position.lon": DECIMAL,
        "units_involved": LINES,
        "what_happened": TEXTAREA,
        "actions_taken": TEXTAREA,
    }


def test_pre_agreed_code_is_a_choice_of_the_catalogues_codes() -> None:
    fields = by_name(fields_of("pre_agreed"))
    assert fields["code"].kind == CHOICE
    assert fields["code"].choices == tuple((code, code) for code in PRE_AGREED)
    assert len(fields["code"].choices) > 1
    assert fields["reference"].kind == TEXT
    assert not fields["reference"].required


def test_dates_checkboxes_and_optional_areas() -> None:
    assert kinds("arsenal_declaration")["as_of"] == DATE
    assert kinds("ack")["auto"] == CHECKBOX
    area = by_name(fields_of("clarification_request"))["area"]
    assert area.kind == AREA
    assert not area.required


@pytest.mark.parametrize("key", list(FORMS))
def test_every_form_has_inputs_with_distinct_names(key: tuple[str, int]) -> None:
    all_names: list[str] = []

    def walk(fields: tuple[Widget, ...] | list[Widget]) -> None:
        for widget in fields:
            all_names.append(widget.name)
            walk(widget.children)

    walk(widgets(FORMS[key].schema))
    assert all_names
    assert len(all_names) == len(set(all_names))


# -- collect ---------------------------------------------------------------------------------


def test_a_complete_air_notification_with_a_circle() -> None:
    body = body_of("air_deconfliction", AIR_CIRCLE)
    assert body == {
        "activity": "live_firing",
        "area": {"shape": "circle", "centre": {"lat": "57.25", "lon": "-20"}, "radius": 20, "unit": "nm"},
        "window": {"start": "2026-11-24T06:00:00Z", "end": "2026-11-24T10:00:05Z"},
        "altitude": {"unit": "ft", "low": 0, "high": 20000},
        "contact": {"callsign": "RANGE CONTROL"},  # the empty frequency is left out, not null
    }
    FORMS["air_deconfliction", 1].schema.model_validate(body)


@pytest.mark.parametrize(
    "vertices",
    [
        "57, 20\n57.5, 20.5\n58, 21",
        "57, 20\r\n57.5 ,20.5\r\n\r\n58;21\r\n",  # a browser's line ends, a blank line, other separators
        "  57 20\n\n  57.5\t20.5\n58,21  \n\n",
    ],
)
def test_a_polygon_written_as_lines(vertices: str) -> None:
    form = air(area__shape="polygon", area__vertices=vertices, area__centre__lat="", area__centre__lon="")
    form |= {"area.radius": [""], "area.unit": [""]}
    body = body_of("air_deconfliction", form)
    assert body["area"] == {
        "shape": "polygon",
        "vertices": [{"lat": "57", "lon": "20"}, {"lat": "57.5", "lon": "20.5"}, {"lat": "58", "lon": "21"}],
    }
    FORMS["air_deconfliction", 1].schema.model_validate(body)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("2026-11-24T06:00", "2026-11-24T06:00:00Z"),
        ("2026-11-24T06:00:05", "2026-11-24T06:00:05Z"),
        (" 2026-11-24T23:59:59 ", "2026-11-24T23:59:59Z"),
        ("24.11.2026 06:00", "24.11.2026 06:00"),  # not read: passed on for validation to name
    ],
)
def test_datetime_local_values_become_utc_times(typed: str, expected: str) -> None:
    body = body_of("incident_report", {"occurred_at": [typed]})
    assert body["occurred_at"] == expected


def test_integers_are_read_and_other_text_is_passed_on() -> None:
    assert body_of("air_deconfliction", air(altitude__high="+250"))["altitude"]["high"] == 250
    assert body_of("air_deconfliction", air(altitude__high=" 2x "))["altitude"]["high"] == "2x"
    assert body_of("air_deconfliction", air(altitude__high="1.5"))["altitude"]["high"] == "1.5"


def test_empty_optional_fields_and_groups_are_left_out() -> None:
    form = {"text": ["Hello"], "lang": ["en"], "translation.text": ["  "], "translation.lang": [""]}
    body = body_of("free_text", form)
    assert body == {"text": "Hello", "lang": "en"}
    form = {"code": ["PA01"], "reference": [""]}
    assert body_of("pre_agreed", form) == {"code": "PA01"}
    validated("pre_agreed", form)


def test_an_optional_group_given_in_part_is_kept_so_that_validation_names_the_rest() -> None:
    form = {"text": ["Hello"], "lang": ["en"], "translation.text": ["Привет"], "translation.lang": [""]}
    body = body_of("free_text", form)
    assert body["translation"] == {"text": "Привет"}
    assert errors_of("free_text", form) == {"translation.lang": MISSING}


def test_an_optional_area_left_as_an_empty_polygon_is_left_out() -> None:
    form = {"question": ["Why?"], "area.shape": ["polygon"], "area.vertices": [""], "observed_at": [""]}
    assert body_of("clarification_request", form) == {"question": "Why?"}


def test_an_optional_area_left_empty_in_the_browser_is_left_out() -> None:
    # The compose page ticks the "circle" radio of every area by default, so the browser always
    # sends area.shape=circle; an optional area whose circle is left empty is left out.
    (area,) = [w for w in fields_of("clarification_request") if w.name == "area"]
    page = template_environment().from_string(
        '{% from "_field.html" import field with context %}{{ field(w, {}, {}) }}'
    )
    html = page.render(_=str, w=area)
    assert 'name="area.shape" value="circle" checked' in html  # what the browser will send back
    form = {
        "question": ["Why?"],
        "observed_at": [""],
        "area.shape": ["circle"],
        "area.centre.lat": [""],
        "area.centre.lon": [""],
        "area.radius": [""],
        "area.unit": [""],
        "area.vertices": [""],
    }
    assert body_of("clarification_request", form) == {"question": "Why?"}
    validated("clarification_request", form)


def test_choices_lines_and_text_areas() -> None:
    form = {
        "window.start": ["2026-10-12T00:00"],
        "window.end": ["2026-10-26T18:00"],
        "forces": ["icbm", "", "heavy_bombers"],
        "heavy_bombers": ["12"],
        "area.shape": ["circle"],
        "area.centre.lat": ["60"],
        "area.centre.lon": ["90"],
        "area.radius": ["2000"],
        "area.unit": ["km"],
        "remarks": ["  First line\r\nsecond line\r\n"],
    }
    body = body_of("strategic_exercise", form)
    assert body["forces"] == ["icbm", "heavy_bombers"]
    assert body["remarks"] == "First line\nsecond line"
    assert "name" not in body
    validated("strategic_exercise", form)
    form = {
        "category": ["collision"],
        "occurred_at": ["2026-11-23T14:12"],
        "position.lat": ["43.25"],
        "position.lon": ["33.5"],
        "units_involved": ["  HMS Example \r\n\r\nRFS Primer\r\n"],
        "what_happened": ["A"],
        "actions_taken": ["B"],
    }
    body = body_of("incident_report", form)
    assert body["units_involved"] == ["HMS Example", "RFS Primer"]
    assert body["position"] == {"lat": "43.25", "lon": "33.5"}
    validated("incident_report", form)


def test_a_checkbox_is_true_only_when_sent() -> None:
    assert body_of("ack", {"auto": ["1"]})["auto"] is True
    assert body_of("ack", {})["auto"] is False


_TEXT_CHARACTERS = st.characters(
    # no controls, no invisible or bidirectional format characters, no line or paragraph
    # separators (forms/types.py says why); no lone surrogates, which a form cannot carry
    exclude_categories=("Cc", "Cf", "Cs", "Zl", "Zp"),
    include_characters="\n\t",
)


@settings(max_examples=200, deadline=None)
@given(st.text(_TEXT_CHARACTERS, min_size=1, max_size=20_000).filter(lambda t: t.strip()))
def test_free_text_round_trips_through_the_form(typed: str) -> None:
    sent = typed.replace("\n", "\r\n")  # a browser sends a text area's line ends as CRLF
    body = body_of("free_text", {"text": [sent], "lang": ["ru"]})
    assert body == {"text": typed.strip(), "lang": "ru"}
    parsed = FORMS["free_text", 1].schema.model_validate(body)
    assert parsed.model_dump()["text"] == typed.strip()


# -- errors ------------------------------------------------------------------------------------


def test_a_window_that_ends_before_it_starts_is_shown_beside_the_window() -> None:
    errors = errors_of("air_deconfliction", air(window__start="2026-11-24T10:00", window__end="2026-11-24T06:00"))
    assert errors == {"window": "the window ends before it starts"}


def test_a_bad_time_is_shown_beside_its_input() -> None:
    errors = errors_of("air_deconfliction", air(window__end="tomorrow"))
    assert list(errors) == ["window.end"]
    assert "tomorrow" in errors["window.end"]


def test_a_non_integer_altitude_is_shown_beside_its_input() -> None:
    errors = errors_of("air_deconfliction", air(altitude__high="2x"))
    assert list(errors) == ["altitude.high"]
    assert not errors["altitude.high"].startswith("Value error")


def test_a_latitude_out_of_range_is_shown_beside_its_input_without_the_shape() -> None:
    errors = errors_of("air_deconfliction", air(area__centre__lat="91"))
    assert list(errors) == ["area.centre.lat"]
    assert errors["area.centre.lat"].startswith("latitude 91 is outside")  # "Value error, " taken off


def test_missing_required_fields_are_the_missing_msgid() -> None:
    errors = errors_of("air_deconfliction", air(activity="", altitude__low=""))
    assert errors == {"activity": MISSING, "altitude.low": MISSING}
    assert MISSING == "Required."


def test_an_empty_contact_is_shown_beside_the_group() -> None:
    errors = errors_of("air_deconfliction", air(contact__callsign=""))
    assert errors == {"contact": "give a callsign, a frequency or both"}


@pytest.mark.parametrize(
    ("vertices", "line"),
    [
        ("57, 20\nnot a vertex\n58, 21", 2),
        ("57, 20\n91, 20\n58, 21", 2),
        ("57, 20\n57.5, 20.5\n58, 181", 3),
        ("x\n57.5, 20.5\n58, 21", 1),
    ],
)
def test_a_bad_vertex_is_shown_beside_the_vertices_with_its_line(vertices: str, line: int) -> None:
    errors = errors_of("air_deconfliction", air(area__shape="polygon", area__vertices=vertices))
    assert list(errors) == ["area.vertices"]
    assert errors["area.vertices"].startswith(f"line {line}: ")


def test_a_bad_vertex_after_a_blank_line_is_named_by_its_line_in_the_box() -> None:
    # Blank lines are dropped before the vertices are numbered; the error still names the line
    # the operator sees in the box (the third), not the entry of the list (the second).
    vertices = "57, 20\n\nnot a vertex\n58, 21"
    errors = errors_of("air_deconfliction", air(area__shape="polygon", area__vertices=vertices))
    assert errors["area.vertices"].startswith("line 3: ")


def test_too_few_vertices_are_shown_beside_the_vertices() -> None:
    errors = errors_of("air_deconfliction", air(area__shape="polygon", area__vertices="57, 20\n58, 21"))
    assert list(errors) == ["area.vertices"]
    assert "line" not in errors["area.vertices"]


def test_only_the_first_error_of_each_input_is_kept() -> None:
    errors = errors_of("incident_report", {"units_involved": ["A\n\u202eB"]})
    assert errors["units_involved"].startswith("line 2: ")
    assert errors["category"] == MISSING


@pytest.mark.parametrize("key", list(FORMS))
@pytest.mark.parametrize("shape", ["circle", "polygon"])
def test_every_error_of_an_empty_form_lands_on_an_input(key: tuple[str, int], shape: str) -> None:
    fields = widgets(FORMS[key].schema)
    form = {f"{w.name}.shape": [shape] for w in fields if w.kind == AREA and w.required}
    with pytest.raises(ValidationError) as caught:
        FORMS[key].schema.model_validate(collect(fields, form))
    errors = errors_by_field(fields, caught.value)
    assert errors
    assert set(errors) <= set(by_name(fields))  # never "body": each is shown beside an input


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_each_pre_agreed_code_is_offered_with_its_text_in_the_readers_language(lang: str) -> None:
    [code] = [w for w in fields_of("pre_agreed") if w.name == "code"]
    source = '{% from "_field.html" import field with context %}{{ field(w, {}, {}) }}'
    shown = template_environment().from_string(source).render(w=code, lang=lang, _=words(lang).gettext)
    for text in PRE_AGREED.values():
        label = escape(text.text(lang))  # as the page escapes it
        assert f'<option value="{text.code}">{text.code} — {label}</option>' in shown


def test_a_measurement_is_written_as_the_readers_language_writes_decimals() -> None:
    from hotline.console.rendering import decimal

    assert decimal(0.84, "en") == "0.8"
    assert decimal(0.84, "ru") == "0,8"
    assert decimal(12.0, "ru") == "12,0"


def test_a_page_for_someone_not_signed_in_speaks_the_browsers_first_language_it_can() -> None:
    from starlette.requests import Request

    from hotline.console.rendering import form_title, reader_language

    def asking(header: str | None) -> Request:
        headers = [] if header is None else [(b"accept-language", header.encode())]
        return Request({"type": "http", "headers": headers})

    assert reader_language(asking("ru-RU,ru;q=0.9,en-US;q=0.8"), "en") == "ru"
    assert reader_language(asking("de-DE,en;q=0.5,ru;q=0.7"), "en") == "ru", "by q-value, not by order"
    assert reader_language(asking("fr, de"), "ru") == "ru", "none it speaks: the node's"
    assert reader_language(asking("ru;q=nonsense, en"), "ru") == "en", "a malformed entry is passed over"
    assert reader_language(asking(None), "en") == "en"
    assert form_title("ack") == "Acknowledgement"
    assert form_title("no-such-form") == "no-such-form"
