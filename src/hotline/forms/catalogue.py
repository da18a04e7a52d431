"""The form catalogue, and the functions that check a body against it.

A body is checked twice: by the sender before it signs (``prepare_body``, which also turns
friendly JSON into the canonical wire body), and by the receiver before it receipts
(``validate_body``, which accepts only the canonical body). A failure names the field, so the
signed rejection tells the sender exactly what to fix.
"""

from __future__ import annotations

import types
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Union, get_args, get_origin

from hotline.envelope.model import FieldError
from hotline.forms import schemas
from hotline.forms.i18n import N_, translations
from hotline.forms.schemas import FormBody
from hotline.forms.types import Record, TypeDoc
from hotline.forms.wire import canonical, check_canonical, parse


@dataclass(frozen=True)
class FormSpec:
    kind: str
    version: int
    schema: type[FormBody]
    title: str  # msgid; translate with translations(lang).gettext
    composable: bool = True  # offered to operators; false for what only the terminal sends
    needs_reply_to: bool = False  # the envelope must name the message this one answers
    answers: str | None = None  # the kind of message it must answer, received from the same peer


def _spec(
    kind: str, schema: type[FormBody], title: str, version: int = 1, **options: Any
) -> tuple[tuple[str, int], FormSpec]:
    return (kind, version), FormSpec(kind, version, schema, title, **options)


FORMS: dict[tuple[str, int], FormSpec] = dict(
    [
        _spec("link_test", schemas.LinkTest, N_("Link test"), composable=False),
        _spec("key_rotation", schemas.KeyRotation, N_("Key rotation"), composable=False),
        _spec("key_rotation_done", schemas.KeyRotationDone, N_("Previous key retired"), composable=False),
        _spec("readiness_check", schemas.ReadinessCheck, N_("Readiness check")),
        _spec("missile_launch", schemas.MissileLaunch, N_("Notification of a ballistic missile launch")),
        _spec("strategic_exercise", schemas.StrategicExercise, N_("Notification of a major strategic exercise")),
        _spec("air_deconfliction", schemas.AirDeconfliction, N_("Air activity notification for flight safety")),
        _spec("incident_report", schemas.IncidentReport, N_("Incident report")),
        _spec("clarification_request", schemas.ClarificationRequest, N_("Request for clarification")),
        _spec(
            "clarification",
            schemas.Clarification,
            N_("Clarification"),
            needs_reply_to=True,
            answers="clarification_request",
        ),
        _spec("arsenal_declaration", schemas.ArsenalDeclaration, N_("Strategic offensive arms data")),
        _spec("meeting_request", schemas.MeetingRequest, N_("Proposal for a meeting")),
        _spec("pre_agreed", schemas.PreAgreed, N_("Pre-agreed message")),
        _spec("free_text", schemas.FreeText, N_("Free text")),
        _spec("ack", schemas.Ack, N_("Acknowledgement"), composable=False, needs_reply_to=True),
        # Version 2: with the rank of whoever acknowledged; sent only when there is one, so that
        # an acknowledgement without a rank still reads at a peer that knows only version 1.
        _spec("ack", schemas.RankedAck, N_("Acknowledgement"), 2, composable=False, needs_reply_to=True),
    ]
)


def form(kind: str, version: int) -> FormSpec:
    spec = FORMS.get((kind, version))
    if spec is None:
        if any(k == kind for k, _ in FORMS):  # a known form, in a version this node does not speak
            raise FieldError("kind", f"unknown form {kind!r} version {version}")
        known = ", ".join(sorted({k for k, _ in FORMS}))
        raise FieldError("kind", f"unknown form {kind!r} version {version}; the forms are: {known}")
    return spec


def prepare_body(kind: str, version: int, data: dict[str, Any]) -> dict[str, Any]:
    """The canonical wire body for what a sender wrote, or ``FieldError`` for the first bad field."""
    return canonical(parse(form(kind, version).schema, data))


def validate_body(kind: str, version: int, body: dict[str, Any], *, reply_to: bytes | None = None) -> FormBody:
    """The parsed body of a received (or about to be signed) envelope, or ``FieldError``.

    Strict: the body must be exactly what ``prepare_body`` would have made of it.
    """
    spec = form(kind, version)
    if spec.needs_reply_to and reply_to is None:
        raise FieldError("re", f"a {kind} must name the message it answers")
    parsed = parse(spec.schema, body)
    check_canonical(canonical(parsed), body)
    assert isinstance(parsed, FormBody)
    return parsed


# -- documentation for ``hotline forms`` ---------------------------------------------------------


@dataclass(frozen=True)
class FieldDoc:
    name: str
    type: str  # in English: it describes the JSON an operator or a program writes
    required: bool
    description: str  # the field's label, in the requested language


def describe(spec: FormSpec, lang: str = "en") -> list[FieldDoc]:
    gettext = translations(lang).gettext
    return [
        FieldDoc(name, _type_text(info.annotation, info.metadata), info.is_required(), gettext(info.title or name))
        for name, info in spec.schema.model_fields.items()
    ]


def _type_text(annotation: Any, metadata: Sequence[Any]) -> str:
    docs = [item.text for item in metadata if isinstance(item, TypeDoc)]
    if docs:
        return docs[-1]
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        return _type_text(args[0], annotation.__metadata__)
    if origin in {Union, types.UnionType}:
        present = [arg for arg in args if arg is not type(None)]
        return _type_text(present[0], metadata) if len(present) == 1 else " or ".join(map(str, present))
    if origin is list:
        return "list of " + _type_text(args[0], ()) + _bounds(metadata, "entries")
    if isinstance(annotation, type) and issubclass(annotation, Record):
        return annotation.type_doc
    if annotation is bool:
        return "true or false"
    if annotation is int:
        return "integer" + _bounds(metadata, "")
    return "text"


def _bounds(metadata: Sequence[Any], unit: str) -> str:
    # pydantic keeps Field(ge=..., max_length=...) as annotated-types constraints; read them by name.
    low = next((getattr(item, name) for item in metadata for name in ("ge", "min_length") if hasattr(item, name)), None)
    high = next(
        (getattr(item, name) for item in metadata for name in ("le", "max_length") if hasattr(item, name)), None
    )
    if low is None and high is None:
        return ""
    return f" {'' if low is None else low}..{'' if high is None else high}" + (f" {unit}" if unit else "")
