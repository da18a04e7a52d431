"""Every form as a formal notice, in English or Russian, from the same gettext source.

Each form has a function, named after it, that writes its sentences one per line in the order a
staff officer would put them; the structured ``fields`` view is generic (label and value per field) with
a few forms adding what a reader needs beside the figures (the New START limits).

Sentences keep variable parts where their grammatical case cannot go wrong in Russian: after a
colon, in apposition, or in a phrase whose case the translator chose (``{when}``). Counts go
through ``ngettext`` because Russian agrees nouns with numbers in three forms. Texts the sender
typed are quoted as written, in the language they were written in.
"""

from __future__ import annotations

import base64
import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from hotline.crypto.rotation import RotationStatement
from hotline.envelope.model import Precedence
from hotline.errors import EncodingError
from hotline.forms import schemas as s
from hotline.forms.catalogue import form
from hotline.forms.formatting import Formatter
from hotline.forms.i18n import N_, check_language
from hotline.forms.pre_agreed import PRE_AGREED
from hotline.forms.ranks import signed_name
from hotline.forms.types import AltitudeBand, Circle, Polygon, Position, Record, TimeWindow
from hotline.forms.vocabulary import label
from hotline.forms.wire import parse
from hotline.log.witness import key_tag


@dataclass(frozen=True)
class Rendering:
    title: str
    text: str  # the notice: complete sentences, one per line
    fields: list[tuple[str, str]]  # (label, value) for a structured view


def render(kind: str, version: int, body: dict[str, Any], lang: str) -> Rendering:
    check_language(lang)
    spec = form(kind, version)
    parsed = parse(spec.schema, body)
    f = Formatter(lang)
    lines = [_one_full_stop(line) for line in _NOTICES[kind](parsed, f)]
    fields = _FIELDS.get(kind, _generic_fields)(parsed, f)
    return Rendering(f._(spec.title), "\n".join(lines), fields)


_PRECEDENCE = {
    Precedence.FLASH: N_("FLASH"),
    Precedence.IMMEDIATE: N_("IMMEDIATE"),
    Precedence.PRIORITY: N_("PRIORITY"),
    Precedence.ROUTINE: N_("ROUTINE"),
}


def precedence_name(precedence: str, lang: str) -> str:
    """``FLASH`` in English, ``МОЛНИЯ`` in Russian."""
    try:
        msgid = _PRECEDENCE[Precedence(precedence)]
    except ValueError:
        raise ValueError(f"unknown precedence {precedence!r}") from None
    return Formatter(lang)._(msgid)


def _closed(text: str) -> str:
    """The sender's text as the end of a sentence: given a full stop unless it has one."""
    text = text.rstrip()
    return text if text.endswith((".", "!", "?", "…")) else text + "."


def _one_full_stop(line: str) -> str:
    # A sentence that ends in an abbreviation (a Russian hemisphere) takes no second full stop.
    return line[:-1] if line.endswith("..") and not line.endswith("...") else line


def _remarks(remarks: str | None, f: Formatter) -> list[str]:
    return [] if remarks is None else [f._("Remarks: {remarks}").format(remarks=_closed(remarks))]


# -- notices, one per form ---------------------------------------------------------------------


def _link_test(body: s.LinkTest, f: Formatter) -> list[str]:
    return [
        f._("Link test No. {probe}, sent {when}.").format(probe=body.probe, when=f.when(body.sent)),
        f._("No action is required: the terminal acknowledges it automatically."),
    ]


def _key_tag(b64: str) -> str:
    """How a key is named to a reader: its log tag (32 hex digits of SHA-256), in groups of four."""
    raw = base64.urlsafe_b64decode(b64 + "=" * (-len(b64) % 4))
    tag = key_tag(raw)
    return " ".join(tag[i : i + 4] for i in range(0, len(tag), 4))


def _key_rotation(body: s.KeyRotation, f: Formatter) -> list[str]:
    try:
        statement = RotationStatement.decode(
            base64.urlsafe_b64decode(body.statement + "=" * (-len(body.statement) % 4))
        )
        new = _key_tag(base64.urlsafe_b64encode(statement.new_key).decode())
    except (EncodingError, ValueError):
        return [f._("The sending party announces new keys, but the statement cannot be read.")]
    return [
        f._("The sending party has changed its keys. Its new signing key is {key}.").format(key=new),
        f._("Its log keeps its name; messages signed before and after the change both stay verifiable."),
    ]


