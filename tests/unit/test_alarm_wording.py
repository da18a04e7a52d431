"""How alarms read (``watch/wording.py``): every kind has a title and a text in each language,
made from the facts the health model gives it, with durations counted to the moment of reading."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

from hotline.envelope import Precedence
from hotline.forms.i18n import SUPPORTED_LANGUAGES
from hotline.watch.alarms import LATCHED, LATCHED_LEVELS, Alarm, Health, Hold, Kind, Limits
from hotline.watch.declaring import Expected, overdue
from hotline.watch.escalation import Level
from hotline.watch.wording import TITLES, calls_for, duration, summary, title, utc

START_MS = 1_795_000_000_000
PEER = "GENSTAB"
LEFTOVER = re.compile(r"\{[^{}]*\}")
LIMITS = Limits()

# The facts a latched alarm is raised with (lookout, notary, the schema 6 migration).
LATCHED_FACTS: dict[Kind, dict[str, Any]] = {
    Kind.NUMBERING_REFUSED: {"reason": "sequence-gap", "detail": "expected 12, got 14"},
    Kind.SERIAL_REUSED: {"first": "abc", "second": "def"},
    Kind.EQUIVOCATION: {"reason": "two roots at size 40", "detail": "", "equivocation": 1, "ours": False},
    Kind.ALLEGED_EQUIVOCATION: {"reason": "root mismatch"},
    Kind.ROTATION_REFUSED: {"reason": "not-committed", "detail": "its new key is not the one the party committed to"},
    Kind.RESTORE_LOSSES: {"report": "1 envelope(s) from GENSTAB had no receipt of ours."},
}


def condition_alarms() -> dict[Kind, Alarm]:
    """One alarm of every condition kind, with the facts the health model gives it (none later than
    START_MS + 1 s, so that a reading a few minutes on counts a few minutes)."""
    health = Health()
    now = START_MS + 2 * LIMITS.link_test_interval_ms
    health.watch_peer(PEER, START_MS)  # unreachable from the start
    health.urgent_queued(PEER, "ALPHA-000017", Precedence.FLASH, START_MS)
    health.urgent_queued(PEER, "ALPHA-000018", Precedence.IMMEDIATE, START_MS + 1_000)
    health.link_test_sent(PEER, START_MS)
    health.clock(PEER, 45_000, START_MS, "GENSTAB-000042")
    health.numbering(PEER, (120, 100), (7, 12), START_MS)
    health.hook("connection refused", START_MS)
    health.settings({2: ["deadlines", "watch"]}, START_MS)  # another node of the party differs
    health.standbys([2], START_MS)  # and is not running
    health.console({"what": "certificate", "not_after": "2027-01-04", "days": "29"}, START_MS)
    # A second peer, linked but silent: its link tests go missing.
    health.watch_peer("MOD", START_MS)
    health.link_up("MOD", START_MS)
    health.path_down("MOD", 2, "198.51.100.7:7101", START_MS)  # its second path is down
    # Peers whose traffic is held on purpose: by us (with a remark), and one that removed us.
    health.watch_peer("OSCE", START_MS)
    health.hold("OSCE", Hold.SUSPENDED_BY_US, START_MS, {"by_name": "watch", "remark": "drill"})
    health.watch_peer("CSTO", START_MS)
    health.hold("CSTO", Hold.REMOVED_BY_PEER, START_MS)
    found = {alarm.kind: alarm for alarm in health.alarms(now)}
    # Scheduled declarations not made, ours and the peer's, both past due (watch/declaring.py).
    as_of = dt.date(2026, 9, 1)
    late = [Expected(PEER, ours, as_of, START_MS) for ours in (True, False)]
    found |= {alarm.kind: alarm for alarm in overdue(late, now)}
    assert set(found) == set(Kind) - LATCHED
    return found


def every_alarm() -> list[Alarm]:
    alarms = list(condition_alarms().values())
    alarms += [
        Alarm(kind, PEER, "GENSTAB-000042", LATCHED_LEVELS[kind], START_MS, facts, number=i)
        for i, (kind, facts) in enumerate(LATCHED_FACTS.items(), start=1)
    ]
    return alarms


ALARMS = every_alarm()
READ_AT = START_MS + 3 * 60_000


def test_every_kind_has_an_alarm_to_read() -> None:
    assert {alarm.kind for alarm in ALARMS} == set(Kind)
    assert set(TITLES) == set(Kind)


@pytest.mark.parametrize("lang", SUPPORTED_LANGUAGES)
@pytest.mark.parametrize("alarm", ALARMS, ids=lambda a: a.kind.value)
def test_every_kind_reads_whole_in_every_language(alarm: Alarm, lang: str) -> None:
    for text in (title(alarm, lang), summary(alarm, lang, READ_AT)):
        assert isinstance(text, str)
        assert text.strip()
        assert not LEFTOVER.search(text), text


@pytest.mark.parametrize("kind", list(Kind))
def test_the_english_title_is_the_catalogue_key(kind: Kind) -> None:
    alarm = next(a for a in ALARMS if a.kind is kind)
    assert title(alarm, "en") == TITLES[kind]


@pytest.mark.parametrize("kind", list(Kind))
def test_every_title_is_translated_into_russian(kind: Kind) -> None:
    alarm = next(a for a in ALARMS if a.kind is kind)
    assert title(alarm, "ru") != title(alarm, "en")


@pytest.mark.parametrize("lang", SUPPORTED_LANGUAGES)
@pytest.mark.parametrize("level", list(Level))
def test_who_is_called_reads_in_every_language(level: Level, lang: str) -> None:
    assert calls_for(level, lang).strip()
    assert calls_for(level, "en") == level.label.replace("_", " ")


@pytest.mark.parametrize("lang", SUPPORTED_LANGUAGES)
def test_an_unreachable_peer_counts_its_time_to_the_moment_of_reading(lang: str) -> None:
    alarm = condition_alarms()[Kind.PEER_UNREACHABLE]
    assert alarm.since_ms == START_MS
    sooner, later = summary(alarm, lang, START_MS + 45_000), summary(alarm, lang, START_MS + 5 * 60_000)
    assert sooner != later
    assert duration(45_000, lang) in sooner
    assert duration(5 * 60_000, lang) in later


def test_an_unreachable_peer_reads_in_english() -> None:
    alarm = condition_alarms()[Kind.PEER_UNREACHABLE]
    assert summary(alarm, "en", START_MS + 45_000) == (
        "No link to GENSTAB for 45 seconds: no path connects, so nothing is sent or received."
    )


def test_an_undelivered_message_names_the_oldest_and_the_count() -> None:
    alarm = condition_alarms()[Kind.URGENT_UNDELIVERED]
    text = summary(alarm, "en", START_MS + 3 * 60_000)
    assert text == (
        "ALPHA-000017 (FLASH) has waited 3 minutes for GENSTAB's receipt; urgent messages to GENSTAB not delivered: 2."
    )


def test_a_failed_link_test_gives_the_time_it_was_sent() -> None:
    alarm = condition_alarms()[Kind.LINK_TEST_FAILED]
    assert utc(START_MS) in summary(alarm, "en", READ_AT)
    assert utc(START_MS).endswith("Z")


@pytest.mark.parametrize(("skew", "word"), [(45_000, "ahead of"), (-45_000, "behind")])
def test_a_clock_skew_says_which_way_and_by_how_much(skew: int, word: str) -> None:
    alarm = Alarm(Kind.CLOCK_SKEW, PEER, None, Level.DUTY_OFFICER, START_MS, {"skew_ms": skew})
    text = summary(alarm, "en", READ_AT)
    assert text.startswith(f"GENSTAB's clock is 45 seconds {word} ours.")
    assert "-45" not in text


def test_a_clock_skew_shown_by_a_message_names_it() -> None:
    alarm = condition_alarms()[Kind.CLOCK_SKEW]
    assert "GENSTAB-000042 is dated ahead of our clock." in summary(alarm, "en", READ_AT)


def test_store_behind_gives_the_last_number_the_peer_holds() -> None:
    alarm = condition_alarms()[Kind.STORE_BEHIND]
    text = summary(alarm, "en", READ_AT)
    assert "up to sequence number 119, but our store would sign 100 next" in text


@pytest.mark.parametrize("lang", SUPPORTED_LANGUAGES)
@pytest.mark.parametrize("kind", sorted(LATCHED_FACTS))
def test_a_cause_seen_again_says_how_many_times(kind: Kind, lang: str) -> None:
    once = next(a for a in ALARMS if a.kind is kind)
    assert once.count == 1
    seen = Alarm(once.kind, once.peer, once.subject, once.level, once.since_ms, once.facts, once.number, count=3)
    text_once, text_seen = summary(once, lang, READ_AT), summary(seen, lang, READ_AT)
    assert text_seen.startswith(text_once + " ")
    assert "3" in text_seen.removeprefix(text_once)
    assert not LEFTOVER.search(text_seen)


def test_a_cause_seen_again_reads_in_english() -> None:
    once = next(a for a in ALARMS if a.kind is Kind.SERIAL_REUSED)
    seen = Alarm(once.kind, once.peer, once.subject, once.level, once.since_ms, once.facts, once.number, count=100)
    assert summary(seen, "en", READ_AT).endswith(". Seen 100 times.")


@pytest.mark.parametrize(("ms", "lang", "text"), [(45_000, "en", "45 seconds"), (180_000, "ru", "3 минуты")])
def test_durations_read_as_people_say_them(ms: int, lang: str, text: str) -> None:
    assert duration(ms, lang) == text
    assert duration(-ms, lang) == text


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_the_consoles_listener_is_an_alarm_for_its_certificate_and_its_failure(lang: str) -> None:
    health = Health()
    health.console({"what": "certificate", "not_after": "2027-01-04", "days": "29"}, START_MS)
    (alarm,) = health.alarms(START_MS)
    assert alarm.level is Level.SUPERVISOR
    assert "2027-01-04" in summary(alarm, lang, READ_AT)
    health.console({"what": "failed", "error": "OSError(24)"}, START_MS + 5)
    (alarm,) = health.alarms(START_MS + 10)
    assert alarm.since_ms == START_MS, "one condition: it keeps the moment it began"
    assert "OSError(24)" in summary(alarm, lang, READ_AT)
    health.console(None, START_MS + 20)
    assert health.alarms(START_MS + 20) == []
