"""Between pydantic and the wire: the canonical body, and errors that name the field.

The canonical body is what ``model_dump(mode="json")`` writes, optional fields left out rather
than null. A received body must already be canonical: two spellings of one notification would
sign to two different messages, and a receiver that quietly normalised would show the operator
something other than what the sender signed.
"""

from __future__ import annotations

import difflib
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from hotline.envelope.model import FieldError
from hotline.forms.types import AREA_SHAPES, Record


def canonical(body: Record) -> dict[str, Any]:
    return body.model_dump(mode="json", exclude_none=True)


def parse(schema: type[Record], data: object) -> Record:
    """``schema`` read from ``data``, or ``FieldError`` for the first bad field."""
    if not isinstance(data, dict):
        raise FieldError("body", "must be a map")
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        misspelt = _misspelling(errors)
        if misspelt is not None:
            raise misspelt from None
        error, *others = errors
        more = tuple((_field(e), _detail(e)) for e in others)
        raise FieldError(_field(error), _detail(error), more) from None


def _misspelling(errors: list[ErrorDetails]) -> FieldError | None:
    """A field that is not in the form, beside one that is missing from the same map, is most
    likely a typo: name it, and suggest the field meant, rather than report the missing one."""
    missing: dict[tuple[int | str, ...], list[str]] = {}
    for e in errors:
        if e["type"] == "missing":
            missing.setdefault(tuple(e["loc"][:-1]), []).append(str(e["loc"][-1]))
    for e in errors:
        if e["type"] == "extra_forbidden" and tuple(e["loc"][:-1]) in missing:
            wanted = missing[tuple(e["loc"][:-1])]
            close = difflib.get_close_matches(str(e["loc"][-1]), wanted, n=1, cutoff=0.5)
            hint = f"; did you mean {close[0]!r}?" if close else f"; missing: {', '.join(wanted)}"
            return FieldError(_field(e), "is not a field of this form" + hint)
    return None


def check_canonical(expected: dict[str, Any], body: dict[str, Any]) -> None:
    difference = _first_difference(expected, body, ("body",))
    if difference is not None:
        path, detail = difference
        raise FieldError(".".join(path), detail)


def _first_difference(expected: object, given: object, path: tuple[str, ...]) -> tuple[tuple[str, ...], str] | None:
    if isinstance(expected, dict) and isinstance(given, dict):
        for key, value in given.items():
            if key not in expected:
                detail = "must be left out rather than null" if value is None else "is not part of the canonical body"
                return (*path, str(key)), detail
        for key, value in expected.items():
            if key not in given:
                return (*path, key), "missing"
            found = _first_difference(value, given[key], (*path, key))
            if found:
                return found
        return None
    if isinstance(expected, list) and isinstance(given, list) and len(expected) == len(given):
        for index, (left, right) in enumerate(zip(expected, given, strict=True)):
            found = _first_difference(left, right, (*path, str(index)))
            if found:
                return found
        return None
    # type() as well as ==, because True == 1 == 1.0 in Python but not on the wire.
    if type(expected) is not type(given) or expected != given:
        return path, f"is not in canonical form; write it as {expected!r}"
    return None


def _field(error: ErrorDetails) -> str:
    location = [str(part) for part in error["loc"]]
    # A discriminated union puts the chosen shape into the location (area.circle.radius); the
    # operator wrote area.radius, so the shape is dropped unless it is the field itself.
    location = [part for index, part in enumerate(location) if part not in AREA_SHAPES or index == len(location) - 1]
    if error["type"] in {"union_tag_invalid", "union_tag_not_found"}:
        location.append(str(error.get("ctx", {}).get("discriminator", "")).strip("'"))
    return ".".join(["body", *location])


_FIXED = {
    "missing": "missing",
    "union_tag_not_found": "missing",
    "extra_forbidden": "is not a field of this form",
    "int_type": "must be an integer",
    "string_type": "must be text",
    "bool_type": "must be true or false",
    "list_type": "must be a list",
    "model_type": "must be a map",
    "model_attributes_type": "must be a map",
    "dict_type": "must be a map",
    "string_too_short": "must not be empty",
}


def _detail(error: ErrorDetails) -> str:
    kind, value, context = error["type"], error["input"], error.get("ctx", {})
    if kind in _FIXED:
        return _FIXED[kind]
    if kind == "greater_than_equal":
        return f"{value} is below the minimum {context['ge']}"
    if kind == "less_than_equal":
        return f"{value} is above the maximum {context['le']}"
    if kind == "string_too_long":
        return f"is longer than {context['max_length']} characters"
    if kind == "too_short":
        return f"has {context['actual_length']} entries; at least {context['min_length']} are needed"
    if kind == "too_long":
        return f"has more than {context['max_length']} entries"
    if kind == "literal_error":
        return f"unknown value {value!r}; expected {context['expected']}"
    if kind == "union_tag_invalid":
        return f"unknown value {context['tag']!r}; expected one of {context['expected_tags'].replace(chr(39), '')}"
    return error["msg"].removeprefix("Value error, ")