def _key_rotation_done(body: s.KeyRotationDone, f: Formatter) -> list[str]:
    return [
        f._("The sending party has retired its previous signing key {key} at log size {size}:"
            " only its new key is valid from now on.").format(key=_key_tag(body.retired), size=f.number(body.log_size))
    ]  # fmt: skip


def _ack(body: s.Ack, f: Formatter) -> list[str]:
    if body.auto:
        line = f._("Receipt of the message is acknowledged automatically {when} (terminal: {by}).")
    else:
        line = f._("Receipt of the message is acknowledged {when} by {by}.")
    remark = [] if body.remark is None else [f._("Remark: {remark}").format(remark=_closed(body.remark))]
    by = signed_name(body.by, body.rank if isinstance(body, s.RankedAck) else None, f.lang)
    return [line.format(when=f.when(body.at), by=by), *remark]


def _readiness_check(body: s.ReadinessCheck, f: Formatter) -> list[str]:
    lines = [f._("Readiness check at the watch change {when}.").format(when=f.when(body.watch_change))]
    if body.watch is not None:
        lines.append(f._("Watch on duty: {watch}.").format(watch=body.watch))
    if body.duty_officer is not None:
        lines.append(f._("Duty officer: {officer}.").format(officer=body.duty_officer))
    lines.append(f._("The duty officer of the receiving side is requested to acknowledge this message in person."))
    return lines


def _missile_launch(body: s.MissileLaunch, f: Formatter) -> list[str]:
    if body.missile_class is s.MissileClass.ICBM:
        opening = f._("Notice is given of the planned launch of an intercontinental ballistic missile (ICBM).")
    else:
        opening = f._("Notice is given of the planned launch of a submarine-launched ballistic missile (SLBM).")
    return [
        opening,
        f._("Planned launch window: {window}.").format(window=f.window(body.launch_window)),
        f._("Launch area: {area}.").format(area=f.area(body.launch_area)),
        f._("Impact area: {area}.").format(area=f.area(body.impact_area)),
        *_remarks(body.remarks, f),
    ]


def _strategic_exercise(body: s.StrategicExercise, f: Formatter) -> list[str]:
    if body.name is None:
        opening = f._("Notice is given of a major strategic exercise.")
    else:
        opening = f._("Notice is given of the major strategic exercise “{name}”.").format(name=body.name)
    if body.heavy_bombers:
        bombers = f.ngettext(
            "{count} heavy bomber will take part.", "{count} heavy bombers will take part.", body.heavy_bombers
        ).format(count=f.number(body.heavy_bombers))
    else:
        bombers = f._("No heavy bombers will take part.")
    return [
        opening,
        f._("Period: {window}.").format(window=f.window(body.window)),
        f._("Forces taking part: {forces}.").format(forces=", ".join(label(force, f) for force in body.forces)),
        bombers,
        f._("Exercise area: {area}.").format(area=f.area(body.area)),
        *_remarks(body.remarks, f),
    ]


def _air_deconfliction(body: s.AirDeconfliction, f: Formatter) -> list[str]:
    return [
        f._("For flight safety, notice is given of the following air activity: {activity}.").format(
            activity=label(body.activity, f)
        ),
        f._("Area: {area}.").format(area=f.area(body.area)),
        f._("Period: {window}.").format(window=f.window(body.window)),
        f._("Altitudes: {altitude}.").format(altitude=f.altitude(body.altitude)),
        f._("Contact: {contact}.").format(contact=_contact(body.contact, f)),
        *_remarks(body.remarks, f),
    ]


def _contact(contact: s.Contact, f: Formatter) -> str:
    parts = [] if contact.callsign is None else [f._("callsign {callsign}").format(callsign=contact.callsign)]
    if contact.frequency_mhz is not None:
        parts.append(f.megahertz(contact.frequency_mhz))
    return ", ".join(parts)


