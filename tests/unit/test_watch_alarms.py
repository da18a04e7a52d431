"""The channel's health alarms (``watch/alarms.py``), driven by fake times: nothing here sleeps.

Each test reports observations to a ``Health`` at chosen instants (milliseconds) and reads which
alarms stand at others, the way the lookout does with the wall clock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.envelope import Precedence
from hotline.watch.alarms import (
    LATCHED,
    LATCHED_LEVELS,
    LOUDEST,
    Alarm,
    Event,
    Health,
    Kind,
    Limits,
    changes,
)
from hotline.watch.escalation import Level

START_MS = 1_795_000_000_000
PEER = "GENSTAB"
OTHER = "MOD"
LIMITS = Limits()
GRACE = LIMITS.unreachable_ms
FLASH_BOUND = LIMITS.undelivered_ms[Precedence.FLASH]
IMMEDIATE_BOUND = LIMITS.undelivered_ms[Precedence.IMMEDIATE]
INTERVAL = LIMITS.link_test_interval_ms
TIMEOUT = LIMITS.link_test_timeout_ms
TOLERANCE = LIMITS.clock_tolerance_ms
NO_LINK_TESTS = Limits(link_test_interval_ms=0)


def linked(limits: Limits | None = None, *peers: str) -> Health:
    """A health watching ``peers`` (PEER by default), each with a link up since START_MS."""
    health = Health(limits)
    for peer in peers or (PEER,):
        health.watch_peer(peer, START_MS)
        health.link_up(peer, START_MS)
    return health


def standing(health: Health, now_ms: int, kind: Kind, peer: str | None = PEER) -> Alarm | None:
    """The one alarm of ``kind`` about ``peer`` standing at ``now_ms``, if any."""
    found = [a for a in health.alarms(now_ms) if a.kind is kind and a.peer == peer]
    assert len(found) <= 1, found
    return found[0] if found else None


def the(health: Health, now_ms: int, kind: Kind, peer: str | None = PEER) -> Alarm:
    alarm = standing(health, now_ms, kind, peer)
    assert alarm is not None, f"no {kind} at {now_ms - START_MS} ms: {health.alarms(now_ms)}"
    return alarm


def latched(number: int, kind: Kind = Kind.EQUIVOCATION, since_ms: int = START_MS) -> Alarm:
    return Alarm(kind, PEER, "log", LATCHED_LEVELS[kind], since_ms, {"reason": "two roots"}, number=number)


# -- a peer unreachable --------------------------------------------------------------------------


def test_a_peer_just_watched_raises_nothing_within_the_grace() -> None:
    health = Health()
    health.watch_peer(PEER, START_MS)
    assert health.alarms(START_MS) == []
    assert health.alarms(START_MS + GRACE - 1) == []


def test_a_peer_down_for_the_grace_calls_the_duty_officer() -> None:
    health = Health()
    health.watch_peer(PEER, START_MS)
    alarm = the(health, START_MS + GRACE, Kind.PEER_UNREACHABLE)
    assert alarm.level is Level.DUTY_OFFICER
    assert alarm.since_ms == START_MS
    assert alarm.facts == {"down_ms": GRACE}
    assert alarm.subject is None
    assert alarm.key == f"peer-unreachable/{PEER}"
    assert not alarm.latched
    assert alarm.loudest  # no path at all: the hotline itself is down


@pytest.mark.parametrize(
    ("down_for", "level"),
    [
        (GRACE, Level.DUTY_OFFICER),
        (10 * GRACE - 1, Level.DUTY_OFFICER),
        (10 * GRACE, Level.SUPERVISOR),
        (60 * GRACE - 1, Level.SUPERVISOR),
        (60 * GRACE, Level.COMMANDER),
        (1_000 * GRACE, Level.COMMANDER),
    ],
)
def test_an_unreachable_peer_calls_higher_the_longer_it_stays_down(down_for: int, level: Level) -> None:
    health = linked()
    health.link_down(PEER, START_MS + 5_000)
    alarm = the(health, START_MS + 5_000 + down_for, Kind.PEER_UNREACHABLE)
    assert alarm.level is level
    assert alarm.since_ms == START_MS + 5_000
    assert alarm.facts["down_ms"] == down_for


def test_the_stated_escalation_is_five_and_thirty_minutes_with_the_default_grace() -> None:
    health = Health()
    health.watch_peer(PEER, START_MS)
    assert the(health, START_MS + 30_000, Kind.PEER_UNREACHABLE).level is Level.DUTY_OFFICER
    assert the(health, START_MS + 5 * 60_000, Kind.PEER_UNREACHABLE).level is Level.SUPERVISOR
    assert the(health, START_MS + 30 * 60_000, Kind.PEER_UNREACHABLE).level is Level.COMMANDER


def test_the_grace_comes_from_the_limits() -> None:
    health = Health(Limits(unreachable_ms=5_000))
    health.watch_peer(PEER, START_MS)
    assert standing(health, START_MS + 4_999, Kind.PEER_UNREACHABLE) is None
    assert the(health, START_MS + 5_000, Kind.PEER_UNREACHABLE).level is Level.DUTY_OFFICER
    assert the(health, START_MS + 50_000, Kind.PEER_UNREACHABLE).level is Level.SUPERVISOR


def test_a_link_coming_up_clears_unreachable() -> None:
    health = Health()
    health.watch_peer(PEER, START_MS)
    assert standing(health, START_MS + 60 * GRACE, Kind.PEER_UNREACHABLE) is not None
    health.link_up(PEER, START_MS + 60 * GRACE)
    assert standing(health, START_MS + 60 * GRACE, Kind.PEER_UNREACHABLE) is None
    assert standing(health, START_MS + 1_000 * GRACE, Kind.PEER_UNREACHABLE) is None


def test_a_link_lost_again_counts_from_the_new_loss() -> None:
    health = Health()
    health.watch_peer(PEER, START_MS)
    health.link_up(PEER, START_MS + 100 * GRACE)
    health.link_down(PEER, START_MS + 200 * GRACE)
    assert standing(health, START_MS + 200 * GRACE + GRACE - 1, Kind.PEER_UNREACHABLE) is None
    alarm = the(health, START_MS + 201 * GRACE, Kind.PEER_UNREACHABLE)
    assert (alarm.level, alarm.since_ms) == (Level.DUTY_OFFICER, START_MS + 200 * GRACE)


def test_a_second_lane_going_down_does_not_restart_the_count() -> None:
    health = linked()
    health.link_down(PEER, START_MS + 1_000)
    health.link_down(PEER, START_MS + 20_000)
    alarm = the(health, START_MS + 1_000 + GRACE, Kind.PEER_UNREACHABLE)
    assert alarm.since_ms == START_MS + 1_000


def test_watching_a_peer_again_does_not_forget_what_was_seen() -> None:
    health = Health()
    health.watch_peer(PEER, START_MS)
    health.watch_peer(PEER, START_MS + 10 * GRACE)
    assert the(health, START_MS + 10 * GRACE, Kind.PEER_UNREACHABLE).since_ms == START_MS


def test_peers_are_watched_apart() -> None:
    health = linked(None, PEER, OTHER)
    health.link_down(OTHER, START_MS)
    assert standing(health, START_MS + GRACE, Kind.PEER_UNREACHABLE, PEER) is None
    assert the(health, START_MS + GRACE, Kind.PEER_UNREACHABLE, OTHER).peer == OTHER


# -- urgent messages undelivered -----------------------------------------------------------------


def test_a_flash_undelivered_within_its_bound_raises_nothing() -> None:
    health = linked()
    health.urgent_queued(PEER, "ALPHA-000001", Precedence.FLASH, START_MS)
    assert health.alarms(START_MS + FLASH_BOUND - 1) == []


def test_a_flash_undelivered_for_its_bound_calls_the_supervisor() -> None:
    health = linked()
    health.urgent_queued(PEER, "ALPHA-000001", Precedence.FLASH, START_MS + 1_000)
    alarm = the(health, START_MS + 1_000 + FLASH_BOUND, Kind.URGENT_UNDELIVERED)
    assert alarm.level is Level.SUPERVISOR
    assert alarm.since_ms == START_MS + 1_000
    assert alarm.facts == {"oldest": "ALPHA-000001", "precedence": "FLASH", "waiting_ms": FLASH_BOUND, "count": 1}
    assert alarm.key == f"urgent-undelivered/{PEER}"


def test_an_immediate_has_a_longer_bound_and_calls_the_duty_officer() -> None:
    health = linked()
    health.urgent_queued(PEER, "ALPHA-000002", Precedence.IMMEDIATE, START_MS)
    assert standing(health, START_MS + FLASH_BOUND, Kind.URGENT_UNDELIVERED) is None
    assert standing(health, START_MS + IMMEDIATE_BOUND - 1, Kind.URGENT_UNDELIVERED) is None
    alarm = the(health, START_MS + IMMEDIATE_BOUND, Kind.URGENT_UNDELIVERED)
    assert alarm.level is Level.DUTY_OFFICER
    assert alarm.facts["precedence"] == "IMMEDIATE"


def test_the_bounds_are_two_minutes_and_thirty_seconds_by_default() -> None:
    assert FLASH_BOUND == 30_000
    assert IMMEDIATE_BOUND == 120_000


@pytest.mark.parametrize("precedence", [Precedence.PRIORITY, Precedence.ROUTINE])
def test_routine_and_priority_messages_are_not_watched(precedence: Precedence) -> None:
    health = linked(NO_LINK_TESTS)
    health.urgent_queued(PEER, "ALPHA-000003", precedence, START_MS)
    assert health.alarms(START_MS + 1_000 * IMMEDIATE_BOUND) == []
    assert health.wake_ms(START_MS) is None


def test_settling_the_message_clears_the_alarm() -> None:
    health = linked()
    health.urgent_queued(PEER, "ALPHA-000001", Precedence.FLASH, START_MS)
    assert standing(health, START_MS + FLASH_BOUND, Kind.URGENT_UNDELIVERED) is not None
    health.urgent_settled(PEER, "ALPHA-000001")
    assert standing(health, START_MS + FLASH_BOUND, Kind.URGENT_UNDELIVERED) is None
    assert standing(health, START_MS + 100 * FLASH_BOUND, Kind.URGENT_UNDELIVERED) is None


def test_settling_a_message_never_queued_changes_nothing() -> None:
    health = linked()
    health.urgent_queued(PEER, "ALPHA-000001", Precedence.FLASH, START_MS)
    health.urgent_settled(PEER, "ALPHA-000099")
    assert the(health, START_MS + FLASH_BOUND, Kind.URGENT_UNDELIVERED).facts["count"] == 1


def test_the_alarm_names_the_oldest_and_counts_every_undelivered_message() -> None:
    health = linked()
    health.urgent_queued(PEER, "ALPHA-000001", Precedence.FLASH, START_MS)
    health.urgent_queued(PEER, "ALPHA-000002", Precedence.FLASH, START_MS + 1_000)
    health.urgent_queued(PEER, "ALPHA-000003", Precedence.IMMEDIATE, START_MS + 2_000)
    now = START_MS + 60_000
    alarm = the(health, now, Kind.URGENT_UNDELIVERED)
    assert alarm.facts == {"oldest": "ALPHA-000001", "precedence": "FLASH", "waiting_ms": 60_000, "count": 3}
    assert alarm.since_ms == START_MS

    health.urgent_settled(PEER, "ALPHA-000001")
    alarm = the(health, now, Kind.URGENT_UNDELIVERED)
    assert alarm.facts["oldest"] == "ALPHA-000002"
    assert alarm.facts["count"] == 2
    assert alarm.since_ms == START_MS + 1_000

    health.urgent_settled(PEER, "ALPHA-000002")
    assert standing(health, now, Kind.URGENT_UNDELIVERED) is None  # the IMMEDIATE is not late yet
    alarm = the(health, START_MS + 2_000 + IMMEDIATE_BOUND, Kind.URGENT_UNDELIVERED)
    assert (alarm.facts["oldest"], alarm.facts["count"], alarm.level) == ("ALPHA-000003", 1, Level.DUTY_OFFICER)


def test_a_late_flash_outranks_a_late_immediate_queued_earlier() -> None:
    health = linked()
    health.urgent_queued(PEER, "ALPHA-000001", Precedence.IMMEDIATE, START_MS)
    health.urgent_queued(PEER, "ALPHA-000002", Precedence.FLASH, START_MS + 10_000)
    alarm = the(health, START_MS + IMMEDIATE_BOUND, Kind.URGENT_UNDELIVERED)
    assert alarm.level is Level.SUPERVISOR
    assert alarm.facts["oldest"] == "ALPHA-000002"
    assert alarm.facts["precedence"] == "FLASH"
    assert alarm.facts["count"] == 2


def test_a_flash_becoming_late_escalates_an_immediate_alarm() -> None:
    health = linked()
    health.urgent_queued(PEER, "ALPHA-000001", Precedence.IMMEDIATE, START_MS)
    health.urgent_queued(PEER, "ALPHA-000002", Precedence.FLASH, START_MS + IMMEDIATE_BOUND - 1_000)
    before = health.alarms(START_MS + IMMEDIATE_BOUND)
    assert [(a.kind, a.level) for a in before] == [(Kind.URGENT_UNDELIVERED, Level.DUTY_OFFICER)]
    after = health.alarms(START_MS + IMMEDIATE_BOUND - 1_000 + FLASH_BOUND)
    assert [(c.event, c.alarm.kind, c.alarm.level) for c in changes(before, after)] == [
        (Event.ESCALATED, Kind.URGENT_UNDELIVERED, Level.SUPERVISOR)
    ]


def test_a_message_queued_for_one_peer_does_not_alarm_about_another() -> None:
    health = linked(None, PEER, OTHER)
    health.urgent_queued(OTHER, "ALPHA-000001", Precedence.FLASH, START_MS)
    assert standing(health, START_MS + FLASH_BOUND, Kind.URGENT_UNDELIVERED, PEER) is None
    assert standing(health, START_MS + FLASH_BOUND, Kind.URGENT_UNDELIVERED, OTHER) is not None


# -- link tests --------------------------------------------------------------------------------


def test_an_unanswered_link_test_fails_after_the_timeout() -> None:
    health = linked()
    health.link_test_sent(PEER, START_MS + 1_000)
    assert standing(health, START_MS + 1_000 + TIMEOUT - 1, Kind.LINK_TEST_FAILED) is None
    alarm = the(health, START_MS + 1_000 + TIMEOUT, Kind.LINK_TEST_FAILED)
    assert alarm.level is Level.DUTY_OFFICER
    assert alarm.since_ms == START_MS + 1_000
    assert alarm.facts == {"sent_ms": START_MS + 1_000}


def test_a_link_test_answered_in_time_raises_nothing() -> None:
    health = linked()
    health.link_test_sent(PEER, START_MS)
    health.link_test_answered(PEER)
    assert standing(health, START_MS + 10 * TIMEOUT, Kind.LINK_TEST_FAILED) is None


def test_a_late_answer_clears_a_failed_link_test() -> None:
    health = linked()
    health.link_test_sent(PEER, START_MS)
    assert standing(health, START_MS + TIMEOUT, Kind.LINK_TEST_FAILED) is not None
    health.link_test_answered(PEER)
    assert standing(health, START_MS + TIMEOUT, Kind.LINK_TEST_FAILED) is None


def test_a_failed_link_test_stands_until_one_is_answered() -> None:
    """The peer answers none: the next test, sent an interval later, is no answer. The alarm must
    not clear (and be raised again a timeout later) at every new test."""
    health = linked()
    health.link_test_sent(PEER, START_MS)
    before = health.alarms(START_MS + INTERVAL)
    assert [a.kind for a in before] == [Kind.LINK_TEST_FAILED]
    health.link_test_sent(PEER, START_MS + INTERVAL)
    after = health.alarms(START_MS + INTERVAL)
    assert changes(before, after) == []


def test_no_link_test_from_the_peer_for_two_intervals_is_missing() -> None:
    health = linked()
    assert standing(health, START_MS + 2 * INTERVAL - 1, Kind.LINK_TEST_MISSING) is None
    alarm = the(health, START_MS + 2 * INTERVAL, Kind.LINK_TEST_MISSING)
    assert alarm.level is Level.DUTY_OFFICER
    assert alarm.since_ms == START_MS
    assert alarm.facts == {"last_ms": None}


def test_missing_link_tests_count_from_the_last_one_received() -> None:
    health = linked()
    health.link_test_received(PEER, START_MS + INTERVAL)
    assert standing(health, START_MS + 2 * INTERVAL, Kind.LINK_TEST_MISSING) is None
    assert standing(health, START_MS + 3 * INTERVAL - 1, Kind.LINK_TEST_MISSING) is None
    alarm = the(health, START_MS + 3 * INTERVAL, Kind.LINK_TEST_MISSING)
    assert alarm.since_ms == START_MS + INTERVAL
    assert alarm.facts == {"last_ms": START_MS + INTERVAL}


def test_a_link_test_received_clears_missing() -> None:
    health = linked()
    assert standing(health, START_MS + 2 * INTERVAL, Kind.LINK_TEST_MISSING) is not None
    health.link_test_received(PEER, START_MS + 2 * INTERVAL)
    assert standing(health, START_MS + 2 * INTERVAL, Kind.LINK_TEST_MISSING) is None


def test_no_link_test_is_missed_while_the_link_is_down() -> None:
    health = linked()
    health.link_down(PEER, START_MS + 1_000)
    assert standing(health, START_MS + 10 * INTERVAL, Kind.LINK_TEST_MISSING) is None
    assert standing(health, START_MS + 10 * INTERVAL, Kind.PEER_UNREACHABLE) is not None


def test_missing_link_tests_count_afresh_when_the_link_comes_back() -> None:
    health = linked()
    health.link_down(PEER, START_MS + INTERVAL)
    health.link_up(PEER, START_MS + 3 * INTERVAL)
    assert standing(health, START_MS + 5 * INTERVAL - 1, Kind.LINK_TEST_MISSING) is None
    assert the(health, START_MS + 5 * INTERVAL, Kind.LINK_TEST_MISSING).since_ms == START_MS + 3 * INTERVAL


def test_a_second_lane_coming_up_does_not_restart_the_count() -> None:
    health = linked()
    health.link_up(PEER, START_MS + INTERVAL)
    assert the(health, START_MS + 2 * INTERVAL, Kind.LINK_TEST_MISSING).since_ms == START_MS


def test_with_link_tests_off_none_is_missing() -> None:
    health = linked(NO_LINK_TESTS)
    assert health.alarms(START_MS + 1_000 * INTERVAL) == []


# -- clocks --------------------------------------------------------------------------------------


@pytest.mark.parametrize("skew", [0, TOLERANCE, -TOLERANCE, 1_000, -1_000])
def test_a_skew_within_the_tolerance_raises_nothing(skew: int) -> None:
    health = linked()
    health.clock(PEER, skew, START_MS)
    assert standing(health, START_MS, Kind.CLOCK_SKEW) is None


@pytest.mark.parametrize("skew", [TOLERANCE + 1, -TOLERANCE - 1, 3_600_000])
def test_a_skew_beyond_the_tolerance_is_an_alarm(skew: int) -> None:
    health = linked()
    health.clock(PEER, skew, START_MS + 500)
    alarm = the(health, START_MS + 500, Kind.CLOCK_SKEW)
    assert alarm.level is Level.DUTY_OFFICER
    assert alarm.since_ms == START_MS + 500
    assert alarm.facts == {"skew_ms": skew}


def test_a_clock_back_within_the_tolerance_clears_skew() -> None:
    health = linked()
    health.clock(PEER, 60_000, START_MS)
    assert standing(health, START_MS, Kind.CLOCK_SKEW) is not None
    health.clock(PEER, 100, START_MS + 1_000)
    assert standing(health, START_MS + 1_000, Kind.CLOCK_SKEW) is None


def test_a_skew_that_persists_keeps_the_time_it_was_first_seen() -> None:
    health = linked()
    health.clock(PEER, 10, START_MS)
    health.clock(PEER, 60_000, START_MS + 1_000)
    health.clock(PEER, 90_000, START_MS + 2_000)
    alarm = the(health, START_MS + 2_000, Kind.CLOCK_SKEW)
    assert alarm.since_ms == START_MS + 1_000
    assert alarm.facts == {"skew_ms": 90_000}

    health.clock(PEER, 10, START_MS + 3_000)
    health.clock(PEER, 60_000, START_MS + 4_000)
    assert the(health, START_MS + 4_000, Kind.CLOCK_SKEW).since_ms == START_MS + 4_000


def test_a_skew_shown_by_a_message_names_it() -> None:
    health = linked()
    health.clock(PEER, 60_000, START_MS, "GENSTAB-000042")
    assert the(health, START_MS, Kind.CLOCK_SKEW).facts["serial"] == "GENSTAB-000042"


def test_a_heartbeat_does_not_wipe_the_message_that_showed_the_skew() -> None:
    """The round trips every few seconds measure the skew again without a message: the serial
    that showed it stays named while the clock stays off, and goes once the clock is back."""
    health = linked()
    health.clock(PEER, 60_000, START_MS, "GENSTAB-000042")
    health.clock(PEER, 61_000, START_MS + 5_000)
    assert the(health, START_MS + 5_000, Kind.CLOCK_SKEW).facts["serial"] == "GENSTAB-000042"
    health.clock(PEER, 100, START_MS + 10_000)
    health.clock(PEER, 60_000, START_MS + 15_000)
    assert "serial" not in the(health, START_MS + 15_000, Kind.CLOCK_SKEW).facts


def test_clock_skew_is_one_alarm_however_it_is_measured() -> None:
    """The handshake measures the skew (no subject), then a message dated ahead shows it again
    (its serial as subject), then another message: the same skew standing all along. Announcing
    it cleared and raised again at each measurement would call the duty officer each time."""
    health = linked()
    health.clock(PEER, 60_000, START_MS)
    first = health.alarms(START_MS)
    health.clock(PEER, 61_000, START_MS + 1_000, "GENSTAB-000042")
    second = health.alarms(START_MS + 1_000)
    health.clock(PEER, 61_000, START_MS + 2_000, "GENSTAB-000043")
    third = health.alarms(START_MS + 2_000)
    assert changes(first, second) == []
    assert changes(second, third) == []


# -- numbering -----------------------------------------------------------------------------------


def test_our_store_behind_the_peer_stops_signing_and_calls_the_commander() -> None:
    health = linked(None, PEER, OTHER)
    assert not health.signing_stopped(PEER)
    health.numbering(PEER, (120, 100), None, START_MS + 5)
    assert health.signing_stopped(PEER)
    assert not health.signing_stopped(OTHER)
    alarm = the(health, START_MS + 5, Kind.STORE_BEHIND)
    assert alarm.level is Level.COMMANDER
    assert alarm.since_ms == START_MS + 5
    assert alarm.facts == {"expects": 120, "ours": 100}
    assert alarm.loudest


def test_signing_is_not_stopped_to_an_unknown_peer() -> None:
    assert not Health().signing_stopped("NOBODY")


def test_a_handshake_with_the_numbering_in_order_clears_store_behind() -> None:
    health = linked()
    health.numbering(PEER, (120, 100), None, START_MS)
    health.numbering(PEER, None, None, START_MS + 1_000)
    assert not health.signing_stopped(PEER)
    assert standing(health, START_MS + 1_000, Kind.STORE_BEHIND) is None


def test_store_behind_keeps_the_first_handshake_that_showed_it() -> None:
    health = linked()
    health.numbering(PEER, (120, 100), None, START_MS)
    health.numbering(PEER, (121, 100), None, START_MS + 1_000)
    alarm = the(health, START_MS + 1_000, Kind.STORE_BEHIND)
    assert alarm.since_ms == START_MS
    assert alarm.facts == {"expects": 121, "ours": 100}


def test_the_peer_behind_us_is_an_alarm_but_we_keep_signing() -> None:
    health = linked()
    health.numbering(PEER, None, (7, 12), START_MS)
    assert not health.signing_stopped(PEER)
    alarm = the(health, START_MS, Kind.PEER_STORE_BEHIND)
    assert alarm.level is Level.COMMANDER
    assert alarm.facts == {"sends": 7, "expected": 12}
    assert not alarm.loudest
    assert standing(health, START_MS, Kind.STORE_BEHIND) is None
    health.numbering(PEER, None, None, START_MS + 1)
    assert standing(health, START_MS + 1, Kind.PEER_STORE_BEHIND) is None


def test_store_behind_counts_from_the_handshake_that_first_showed_it() -> None:
    """The peer's store was behind first; a later handshake shows ours behind too. Our store
    being behind began then, not when the peer's was first seen behind."""
    health = linked()
    health.numbering(PEER, None, (7, 12), START_MS)
    health.numbering(PEER, (120, 100), (7, 12), START_MS + 60_000)
    assert the(health, START_MS + 60_000, Kind.PEER_STORE_BEHIND).since_ms == START_MS
    assert the(health, START_MS + 60_000, Kind.STORE_BEHIND).since_ms == START_MS + 60_000


