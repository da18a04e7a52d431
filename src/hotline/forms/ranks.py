"""Military ranks, for the person who acknowledges a message: a code on the wire, a name in
each reader's language.

An acknowledgement carries the rank as a code (``major``), not as words, so that the sender
reads it in their own language ("Major A. Petrov", «майор Петров»). The list holds the
ranks of the officers who stand such a watch in the armed forces of either tradition (army and
air force; navy, with its own ranks in each), warrant officers, and civilian staff.
"""

from __future__ import annotations

import enum

from hotline.forms.i18n import N_, translations


class Rank(enum.StrEnum):
    WARRANT_OFFICER = "warrant_officer"
    SENIOR_WARRANT_OFFICER = "senior_warrant_officer"
    LIEUTENANT = "lieutenant"
    SENIOR_LIEUTENANT = "senior_lieutenant"
    CAPTAIN = "captain"
    MAJOR = "major"
    LIEUTENANT_COLONEL = "lieutenant_colonel"
    COLONEL = "colonel"
    BRIGADIER_GENERAL = "brigadier_general"
    MAJOR_GENERAL = "major_general"
    LIEUTENANT_GENERAL = "lieutenant_general"
    COLONEL_GENERAL = "colonel_general"
    GENERAL = "general"
    GENERAL_OF_THE_ARMY = "general_of_the_army"
    CAPTAIN_LIEUTENANT = "captain_lieutenant"
    CAPTAIN_3RD_RANK = "captain_3rd_rank"
    CAPTAIN_2ND_RANK = "captain_2nd_rank"
    CAPTAIN_1ST_RANK = "captain_1st_rank"
    LIEUTENANT_COMMANDER = "lieutenant_commander"
    COMMANDER = "commander"
    NAVAL_CAPTAIN = "naval_captain"
    REAR_ADMIRAL = "rear_admiral"
    VICE_ADMIRAL = "vice_admiral"
    ADMIRAL = "admiral"
    CIVILIAN = "civilian"


RANK_NAMES: dict[Rank, str] = {
    Rank.WARRANT_OFFICER: N_("Warrant Officer"),
    Rank.SENIOR_WARRANT_OFFICER: N_("Senior Warrant Officer"),
    Rank.LIEUTENANT: N_("Lieutenant"),
    Rank.SENIOR_LIEUTENANT: N_("Senior Lieutenant"),
    Rank.CAPTAIN: N_("Captain"),
    Rank.MAJOR: N_("Major"),
    Rank.LIEUTENANT_COLONEL: N_("Lieutenant Colonel"),
    Rank.COLONEL: N_("Colonel"),
    Rank.BRIGADIER_GENERAL: N_("Brigadier General"),
    Rank.MAJOR_GENERAL: N_("Major General"),
    Rank.LIEUTENANT_GENERAL: N_("Lieutenant General"),
    Rank.COLONEL_GENERAL: N_("Colonel General"),
    Rank.GENERAL: N_("General"),
    Rank.GENERAL_OF_THE_ARMY: N_("General of the Army"),
    Rank.CAPTAIN_LIEUTENANT: N_("Captain-Lieutenant"),
    Rank.CAPTAIN_3RD_RANK: N_("Captain 3rd Rank"),
    Rank.CAPTAIN_2ND_RANK: N_("Captain 2nd Rank"),
    Rank.CAPTAIN_1ST_RANK: N_("Captain 1st Rank"),
    Rank.LIEUTENANT_COMMANDER: N_("Lieutenant Commander"),
    Rank.COMMANDER: N_("Commander (Navy)"),
    Rank.NAVAL_CAPTAIN: N_("Captain (Navy)"),
    Rank.REAR_ADMIRAL: N_("Rear Admiral"),
    Rank.VICE_ADMIRAL: N_("Vice Admiral"),
    Rank.ADMIRAL: N_("Admiral"),
    Rank.CIVILIAN: N_("Civilian staff"),
}


def rank_name(rank: str, lang: str) -> str:
    """The rank's name in ``lang``; an unknown code as it is (a newer peer's list)."""
    try:
        return translations(lang).gettext(RANK_NAMES[Rank(rank)])
    except ValueError:
        return rank


def signed_name(name: str, rank: str | None, lang: str) -> str:
    """Who acknowledged, as a reader of ``lang`` writes it: "Major A. Petrov", «майор Петров»."""
    if not rank:
        return name
    shown = rank_name(rank, lang)
    if lang == "ru" and rank in Rank.__members__.values():
        shown = shown[0].lower() + shown[1:]  # in Russian a rank before a name is not capitalised
    return f"{shown} {name}"