def _incident_report(body: s.IncidentReport, f: Formatter) -> list[str]:
    return [
        f._("We report the following incident: {category}.").format(category=label(body.category, f)),
        f._("Time: {moment}.").format(moment=f.moment(body.occurred_at)),
        f._("Position: {position}.").format(position=f.position(body.position)),
        f._("Units involved: {units}.").format(units="; ".join(body.units_involved)),
        f._("What happened: {text}").format(text=_closed(body.what_happened)),
        f._("Actions taken: {text}").format(text=_closed(body.actions_taken)),
    ]


def _clarification_request(body: s.ClarificationRequest, f: Formatter) -> list[str]:
    lines = [
        f._("We request clarification of the following observed activity."),
        f._("Question: {question}").format(question=_closed(body.question)),
    ]
    if body.observed_at is not None:
        lines.append(f._("Observed: {moment}.").format(moment=f.moment(body.observed_at)))
    if body.area is not None:
        lines.append(f._("Area: {area}.").format(area=f.area(body.area)))
    return lines


def _clarification(body: s.Clarification, f: Formatter) -> list[str]:
    return [f._("In reply to your request for clarification: {answer}").format(answer=_closed(body.answer))]


# The limits of the New START Treaty (Article II), which expired on 5 February 2026.
_NEW_START_DEPLOYED_WARHEADS = 1550
_NEW_START_DEPLOYED_LAUNCHERS = 700
_NEW_START_ALL_LAUNCHERS = 800


def _against_limit(value: int, limit: int, f: Formatter) -> str:
    if value > limit:
        template = f._("{value} (New START limit: {limit}; exceeded by {excess})")
    else:
        template = f._("{value} (New START limit: {limit})")
    return template.format(value=f.number(value), limit=f.number(limit), excess=f.number(value - limit))


def _arsenal_figures(body: s.ArsenalDeclaration, f: Formatter) -> list[tuple[str, str]]:
    return [
        (f._("Deployed ICBMs"), f.number(body.deployed_icbms)),
        (f._("Deployed SLBMs"), f.number(body.deployed_slbms)),
        (f._("Deployed heavy bombers"), f.number(body.deployed_heavy_bombers)),
        (
            f._("Deployed ICBMs, SLBMs and heavy bombers in total"),
            _against_limit(body.deployed_launchers, _NEW_START_DEPLOYED_LAUNCHERS, f),
        ),
        (f._("Deployed warheads"), _against_limit(body.deployed_warheads, _NEW_START_DEPLOYED_WARHEADS, f)),
        (
            f._("Deployed and non-deployed launchers"),
            _against_limit(body.deployed_and_non_deployed_launchers, _NEW_START_ALL_LAUNCHERS, f),
        ),
    ]


def _arsenal_declaration(body: s.ArsenalDeclaration, f: Formatter) -> list[str]:
    return [
        f._("We declare, on a voluntary basis, the following data on strategic offensive arms as of {date}.").format(
            date=f.date(body.as_of)
        ),
        *(f"{label}: {value}." for label, value in _arsenal_figures(body, f)),
        f._("The New START Treaty expired on 5 February 2026; its limits are shown for reference only."),
    ]


def _arsenal_fields(body: s.ArsenalDeclaration, f: Formatter) -> list[tuple[str, str]]:
    return [(f._("As of"), f.date(body.as_of)), *_arsenal_figures(body, f)]


_MEETING_OPENINGS = {
    s.MeetingFormat.VIDEO: N_("We propose a video conference {when}."),
    s.MeetingFormat.TELEPHONE: N_("We propose a telephone conversation {when}."),
    s.MeetingFormat.IN_PERSON: N_("We propose a meeting in person {when}."),
}


def _meeting_request(body: s.MeetingRequest, f: Formatter) -> list[str]:
    lines = [f._(_MEETING_OPENINGS[body.format]).format(when=f.when(body.proposed_time))]
    if body.place is not None:
        lines.append(f._("Place: {place}").format(place=_closed(body.place)))
    return [
        *lines,
        f._("Agenda: {agenda}").format(agenda=_closed(body.agenda)),
        f._("Please confirm or propose another time."),
    ]