# -- the alarm hook ----------------------------------------------------------------------------


def test_a_hook_failure_is_an_alarm_until_the_hook_delivers() -> None:
    health = Health()
    health.hook("connection refused", START_MS)
    health.hook("timed out", START_MS + 1_000)
    (alarm,) = health.alarms(START_MS + 2_000)
    assert alarm.kind is Kind.HOOK_FAILED
    assert (alarm.peer, alarm.subject, alarm.level) == (None, None, Level.SUPERVISOR)
    assert alarm.since_ms == START_MS  # failing since the first failure
    assert alarm.facts == {"error": "timed out"}  # the latest reason
    assert alarm.key == "hook-failed"
    health.hook(None, START_MS + 3_000)
    assert health.alarms(START_MS + 3_000) == []


def test_a_hook_failing_again_after_a_success_counts_afresh() -> None:
    health = Health()
    health.hook("timed out", START_MS)
    health.hook(None, START_MS + 1_000)
    health.hook("timed out", START_MS + 2_000)
    (alarm,) = health.alarms(START_MS + 2_000)
    assert alarm.since_ms == START_MS + 2_000


# -- latched alarms ------------------------------------------------------------------------------


def test_latched_alarms_stand_as_handed_over_and_only_go_when_taken_back() -> None:
    health = linked(NO_LINK_TESTS)
    equivocation, reused = latched(7), latched(8, Kind.SERIAL_REUSED)
    health.set_latched([equivocation, reused])
    for now in (START_MS, START_MS + 10**9):
        assert health.alarms(now) == [equivocation, reused]
    assert [a.key for a in health.alarms(START_MS)] == ["7", "8"]
    assert all(a.latched for a in health.alarms(START_MS))

    health.link_up(PEER, START_MS)
    health.link_test_received(PEER, START_MS)
    health.hook(None, START_MS)
    assert health.alarms(START_MS) == [equivocation, reused]  # no observation clears them

    health.set_latched([reused])
    assert health.alarms(START_MS) == [reused]
    health.set_latched([])
    assert health.alarms(START_MS) == []


