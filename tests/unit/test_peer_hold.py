"""Traffic held on purpose (``hotline peer suspend|remove``, ``watch/alarms.py`` ``Hold``): the
board says who held it instead of "peer unreachable", and a FLASH waiting meanwhile is still said."""

from __future__ import annotations

from hotline.envelope import Precedence
from hotline.watch.alarms import Health, Hold, Kind, Limits
from hotline.watch.escalation import Level
from hotline.watch.wording import summary

START = 1_795_000_000_000
HOUR = 3_600_000
LIMITS = Limits()


def watched(hold: Hold | None = None) -> Health:
    health = Health()
    health.watch_peer("GENSTAB", START)
    health.link_up("GENSTAB", START)
    health.link_down("GENSTAB", START + 1_000)
    if hold is not None:
        health.hold("GENSTAB", hold, START + 1_000, {"by_name": "watch"})
    return health


def kinds(health: Health, now: int) -> list[Kind]:
    return [alarm.kind for alarm in health.alarms(now)]


def test_a_peer_we_suspended_is_not_unreachable_but_a_waiting_flash_is_still_said() -> None:
    health = watched(Hold.SUSPENDED_BY_US)
    health.urgent_queued("GENSTAB", "SACEUR-000009", Precedence.FLASH, START + 2_000)
    alarms = {alarm.kind: alarm for alarm in health.alarms(START + HOUR)}
    assert set(alarms) == {Kind.SUSPENDED, Kind.URGENT_UNDELIVERED}
    suspended = alarms[Kind.SUSPENDED]
    assert (suspended.level, suspended.facts["by"]) == (Level.DUTY_OFFICER, "us")
    assert "watch" in summary(suspended, "en", START + HOUR)
    assert health.wake_ms(START + HOUR) is None, "nothing more changes by time while it is held"


def test_a_peer_that_suspended_us_says_so_until_a_link_comes_up() -> None:
    health = watched(Hold.SUSPENDED_BY_PEER)
    [alarm] = health.alarms(START + HOUR)
    assert (alarm.kind, alarm.facts["by"]) == (Kind.SUSPENDED, "peer")
    assert "GENSTAB has suspended traffic with us" in summary(alarm, "en", START + HOUR)
    assert "Сторона GENSTAB приостановила обмен с нами" in summary(alarm, "ru", START + HOUR)
    health.link_up("GENSTAB", START + HOUR)  # it resumed and a link came up
    assert kinds(health, START + HOUR) == []


def test_a_peer_we_removed_raises_nothing_and_one_that_removed_us_calls_the_supervisor() -> None:
    ours = watched(Hold.REMOVED_BY_US)
    ours.urgent_queued("GENSTAB", "SACEUR-000009", Precedence.FLASH, START + 2_000)
    assert kinds(ours, START + 100 * HOUR) == []
    theirs = watched(Hold.REMOVED_BY_PEER)
    [alarm] = theirs.alarms(START + HOUR)
    assert (alarm.kind, alarm.level) == (Kind.REMOVED_BY_PEER, Level.SUPERVISOR)


def test_after_a_resume_the_grace_for_coming_back_starts_again() -> None:
    health = watched(Hold.SUSPENDED_BY_US)
    resumed = START + 2 * HOUR
    health.hold("GENSTAB", None, resumed)
    assert kinds(health, resumed + 1_000) == [], "not unreachable for two hours at once"
    assert kinds(health, resumed + LIMITS.unreachable_ms) == [Kind.PEER_UNREACHABLE]
    [alarm] = health.alarms(resumed + LIMITS.unreachable_ms)
    assert alarm.level is Level.DUTY_OFFICER
