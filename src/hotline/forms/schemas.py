"""The forms themselves, version 1: what each notification carries, field by field.

The fields follow the agreements the forms come from: the 1988 agreement on notifications of
ICBM and SLBM launches (planned date and window, launch area, impact area), the 1989 agreement
on notification of major strategic exercises (start, end, forces, heavy bombers), the 1989
agreement on dangerous military activities (the incident categories), and the New START data
categories for the voluntary declaration. Field titles are msgids: they label the rendering.
"""

from __future__ import annotations

import enum
from typing import Annotated

from pydantic import Field, StringConstraints, ValidationInfo, field_validator, model_validator

from hotline.forms.i18n import N_
from hotline.forms.pre_agreed import PRE_AGREED
from hotline.forms.ranks import Rank
from hotline.forms.types import (
    AltitudeBand,
    Area,
    CalendarDate,
    Count,
    LanguageTag,
    Line,
    LongText,
    Megahertz,
    Name,
    Narrative,
    Paragraph,
    Position,
    Record,
    SerialReference,
    TimeWindow,
    TypeDoc,
    UtcTime,
    choice_doc,
    member_of,
)


class FormBody(Record):
    """The body of one form; every form is one of these."""


# -- machine traffic ---------------------------------------------------------------------------


class LinkTest(FormBody):
    """Sent by the terminal every hour each way and answered by the other terminal."""

    probe: int = Field(ge=0, le=2**53, title=N_("Test number"))
    sent: UtcTime = Field(title=N_("Sent"))


Base64Url = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]+$", min_length=1, max_length=8192)]


class KeyRotation(FormBody):
    """Sent by the terminal when its party changes keys (``crypto/rotation.py``): the rotation
    statement, signed by the new key; the envelope carrying it is signed by the old one."""

    statement: Base64Url = Field(title=N_("Rotation statement"))
    signature: Base64Url = Field(title=N_("Signature of the new key"))


class KeyRotationDone(FormBody):
    """Sent by the terminal once every peer follows its new key: the old one is retired."""

    retired: Base64Url = Field(title=N_("Retired signing key"))
    log_size: int = Field(ge=0, le=2**53, title=N_("Log size"))


class Ack(FormBody):
    """An acknowledgement; the acknowledged message's id travels in the envelope's reply-to."""

    by: Name = Field(title=N_("Acknowledged by"))
    at: UtcTime = Field(title=N_("Acknowledged at"))
    auto: bool = Field(title=N_("Automatic"))  # true: answered by the terminal, e.g. a link test
    remark: Paragraph | None = Field(None, title=N_("Remark"))


class RankedAck(Ack):
    """An acknowledgement by a person with a rank (version 2 of ``ack``): the rank is a code
    (``ranks.Rank``), which each side reads in its own language."""

    # A code, not one of a closed list: a rank a later release adds must still be received
    # (it reads as its code); who acknowledges chooses from ``Rank`` (``AccountBook``).
    rank: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,40}$"), TypeDoc(
        "a rank code: " + ", ".join(r.value for r in Rank))] = Field(title=N_("Rank"))  # fmt: skip


class ReadinessCheck(FormBody):
    """Sent at each watch change; a person on the other side must acknowledge it."""

    # The terminal sends it by itself at the watch change, when it may not know who took over.
    watch_change: UtcTime = Field(title=N_("Watch change"))
    watch: Name | None = Field(None, title=N_("Watch"))
    duty_officer: Name | None = Field(None, title=N_("Duty officer"))


# -- notifications under the agreements --------------------------------------------------------


class MissileClass(enum.StrEnum):
    ICBM = "icbm"
    SLBM = "slbm"


class MissileLaunch(FormBody):
    missile_class: Annotated[MissileClass, member_of(MissileClass), choice_doc(MissileClass)] = Field(
        title=N_("Missile class")
    )
    launch_window: TimeWindow = Field(title=N_("Planned launch window"))
    launch_area: Area = Field(title=N_("Launch area"))
    impact_area: Area = Field(title=N_("Impact area"))
    remarks: Paragraph | None = Field(None, title=N_("Remarks"))


