"""Words for the enumerated values of the forms, as msgids.

One table per enumeration, because ``MissileClass.ICBM`` and ``ForceComponent.ICBM`` are the same
string but not the same words: a missile in one case, a force in the list of another.
"""

from __future__ import annotations

import enum

from hotline.forms import schemas as s
from hotline.forms.formatting import Formatter
from hotline.forms.i18n import N_
from hotline.forms.ranks import RANK_NAMES, Rank

LABELS: dict[type[enum.StrEnum], dict[str, str]] = {
    Rank: {rank.value: name for rank, name in RANK_NAMES.items()},
    s.MissileClass: {
        "icbm": N_("intercontinental ballistic missile (ICBM)"),
        "slbm": N_("submarine-launched ballistic missile (SLBM)"),
    },
    s.ForceComponent: {
        "icbm": N_("ICBMs"),
        "slbm": N_("SLBMs"),
        "heavy_bombers": N_("heavy bombers"),
        "tanker_aircraft": N_("tanker aircraft"),
        "missile_warning": N_("missile warning systems"),
        "air_and_missile_defence": N_("air and missile defence forces"),
        "command_and_control": N_("command and control systems"),
        "general_purpose_forces": N_("general-purpose forces"),
    },
    s.AirActivity: {
        "air_exercise": N_("air exercise"),
        "air_refuelling": N_("air-to-air refuelling"),
        "live_firing": N_("live firing"),
        "missile_firing": N_("missile firing"),
        "uav_operations": N_("unmanned aircraft operations"),
        "reconnaissance_flights": N_("reconnaissance flights"),
        "airborne_early_warning": N_("airborne early warning patrol"),
        "transport_flights": N_("military transport flights"),
        "search_and_rescue": N_("search and rescue"),
    },
    s.IncidentCategory: {
        "unsafe_intercept": N_("unsafe intercept"),
        "dangerous_manoeuvre": N_("dangerous manoeuvring"),
        "close_approach_at_sea": N_("dangerous approach of ships at sea"),
        "collision": N_("collision"),
        "airspace_incursion": N_("airspace violation"),
        "laser_use": N_("use of a laser"),
        "fire_control_radar": N_("illumination by fire-control radar"),
        "interference_with_command_and_control": N_("interference with command and control networks"),
        "other": N_("other"),
    },
    s.MeetingFormat: {
        "video": N_("video conference"),
        "telephone": N_("telephone conversation"),
        "in_person": N_("meeting in person"),
    },
}


def label(value: enum.StrEnum, f: Formatter) -> str:
    return f._(LABELS[type(value)][value.value])