def _pre_agreed(body: s.PreAgreed, f: Formatter) -> list[str]:
    text = PRE_AGREED[body.code].text(f.lang)
    lines = [f._("Pre-agreed message {code}: {text}").format(code=body.code, text=text)]
    if body.reference is not None:
        lines.append(f._("This refers to message {reference}.").format(reference=body.reference))
    return lines


def _pre_agreed_fields(body: s.PreAgreed, f: Formatter) -> list[tuple[str, str]]:
    fields = [(f._("Code"), body.code), (f._("Text"), PRE_AGREED[body.code].text(f.lang))]
    return fields if body.reference is None else [*fields, (f._("Reference"), body.reference)]


def _free_text(body: s.FreeText, f: Formatter) -> list[str]:
    lines = [f._("Text (language: {language}):").format(language=f.language(body.lang)), body.text]
    if body.translation is not None:
        language = f.language(body.translation.lang)
        lines += [
            f._("Unofficial translation (language: {language}):").format(language=language),
            body.translation.text,
        ]
    return lines


def _free_text_fields(body: s.FreeText, f: Formatter) -> list[tuple[str, str]]:
    fields = [(f._("Text"), body.text), (f._("Language"), f.language(body.lang))]
    if body.translation is not None:
        language = f.language(body.translation.lang)
        fields.append((f._("Unofficial translation"), f"{body.translation.text} ({language})"))
    return fields


_NOTICES: dict[str, Callable[[Any, Formatter], list[str]]] = {
    "link_test": _link_test,
    "key_rotation": _key_rotation,
    "key_rotation_done": _key_rotation_done,
    "ack": _ack,
    "readiness_check": _readiness_check,
    "missile_launch": _missile_launch,
    "strategic_exercise": _strategic_exercise,
    "air_deconfliction": _air_deconfliction,
    "incident_report": _incident_report,
    "clarification_request": _clarification_request,
    "clarification": _clarification,
    "arsenal_declaration": _arsenal_declaration,
    "meeting_request": _meeting_request,
    "pre_agreed": _pre_agreed,
    "free_text": _free_text,
}


# -- the structured view -----------------------------------------------------------------------


def _generic_fields(body: Record, f: Formatter) -> list[tuple[str, str]]:
    fields = []
    for name, info in type(body).model_fields.items():
        value = getattr(body, name)
        if value is not None:
            fields.append((f._(info.title or name), _value(value, f)))
    return fields


def _value(value: object, f: Formatter) -> str:
    match value:
        case bool():
            return f._("yes") if value else f._("no")
        case enum.StrEnum():
            return label(value, f)
        case int():
            return f.number(value)
        case str():
            return value
        case datetime():
            return f.moment(value)
        case date():
            return f.date(value)
        case TimeWindow():
            return f.window(value)
        case Polygon() | Circle():
            return f.area(value)
        case Position():
            return f.position(value)
        case AltitudeBand():
            return f.altitude(value)
        case s.Contact():
            return _contact(value, f)
        case list():
            return "; ".join(_value(item, f) for item in value)
    raise TypeError(f"no rendering for {type(value).__name__}")


def _link_test_fields(body: s.LinkTest, f: Formatter) -> list[tuple[str, str]]:
    return [(f._("Test number"), str(body.probe)), (f._("Sent"), f.moment(body.sent))]  # a serial: no grouping


def _key_rotation_fields(body: s.KeyRotation, f: Formatter) -> list[tuple[str, str]]:
    return [(f._("Rotation statement"), f._("{count} bytes").format(count=len(body.statement) * 3 // 4))]


def _key_rotation_done_fields(body: s.KeyRotationDone, f: Formatter) -> list[tuple[str, str]]:
    return [(f._("Retired signing key"), _key_tag(body.retired)), (f._("Log size"), f.number(body.log_size))]


_FIELDS: dict[str, Callable[[Any, Formatter], list[tuple[str, str]]]] = {
    "link_test": _link_test_fields,
    "key_rotation": _key_rotation_fields,
    "key_rotation_done": _key_rotation_done_fields,
    "arsenal_declaration": _arsenal_fields,
    "pre_agreed": _pre_agreed_fields,
    "free_text": _free_text_fields,
}