def test_set_latched_takes_any_iterable_once() -> None:
    health = Health()
    health.set_latched(latched(n) for n in (1, 2))
    assert [a.number for a in health.alarms(START_MS)] == [1, 2]
    assert [a.number for a in health.alarms(START_MS)] == [1, 2]  # a generator, kept as a list


def test_the_latched_kinds_and_who_they_call() -> None:
    assert set(LATCHED_LEVELS) == LATCHED
    assert LATCHED_LEVELS[Kind.EQUIVOCATION] is Level.COMMANDER
    assert LATCHED_LEVELS[Kind.ALLEGED_EQUIVOCATION] is Level.DUTY_OFFICER
    assert {Kind.STORE_BEHIND, Kind.EQUIVOCATION, Kind.PEER_UNREACHABLE} == LOUDEST


# -- all together: the order on the board --------------------------------------------------------


def test_alarms_come_loudest_first_then_by_level_then_oldest_first() -> None:
    health = Health(NO_LINK_TESTS)
    health.watch_peer(PEER, START_MS)  # down from the start
    health.watch_peer(OTHER, START_MS + 1_000)
    health.link_up(OTHER, START_MS + 1_000)
    health.numbering(OTHER, (5, 3), None, START_MS + 2_000)
    health.urgent_queued(OTHER, "ALPHA-000001", Precedence.IMMEDIATE, START_MS + 3_000)
    health.hook("timed out", START_MS + 4_000)
    health.set_latched([latched(9, Kind.ALLEGED_EQUIVOCATION, START_MS + 5_000), latched(3)])
    now = START_MS + 60 * GRACE
    assert [(a.kind, a.peer, a.level) for a in health.alarms(now)] == [
        (Kind.EQUIVOCATION, PEER, Level.COMMANDER),
        (Kind.PEER_UNREACHABLE, PEER, Level.COMMANDER),
        (Kind.STORE_BEHIND, OTHER, Level.COMMANDER),
        (Kind.HOOK_FAILED, None, Level.SUPERVISOR),
        (Kind.URGENT_UNDELIVERED, OTHER, Level.DUTY_OFFICER),
        (Kind.ALLEGED_EQUIVOCATION, PEER, Level.DUTY_OFFICER),
    ]