class ForceComponent(enum.StrEnum):
    ICBM = "icbm"
    SLBM = "slbm"
    HEAVY_BOMBERS = "heavy_bombers"
    TANKER_AIRCRAFT = "tanker_aircraft"
    MISSILE_WARNING = "missile_warning"
    AIR_AND_MISSILE_DEFENCE = "air_and_missile_defence"
    COMMAND_AND_CONTROL = "command_and_control"
    GENERAL_PURPOSE_FORCES = "general_purpose_forces"


class StrategicExercise(FormBody):
    name: Name | None = Field(None, title=N_("Exercise name"))
    window: TimeWindow = Field(title=N_("Period"))
    forces: list[Annotated[ForceComponent, member_of(ForceComponent), choice_doc(ForceComponent)]] = Field(
        min_length=1, max_length=len(ForceComponent), title=N_("Forces taking part")
    )
    heavy_bombers: Count = Field(title=N_("Heavy bombers taking part"))
    area: Area = Field(title=N_("Exercise area"))
    remarks: Paragraph | None = Field(None, title=N_("Remarks"))

    @field_validator("forces")
    @classmethod
    def _each_force_once(cls, forces: list[ForceComponent]) -> list[ForceComponent]:
        if len(set(forces)) != len(forces):
            raise ValueError("names a force more than once")
        return forces

    @field_validator("heavy_bombers")
    @classmethod
    def _bombers_listed(cls, count: int, info: ValidationInfo) -> int:
        listed = ForceComponent.HEAVY_BOMBERS in info.data.get("forces", [ForceComponent.HEAVY_BOMBERS])
        if count and not listed:
            raise ValueError("heavy bombers are counted but heavy_bombers is not among the forces")
        return count


class AirActivity(enum.StrEnum):
    AIR_EXERCISE = "air_exercise"
    AIR_REFUELLING = "air_refuelling"
    LIVE_FIRING = "live_firing"
    MISSILE_FIRING = "missile_firing"
    UAV_OPERATIONS = "uav_operations"
    RECONNAISSANCE_FLIGHTS = "reconnaissance_flights"
    AIRBORNE_EARLY_WARNING = "airborne_early_warning"
    TRANSPORT_FLIGHTS = "transport_flights"
    SEARCH_AND_RESCUE = "search_and_rescue"


class Contact(Record):
    type_doc = "contact {callsign, frequency_mhz}, at least one"

    callsign: Name | None = None
    frequency_mhz: Megahertz | None = None

    @model_validator(mode="after")
    def _reachable(self) -> Contact:
        if self.callsign is None and self.frequency_mhz is None:
            raise ValueError("give a callsign, a frequency or both")
        return self


class AirDeconfliction(FormBody):
    activity: Annotated[AirActivity, member_of(AirActivity), choice_doc(AirActivity)] = Field(
        title=N_("Nature of activity")
    )
    area: Area = Field(title=N_("Area"))
    window: TimeWindow = Field(title=N_("Period"))
    altitude: AltitudeBand = Field(title=N_("Altitudes"))
    contact: Contact = Field(title=N_("Contact"))
    remarks: Paragraph | None = Field(None, title=N_("Remarks"))


class IncidentCategory(enum.StrEnum):
    UNSAFE_INTERCEPT = "unsafe_intercept"
    DANGEROUS_MANOEUVRE = "dangerous_manoeuvre"
    CLOSE_APPROACH_AT_SEA = "close_approach_at_sea"
    COLLISION = "collision"
    AIRSPACE_INCURSION = "airspace_incursion"
    LASER_USE = "laser_use"
    FIRE_CONTROL_RADAR = "fire_control_radar"
    INTERFERENCE_WITH_COMMAND_AND_CONTROL = "interference_with_command_and_control"
    OTHER = "other"


