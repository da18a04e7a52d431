"""A form's fields as inputs on a web page, and what an operator typed back into a form body.

Pure. The form schemas (``hotline.forms.schemas``) are the single source: each field becomes an
input chosen by its type (a UTC time, a decimal coordinate, an area, a list of choices), named
by its dotted path in the body (``area.centre.lat``), so that every validation error, which
pydantic reports by that path, can be shown beside the input it concerns.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
import types
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import ValidationError
from pydantic.fields import FieldInfo

from hotline.console.coordinates import to_decimal_degrees
from hotline.forms.i18n import N_
from hotline.forms.pre_agreed import PRE_AGREED
from hotline.forms.types import AREA_SHAPES, Circle, Polygon, Record
from hotline.forms.vocabulary import LABELS

# Inputs, by what the operator writes in them.
TEXT, TEXTAREA, LINES, CHOICE, CHOICES, INTEGER, DECIMAL, TIME, DATE, CHECKBOX, GROUP, AREA = (
    "text",
    "textarea",
    "lines",
    "choice",
    "choices",
    "integer",
    "decimal",
    "time",
    "date",
    "checkbox",
    "group",
    "area",
)
LONG_TEXT = 200  # longer texts than a line get a text area

# The parts of the records the forms share have no titles of their own; these are their labels
# (msgids of the console's catalogue).
PART_LABELS = {
    "start": N_("Start"),
    "end": N_("End"),
    "lat": N_("Latitude: 54.71, or degrees and minutes 54 42.6 N"),
    "lon": N_("Longitude: 20.51, or degrees and minutes 20 30.6 E"),
    "unit": N_("Unit"),
    "low": N_("Lower limit"),
    "high": N_("Upper limit"),
    "callsign": N_("Callsign"),
    "frequency_mhz": N_("Frequency, MHz"),
    "radius": N_("Radius"),
    "text": N_("Text"),
    "lang": N_("Language"),
    "centre": N_("Centre"),
    "vertices": N_("Vertices: one 'latitude, longitude' per line (or 'latitude; longitude')"),
    "shape": N_("Shape"),
}
SHAPE_LABELS = {"circle": N_("circle"), "polygon": N_("polygon")}
LANGUAGE_CHOICES = (("en", N_("English")), ("ru", N_("Russian")))


@dataclass(frozen=True)
class Widget:
    name: str  # the dotted path in the body
    kind: str
    label: str  # a msgid: of the forms' catalogue for a form's own fields, of the console's otherwise
    required: bool
    choices: tuple[tuple[str, str], ...] = ()  # (value, label msgid)
    children: tuple[Widget, ...] = ()
    own_label: bool = False  # the label is the console's, not the forms' catalogue's

    @property
    def dom_id(self) -> str:
        return "f-" + self.name.replace(".", "-")


def widgets(schema: type[Record], prefix: str = "") -> list[Widget]:
    result = []
    for name, info in schema.model_fields.items():
        annotation = info.annotation
        if get_origin(annotation) is Literal:
            continue  # a discriminator (an area's shape): chosen by the area input
        path = f"{prefix}{name}"
        label, own = (info.title, False) if info.title else (PART_LABELS.get(name, name), True)
        result.append(_widget(path, annotation, list(info.metadata), label, info.is_required(), own, info))
    return result


def _widget(
    path: str, annotation: Any, metadata: list[Any], label: str, required: bool, own: bool, info: FieldInfo | None
) -> Widget:
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        return _widget(path, args[0], [*metadata, *annotation.__metadata__], label, required, own, info)
    if origin in {Union, types.UnionType}:
        present = [a for a in args if a is not type(None)]
        if set(present) == {Polygon, Circle}:
            return _area(path, label, required, own)
        if len(present) == 1:
            return _widget(path, present[0], metadata, label, required, own, info)
        if {get_origin(a) for a in present} == {Annotated}:  # an Area, optional: Annotated[Polygon | Circle]
            return _widget(path, present[0], metadata, label, required, own, info)
    if origin is list:
        item = args[0]
        inner = get_args(item)[0] if get_origin(item) is Annotated else item
        if isinstance(inner, type) and issubclass(inner, enum.StrEnum):
            return Widget(path, CHOICES, label, required, _choices(inner), own_label=own)
        return Widget(path, LINES, label, required, own_label=own)
    if isinstance(annotation, type):
        if issubclass(annotation, Record):
            return Widget(path, GROUP, label, required, children=tuple(widgets(annotation, path + ".")), own_label=own)
        if issubclass(annotation, enum.StrEnum):
            return Widget(path, CHOICE, label, required, _choices(annotation), own_label=own)
        if issubclass(annotation, dt.datetime):
            return Widget(path, TIME, label, required, own_label=own)
        if issubclass(annotation, dt.date):
            return Widget(path, DATE, label, required, own_label=own)
        if annotation is bool:
            return Widget(path, CHECKBOX, label, required, own_label=own)
        if annotation is int:
            return Widget(path, INTEGER, label, required, own_label=own)
        if issubclass(annotation, Decimal):
            return Widget(path, DECIMAL, label, required, own_label=own)
    if path == "lang" or path.endswith(".lang"):
        return Widget(path, CHOICE, label, required, LANGUAGE_CHOICES, own_label=True)
    if path == "code" and info is not None and info.title == "Code":  # a pre-agreed message: one of the catalogue's
        return Widget(path, CHOICE, label, required, tuple((code, code) for code in PRE_AGREED), own_label=own)
    # StringConstraints and Field(max_length=...) both say how long a text may be.
    longest = max((getattr(m, "max_length", None) or 0 for m in metadata), default=0)
    return Widget(path, TEXTAREA if longest > LONG_TEXT else TEXT, label, required, own_label=own)


def _choices(choices: type[enum.StrEnum]) -> tuple[tuple[str, str], ...]:
    labels = LABELS.get(choices, {})
    return tuple((member.value, labels.get(member.value, member.value)) for member in choices)


def _area(path: str, label: str, required: bool, own: bool) -> Widget:
    circle = (
        Widget(f"{path}.centre.lat", DECIMAL, PART_LABELS["lat"], True, own_label=True),
        Widget(f"{path}.centre.lon", DECIMAL, PART_LABELS["lon"], True, own_label=True),
        Widget(f"{path}.radius", INTEGER, PART_LABELS["radius"], True, own_label=True),
        Widget(f"{path}.unit", CHOICE, PART_LABELS["unit"], True, (("km", N_("km")), ("nm", N_("NM"))), own_label=True),
    )
    polygon = (Widget(f"{path}.vertices", LINES, PART_LABELS["vertices"], True, own_label=True),)
    return Widget(path, AREA, label, required, tuple((s, SHAPE_LABELS[s]) for s in AREA_SHAPES), circle + polygon, own)


# -- what the operator typed, as a body --------------------------------------------------------

Submitted = Mapping[str, Sequence[str]]  # a form's fields, each with every value it was sent
_TIME_INPUT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2})?")
_VERTEX = re.compile(r"\s*([+-]?[0-9.]+)\s*[,;\s]\s*([+-]?[0-9.]+)\s*")


def first(form: Submitted, name: str) -> str:
    values = form.get(name) or [""]
    return values[0].strip()


def collect(fields: Sequence[Widget], form: Submitted) -> dict[str, Any]:
    """The body the form describes. Nothing is judged here: a value that cannot be read is
    passed on as typed, so that validation names it with the field it came from."""
    body: dict[str, Any] = {}
    for widget in fields:
        value = _value(widget, form)
        if value is not None:
            body[widget.name.rsplit(".", 1)[-1]] = value
    return body


def _value(widget: Widget, form: Submitted) -> Any:
    text = first(form, widget.name)
    if widget.kind == GROUP:
        part = collect(widget.children, form)
        return part if part or widget.required else None
    if widget.kind == AREA:
        return _area_value(widget, form)
    if widget.kind == CHECKBOX:
        return bool(text)
    if widget.kind == CHOICES:
        return [v for v in form.get(widget.name, []) if v] or None
    if widget.kind == LINES:
        lines = [line.strip() for line in (form.get(widget.name) or [""])[0].splitlines()]
        return [line for line in lines if line] or None
    if not text:
        return None
    if widget.kind == INTEGER:
        return int(text) if re.fullmatch(r"[+-]?[0-9]{1,12}", text) else text
    if widget.kind == TIME and _TIME_INPUT.fullmatch(text):
        return text + (":00Z" if len(text) == 16 else "Z")  # the input's wall clock is UTC, as labelled
    if widget.kind == TEXTAREA:
        return (form.get(widget.name) or [""])[0].replace("\r\n", "\n").strip()
    axis = widget.name.rsplit(".", 1)[-1]
    if widget.kind == DECIMAL and axis in ("lat", "lon"):
        return to_decimal_degrees(text, axis)  # also degrees and minutes, a decimal comma, N/S/E/W
    return text


def _area_value(widget: Widget, form: Submitted) -> dict[str, Any] | None:
    shape = first(form, widget.name + ".shape")
    if shape == "polygon":
        lines = [line for line in first(form, widget.name + ".vertices").splitlines() if line.strip()]
        vertices: list[Any] = []
        for line in lines:
            # "54.71, 20.51", or with ";" between them when the numbers have decimal commas or
            # are in degrees and minutes ("54 42,6 N; 20 30,6 E").
            parts = line.split(";") if ";" in line else None
            match = None if parts else _VERTEX.fullmatch(line)
            if parts and len(parts) == 2:
                lat, lon = to_decimal_degrees(parts[0], "lat"), to_decimal_degrees(parts[1], "lon")
                vertices.append({"lat": lat, "lon": lon})
            else:
                vertices.append({"lat": match.group(1), "lon": match.group(2)} if match else line.strip())
        return {"shape": "polygon", "vertices": vertices} if vertices or widget.required else None
    circle = {w.name.removeprefix(widget.name + "."): _value(w, form) for w in widget.children[:4]}
    if not any(circle.values()) and not widget.required:
        return None  # an optional area left empty: the page ticks "circle" by default
    lat, lon = circle.pop("centre.lat"), circle.pop("centre.lon")
    centre = {k: v for k, v in (("lat", lat), ("lon", lon)) if v is not None}
    return {"shape": "circle", "centre": centre} | {k: v for k, v in circle.items() if v is not None}


# -- errors, beside the inputs -----------------------------------------------------------------

Errors = dict[str, str]  # input name -> what is wrong with it (English detail or a msgid)
MISSING = N_("Required.")


def errors_by_field(fields: Sequence[Widget], exc: ValidationError, form: Submitted | None = None) -> Errors:
    """Each error of ``exc`` under the name of the input it concerns: the first for each. With
    the submitted ``form``, an entry of a list typed one per line is named by its line."""
    names = set(_names(fields))
    found: Errors = {}
    for error in exc.errors(include_url=False):
        loc = [str(part) for part in error["loc"] if str(part) not in AREA_SHAPES]
        name = next((".".join(loc[:n]) for n in range(len(loc), 0, -1) if ".".join(loc[:n]) in names), "")
        message = MISSING if error["type"] == "missing" else _detail(error["msg"], loc, name, form or {})
        found.setdefault(name or "body", message)
    return found


def _detail(message: str, loc: list[str], name: str, form: Submitted) -> str:
    message = message.removeprefix("Value error, ")
    rest = loc[len(name.split(".")) :] if name else loc
    if rest and rest[0].isdigit():  # an entry of a list typed as lines: say which line of the box
        typed = (form.get(name) or [""])[0].splitlines()
        lines = [number for number, line in enumerate(typed, 1) if line.strip()]
        entry = int(rest[0])
        return f"line {lines[entry] if entry < len(lines) else entry + 1}: {message}"
    return message


def _names(fields: Sequence[Widget]) -> list[str]:
    names = []
    for widget in fields:
        names.append(widget.name)
        names.extend(_names(widget.children))
    return names