def test_reading_the_alarms_changes_nothing() -> None:
    health = linked()
    health.urgent_queued(PEER, "ALPHA-000001", Precedence.FLASH, START_MS)
    health.link_test_sent(PEER, START_MS)
    later = health.alarms(START_MS + 10 * INTERVAL)
    assert health.alarms(START_MS) == []
    assert health.alarms(START_MS + 10 * INTERVAL) == later


# -- when to look again --------------------------------------------------------------------------


def test_nothing_to_wait_for_without_peers() -> None:
    assert Health().wake_ms(START_MS) is None


def test_nothing_to_wait_for_when_all_is_well_and_link_tests_are_off() -> None:
    health = linked(NO_LINK_TESTS)
    health.clock(PEER, 60_000, START_MS)  # standing, but time alone will not change it
    health.hook("timed out", START_MS)
    assert health.wake_ms(START_MS) is None


def test_wake_at_each_step_of_an_unreachable_peer_then_never() -> None:
    health = Health()
    health.watch_peer(PEER, START_MS)
    assert health.wake_ms(START_MS) == START_MS + GRACE
    assert health.wake_ms(START_MS + GRACE - 1) == START_MS + GRACE
    assert health.wake_ms(START_MS + GRACE) == START_MS + 10 * GRACE
    assert health.wake_ms(START_MS + 10 * GRACE) == START_MS + 60 * GRACE
    assert health.wake_ms(START_MS + 60 * GRACE) is None