class IncidentReport(FormBody):
    category: Annotated[IncidentCategory, member_of(IncidentCategory), choice_doc(IncidentCategory)] = Field(
        title=N_("Incident")
    )
    occurred_at: UtcTime = Field(title=N_("Time"))
    position: Position = Field(title=N_("Position"))
    units_involved: list[Line] = Field(min_length=1, max_length=20, title=N_("Units involved"))
    what_happened: Narrative = Field(title=N_("What happened"))
    actions_taken: Narrative = Field(title=N_("Actions taken"))


class ClarificationRequest(FormBody):
    question: Paragraph = Field(title=N_("Question"))
    observed_at: UtcTime | None = Field(None, title=N_("Observed at"))
    area: Area | None = Field(None, title=N_("Area"))


class Clarification(FormBody):
    """The answer to a clarification request, which the envelope's reply-to names."""

    answer: Narrative = Field(title=N_("Answer"))


class ArsenalDeclaration(FormBody):
    """A voluntary exchange in the categories of New START, which expired on 5 February 2026."""

    as_of: CalendarDate = Field(title=N_("As of"))
    deployed_icbms: Count = Field(title=N_("Deployed ICBMs"))
    deployed_slbms: Count = Field(title=N_("Deployed SLBMs"))
    deployed_heavy_bombers: Count = Field(title=N_("Deployed heavy bombers"))
    deployed_warheads: Count = Field(title=N_("Deployed warheads"))
    deployed_and_non_deployed_launchers: Count = Field(title=N_("Deployed and non-deployed launchers"))

    @property
    def deployed_launchers(self) -> int:
        """What New START counted against its 700: deployed ICBMs, SLBMs and heavy bombers."""
        return self.deployed_icbms + self.deployed_slbms + self.deployed_heavy_bombers

    @field_validator("deployed_and_non_deployed_launchers")
    @classmethod
    def _includes_deployed(cls, total: int, info: ValidationInfo) -> int:
        parts = ("deployed_icbms", "deployed_slbms", "deployed_heavy_bombers")
        if all(part in info.data for part in parts):
            deployed = sum(info.data[part] for part in parts)
            if total < deployed:
                raise ValueError(f"{total} is fewer than the {deployed} deployed ICBMs, SLBMs and heavy bombers")
        return total


class MeetingFormat(enum.StrEnum):
    VIDEO = "video"
    TELEPHONE = "telephone"
    IN_PERSON = "in_person"


class MeetingRequest(FormBody):
    proposed_time: UtcTime = Field(title=N_("Proposed time"))
    format: Annotated[MeetingFormat, member_of(MeetingFormat), choice_doc(MeetingFormat)] = Field(title=N_("Format"))
    # Checked even when left out (validate_default), so that a meeting in person without a place
    # is refused with an error that names the place.
    place: Line | None = Field(None, title=N_("Place"), validate_default=True)
    agenda: Paragraph = Field(title=N_("Agenda"))

    @field_validator("place")
    @classmethod
    def _place_for_meeting_in_person(cls, place: str | None, info: ValidationInfo) -> str | None:
        if place is None and info.data.get("format") is MeetingFormat.IN_PERSON:
            raise ValueError("missing: a meeting in person needs a place")
        return place


class PreAgreed(FormBody):
    """One of the texts both sides hold, sent by its code (as in the 1976 hotline protocol)."""

    code: Annotated[str, TypeDoc("code from the pre-agreed catalogue, e.g. PA01")] = Field(title=N_("Code"))
    reference: SerialReference | None = Field(None, title=N_("Reference"))

    @field_validator("code")
    @classmethod
    def _known(cls, code: str) -> str:
        if code not in PRE_AGREED:
            raise ValueError(f"unknown pre-agreed message {code!r}; expected one of {', '.join(PRE_AGREED)}")
        return code


class Translation(Record):
    type_doc = "translation {text, lang}"

    text: LongText
    lang: LanguageTag


class FreeText(FormBody):
    """Text in the author's language; a translation may travel with it, and is never official."""

    text: LongText = Field(title=N_("Text"))
    lang: LanguageTag = Field(title=N_("Language"))
    translation: Translation | None = Field(None, title=N_("Unofficial translation"))