def test_wake_when_each_urgent_message_becomes_late() -> None:
    health = linked(NO_LINK_TESTS)
    health.urgent_queued(PEER, "ALPHA-000001", Precedence.IMMEDIATE, START_MS)
    health.urgent_queued(PEER, "ALPHA-000002", Precedence.FLASH, START_MS + 5_000)
    assert health.wake_ms(START_MS) == START_MS + 5_000 + FLASH_BOUND
    assert health.wake_ms(START_MS + 5_000 + FLASH_BOUND) == START_MS + IMMEDIATE_BOUND
    assert health.wake_ms(START_MS + IMMEDIATE_BOUND) is None
    health.urgent_settled(PEER, "ALPHA-000002")
    assert health.wake_ms(START_MS) == START_MS + IMMEDIATE_BOUND


def test_wake_when_a_link_test_times_out_unless_answered() -> None:
    health = linked(NO_LINK_TESTS)
    health.link_test_sent(PEER, START_MS + 7)
    assert health.wake_ms(START_MS + 7) == START_MS + 7 + TIMEOUT
    health.link_test_answered(PEER)
    assert health.wake_ms(START_MS + 7) is None


def test_wake_when_the_peers_link_tests_would_be_missing() -> None:
    health = linked()
    assert health.wake_ms(START_MS) == START_MS + 2 * INTERVAL
    health.link_test_received(PEER, START_MS + 100)
    assert health.wake_ms(START_MS + 100) == START_MS + 100 + 2 * INTERVAL


def test_wake_at_the_earliest_threshold_of_any_peer() -> None:
    health = linked(NO_LINK_TESTS, PEER, OTHER)
    health.link_test_sent(PEER, START_MS)
    health.urgent_queued(OTHER, "ALPHA-000001", Precedence.FLASH, START_MS)
    health.link_down(OTHER, START_MS + 1_000)
    assert health.wake_ms(START_MS) == START_MS + FLASH_BOUND
    assert health.wake_ms(START_MS + FLASH_BOUND) == START_MS + 1_000 + GRACE
    assert health.wake_ms(START_MS + 1_000 + GRACE) == START_MS + TIMEOUT


def test_waking_at_the_threshold_finds_the_alarm_raised() -> None:
    health = Health()
    health.watch_peer(PEER, START_MS)
    wake = health.wake_ms(START_MS)
    assert wake is not None
    assert health.alarms(wake - 1) == []
    assert [a.kind for a in health.alarms(wake)] == [Kind.PEER_UNREACHABLE]


# -- changes between two readings ----------------------------------------------------------------


def test_changes_report_raised_escalated_and_cleared() -> None:
    health = Health()
    health.watch_peer(PEER, START_MS)
    health.hook("timed out", START_MS)
    first = health.alarms(START_MS)
    assert [(c.event, c.alarm.kind) for c in changes([], first)] == [(Event.RAISED, Kind.HOOK_FAILED)]

    second = health.alarms(START_MS + GRACE)
    assert [(c.event, c.alarm.kind) for c in changes(first, second)] == [(Event.RAISED, Kind.PEER_UNREACHABLE)]

    third = health.alarms(START_MS + 10 * GRACE)
    found = changes(second, third)
    assert [(c.event, c.alarm.kind, c.alarm.level) for c in found] == [
        (Event.ESCALATED, Kind.PEER_UNREACHABLE, Level.SUPERVISOR)
    ]

    assert changes(third, health.alarms(START_MS + 11 * GRACE)) == []  # the same alarm, still standing

    health.link_up(PEER, START_MS + 11 * GRACE)
    health.hook(None, START_MS + 11 * GRACE)
    fourth = health.alarms(START_MS + 11 * GRACE)
    cleared = changes(third, fourth)
    assert {(c.event, c.alarm.kind) for c in cleared} == {
        (Event.CLEARED, Kind.PEER_UNREACHABLE),
        (Event.CLEARED, Kind.HOOK_FAILED),
    }
    assert fourth == []


def test_a_lower_level_is_not_a_change() -> None:
    high = Alarm(Kind.URGENT_UNDELIVERED, PEER, None, Level.SUPERVISOR, START_MS)
    low = replace(high, level=Level.DUTY_OFFICER)
    assert changes([high], [low]) == []
    assert [c.event for c in changes([low], [high])] == [Event.ESCALATED]


def test_latched_alarms_change_by_number() -> None:
    seven = latched(7)
    seen_again = replace(seven, count=5, facts={"reason": "another"})
    assert changes([seven], [seen_again]) == []
    assert [(c.event, c.alarm.number) for c in changes([seven], [latched(8)])] == [
        (Event.CLEARED, 7),
        (Event.RAISED, 8),
    ]


def test_changes_come_most_urgent_first() -> None:
    duty = Alarm(Kind.LINK_TEST_FAILED, PEER, None, Level.DUTY_OFFICER, START_MS)
    commander = Alarm(Kind.PEER_STORE_BEHIND, OTHER, None, Level.COMMANDER, START_MS + 1)
    loudest = Alarm(Kind.STORE_BEHIND, PEER, None, Level.COMMANDER, START_MS + 2)
    found = changes([duty], [commander, loudest])
    assert [(c.event, c.alarm.kind) for c in found] == [
        (Event.RAISED, Kind.STORE_BEHIND),
        (Event.RAISED, Kind.PEER_STORE_BEHIND),
        (Event.CLEARED, Kind.LINK_TEST_FAILED),
    ]


# -- properties over any sequence of observations ------------------------------------------------

PEERS = (PEER, OTHER)
SERIALS = ("ALPHA-000001", "ALPHA-000002", "ALPHA-000003")
# Short bounds so that random times cross them.
SMALL = Limits(unreachable_ms=1_000, link_test_interval_ms=5_000, link_test_timeout_ms=2_000, clock_tolerance_ms=500)

Observation = Callable[[Health, int], object]  # what an observation returns is not looked at


def _observations() -> st.SearchStrategy[Observation]:
    peer = st.sampled_from(PEERS)
    behind = st.none() | st.tuples(st.integers(1, 50), st.integers(1, 50))

    def up(p: str) -> Observation:
        return lambda h, t: h.link_up(p, t)

    def down(p: str) -> Observation:
        return lambda h, t: h.link_down(p, t)

    def queued(p: str, s: str, precedence: Precedence) -> Observation:
        return lambda h, t: h.urgent_queued(p, s, precedence, t)

    def settled(p: str, s: str) -> Observation:
        return lambda h, _t: h.urgent_settled(p, s)

    def sent(p: str) -> Observation:
        return lambda h, t: h.link_test_sent(p, t)

    def answered(p: str) -> Observation:
        return lambda h, _t: h.link_test_answered(p)

    def received(p: str) -> Observation:
        return lambda h, t: h.link_test_received(p, t)

    def clock(p: str, skew: int, subject: str | None) -> Observation:
        return lambda h, t: h.clock(p, skew, t, subject)

    def numbering(p: str, ours: tuple[int, int] | None, theirs: tuple[int, int] | None) -> Observation:
        return lambda h, t: h.numbering(p, ours, theirs, t)

    def hook(failure: str | None) -> Observation:
        return lambda h, t: h.hook(failure, t)

    def latch(numbers: list[int]) -> Observation:
        return lambda h, _t: h.set_latched(latched(n) for n in numbers)

    return st.one_of(
        st.builds(up, peer),
        st.builds(down, peer),
        st.builds(queued, peer, st.sampled_from(SERIALS), st.sampled_from(list(Precedence))),
        st.builds(settled, peer, st.sampled_from(SERIALS)),
        st.builds(sent, peer),
        st.builds(answered, peer),
        st.builds(received, peer),
        st.builds(clock, peer, st.integers(-2_000, 2_000), st.none()),
        st.builds(numbering, peer, behind, behind),
        st.builds(hook, st.none() | st.just("timed out")),
        st.builds(latch, st.lists(st.integers(1, 20), unique=True, max_size=3)),
    )


@st.composite
def histories(draw: st.DrawFn) -> tuple[Health, int]:
    """A health after a random run of observations at increasing times; the time of the last."""
    health = Health(SMALL)
    now = START_MS
    for peer in PEERS:
        health.watch_peer(peer, now)
    for step, observe in draw(st.lists(st.tuples(st.integers(0, 3_000), _observations()), max_size=15)):
        now += step
        observe(health, now)
    return health, now


def levels(alarms: list[Alarm]) -> dict[str, Level]:
    return {a.key: a.level for a in alarms}


FAST = settings(max_examples=50, deadline=None)


@FAST
@given(histories(), st.integers(0, 20_000), st.integers(0, 20_000))
def test_a_standing_alarm_stays_and_never_calls_lower_as_time_alone_passes(
    history: tuple[Health, int], first: int, then: int
) -> None:
    health, now = history
    earlier = levels(health.alarms(now + first))
    later = levels(health.alarms(now + first + then))
    for key, level in earlier.items():
        assert key in later, key
        assert later[key] >= level, key


@FAST
@given(histories(), st.integers(0, 20_000))
def test_alarms_are_a_function_of_the_time(history: tuple[Health, int], after: int) -> None:
    health, now = history
    assert health.alarms(now + after) == health.alarms(now + after)
    keys = [a.key for a in health.alarms(now + after)]
    assert len(keys) == len(set(keys))  # one alarm per key: changes() can tell them apart


@FAST
@given(histories(), st.integers(0, 20_000))
def test_nothing_changes_before_the_wake_time(history: tuple[Health, int], after: int) -> None:
    health, now = history
    now += after
    wake = health.wake_ms(now)
    standing_now = levels(health.alarms(now))
    if wake is None:
        assert levels(health.alarms(now + 10**9)) == standing_now
    else:
        assert wake > now
        assert levels(health.alarms(wake - 1)) == standing_now


@FAST
@given(histories(), st.integers(0, 20_000), histories(), st.integers(0, 20_000))
def test_changes_account_for_every_key(
    one: tuple[Health, int], one_after: int, other: tuple[Health, int], other_after: int
) -> None:
    before = one[0].alarms(one[1] + one_after)
    after = other[0].alarms(other[1] + other_after)
    assert changes(before, before) == []
    assert [c.event for c in changes([], after)] == [Event.RAISED] * len(after)
    assert [c.event for c in changes(before, [])] == [Event.CLEARED] * len(before)

    found = changes(before, after)
    old, new = levels(before), levels(after)
    by_event = {event: {c.alarm.key for c in found if c.event is event} for event in Event}
    assert by_event[Event.RAISED] == new.keys() - old.keys()
    assert by_event[Event.CLEARED] == old.keys() - new.keys()
    assert by_event[Event.ESCALATED] == {k for k in new.keys() & old.keys() if new[k] > old[k]}
    assert len(found) == sum(len(keys) for keys in by_event.values())
    urgencies = [c.alarm.urgency() for c in found]
    assert urgencies == sorted(urgencies)


def test_a_witness_sends_no_link_tests_and_is_not_expected_to() -> None:
    # Link tests go between parties only: a neutral witness neither sends nor answers them, so
    # its silence is no alarm (it would stand for ever and keep /v1/health at 503).
    health = Health(LIMITS)
    health.watch_peer("OSCE", START_MS, sends_link_tests=False)
    health.link_up("OSCE", START_MS)
    health.watch_peer(PEER, START_MS)
    health.link_up(PEER, START_MS)
    later = START_MS + 10 * INTERVAL
    assert standing(health, later, Kind.LINK_TEST_MISSING, "OSCE") is None
    assert standing(health, later, Kind.LINK_TEST_MISSING, PEER) is not None


# -- paths ---------------------------------------------------------------------------------------


def test_a_path_down_while_another_carries_calls_the_duty_officer_after_its_grace() -> None:
    health = linked()
    health.path_down(PEER, 2, "198.51.100.7:7101", START_MS)
    limit = health.limits.path_down_ms
    assert health.alarms(START_MS + limit - 1) == []  # a flap within the grace raises nothing
    assert health.wake_ms(START_MS) == START_MS + limit
    alarm = the(health, START_MS + limit, Kind.PATH_DOWN)
    assert (alarm.level, alarm.subject, alarm.loudest) == (Level.DUTY_OFFICER, "2", False)
    assert alarm.facts == {"path": 2, "address": "198.51.100.7:7101"}
    assert alarm.key == f"path-down/{PEER}/2"
    health.path_down(PEER, 2, "198.51.100.7:7101", START_MS + limit)  # still down: dated from the first
    assert the(health, START_MS + limit, Kind.PATH_DOWN).since_ms == START_MS
    health.path_up(PEER, 2)
    assert health.alarms(START_MS + 2 * limit) == []


def test_with_every_path_down_only_the_peer_is_unreachable() -> None:
    health = Health()
    health.watch_peer(PEER, START_MS)
    health.path_down(PEER, 1, "192.0.2.1:7101", START_MS)
    health.path_down(PEER, 2, "198.51.100.7:7101", START_MS)
    kinds = [a.kind for a in health.alarms(START_MS + GRACE)]
    assert kinds == [Kind.PEER_UNREACHABLE]
