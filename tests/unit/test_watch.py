"""Deadlines and escalation, driven by a fake clock: nothing here sleeps."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hotline.envelope import Precedence
from hotline.testing import FakeClock
from hotline.watch import (
    DEFAULT_DEADLINES,
    Alert,
    DeadlinePolicy,
    Level,
    Outcome,
    Side,
    Stage,
    Tracked,
    Watch,
    current_alert,
    escalation,
    next_watch_change,
    parse_watch_changes,
)

START_MS = 1_795_000_000_000
POLICY = DeadlinePolicy()

# For each precedence, the alerts each side must see as time passes (fraction of the deadline,
# stage, level), from DESIGN.md's table.
EXPECTED: dict[Precedence, dict[Side, list[tuple[float, Stage, Level]]]] = {
    Precedence.FLASH: {
        Side.RECEIVER: [
            (0, Stage.ALARM, Level.DUTY_OFFICER),
            (0.5, Stage.APPROACHING, Level.SUPERVISOR),
            (1, Stage.OVERDUE, Level.COMMANDER),
        ],
        Side.SENDER: [(0.5, Stage.APPROACHING, Level.DUTY_OFFICER), (1, Stage.OVERDUE, Level.COMMANDER)],
    },
    Precedence.IMMEDIATE: {
        Side.RECEIVER: [(0.5, Stage.APPROACHING, Level.SUPERVISOR), (1, Stage.OVERDUE, Level.COMMANDER)],
        Side.SENDER: [(0.5, Stage.APPROACHING, Level.DUTY_OFFICER), (1, Stage.OVERDUE, Level.SUPERVISOR)],
    },
    Precedence.PRIORITY: {
        Side.RECEIVER: [(1, Stage.OVERDUE, Level.SUPERVISOR)],
        Side.SENDER: [(1, Stage.OVERDUE, Level.SUPERVISOR)],
    },
    Precedence.ROUTINE: {
        Side.RECEIVER: [(1, Stage.OVERDUE, Level.SUPERVISOR)],
        Side.SENDER: [(1, Stage.OVERDUE, Level.SUPERVISOR)],
    },
}


def tracked(precedence: Precedence, side: Side, kind: str = "incident_report", acked: int | None = None) -> Tracked:
    due = POLICY.due_ms(START_MS, precedence, kind)
    assert due is not None
    effective = POLICY.effective_precedence(precedence, kind)
    return Tracked("GENSTAB-000001", side, "GENSTAB", effective, kind, START_MS, due, acked)


class WatchRun:
    """A watch driven the way the node drives it: advance to each wake time, collect alerts."""

    def __init__(self, item: Tracked) -> None:
        self.clock = FakeClock(now=START_MS)
        self.watch = Watch([item])
        self.seen: list[tuple[float, Stage, Level]] = []
        self.deadline = item.due_ms - item.start_ms

    def run_until(self, until_ms: int) -> None:
        self._collect()
        while (wake := self.watch.wake_ms(int(self.clock.now))) is not None and wake <= until_ms:
            self.clock.now = wake
            self._collect()
        self.clock.now = until_ms
        self._collect()

    def _collect(self) -> None:
        for alert in self.watch.advance(int(self.clock.now)):
            fraction = (alert.since_ms - START_MS) / self.deadline
            self.seen.append((fraction, alert.stage, alert.level))


@pytest.mark.parametrize("side", list(Side))
@pytest.mark.parametrize("precedence", list(Precedence))
def test_never_acknowledged_escalates_through_every_step(precedence: Precedence, side: Side) -> None:
    run = WatchRun(tracked(precedence, side))
    run.run_until(START_MS + 2 * DEFAULT_DEADLINES[precedence] * 1000)
    assert run.seen == EXPECTED[precedence][side]
    assert run.watch.wake_ms(int(run.clock.now)) is None  # overdue is the last step
    item = tracked(precedence, side)
    assert item.outcome(int(run.clock.now)) is Outcome.OVERDUE
    assert item.outcome(item.due_ms - 1) is Outcome.WAITING


@pytest.mark.parametrize("side", list(Side))
@pytest.mark.parametrize("precedence", list(Precedence))
def test_acknowledged_in_time_stops_escalation(precedence: Precedence, side: Side) -> None:
    deadline_ms = DEFAULT_DEADLINES[precedence] * 1000
    run = WatchRun(tracked(precedence, side))
    ack_at = START_MS + deadline_ms * 3 // 4  # after the half-way step, before the deadline
    run.run_until(ack_at)
    before = [s for s in EXPECTED[precedence][side] if s[0] < 1]
    assert run.seen == before
    acked = tracked(precedence, side, acked=ack_at)
    run.watch.track(acked)
    assert run.watch.alerts(ack_at) == []
    run.run_until(START_MS + 2 * deadline_ms)
    assert run.seen == before  # nothing more: the deadline passed with the message acknowledged
    assert acked.outcome(START_MS + 2 * deadline_ms) is Outcome.IN_TIME


@pytest.mark.parametrize("precedence", list(Precedence))
def test_acknowledged_late_is_recorded_late_and_clears_the_alert(precedence: Precedence) -> None:
    deadline_ms = DEFAULT_DEADLINES[precedence] * 1000
    run = WatchRun(tracked(precedence, Side.RECEIVER))
    late = START_MS + deadline_ms + 60_000
    run.run_until(late)
    assert run.seen[-1][1] is Stage.OVERDUE
    assert [a.stage for a in run.watch.alerts(late)] == [Stage.OVERDUE]
    acked = tracked(precedence, Side.RECEIVER, acked=late)
    run.watch.track(acked)
    assert run.watch.alerts(late) == []
    assert len(run.watch) == 0
    assert acked.outcome(late) is Outcome.LATE


def test_unanswered_readiness_check_is_the_loudest_alert_on_both_sides() -> None:
    # Sent as ROUTINE, a readiness check is still due within the FLASH deadline.
    flash_ms = DEFAULT_DEADLINES[Precedence.FLASH] * 1000
    readiness = tracked(Precedence.ROUTINE, Side.RECEIVER, kind="readiness_check")
    assert readiness.due_ms - START_MS == flash_ms
    other = Tracked(
        "GENSTAB-000002", Side.RECEIVER, "GENSTAB", Precedence.FLASH, "missile_launch", START_MS, START_MS + flash_ms
    )
    sender_side = Tracked(
        "SACEUR-000009", Side.SENDER, "GENSTAB", Precedence.FLASH, "readiness_check", START_MS, START_MS + flash_ms
    )
    watch = Watch([other, readiness, sender_side])
    alerts = watch.alerts(START_MS + flash_ms)
    assert [a.serial for a in alerts[:2]] == sorted(["GENSTAB-000001", "SACEUR-000009"])
    assert all(a.loudest and a.level is Level.COMMANDER for a in alerts[:2])
    assert not alerts[2].loudest


def test_alerts_are_sorted_most_urgent_first() -> None:
    def item(serial: str, prec: Precedence, start: int) -> Tracked:
        due = POLICY.due_ms(start, prec, "incident_report")
        assert due is not None
        return Tracked(serial, Side.RECEIVER, "GENSTAB", prec, "incident_report", start, due)

    now = START_MS + 4 * 3600_000
    watch = Watch(
        [
            item("A-000001", Precedence.ROUTINE, START_MS - 7 * 3600_000),  # overdue: supervisor
            item("A-000002", Precedence.FLASH, now - 60_000),  # alarm: duty officer
            item("A-000003", Precedence.IMMEDIATE, START_MS),  # overdue: commander
            item("A-000004", Precedence.FLASH, now - 8 * 60_000),  # half-way: supervisor
        ]
    )
    assert [a.serial for a in watch.alerts(now)] == ["A-000003", "A-000004", "A-000001", "A-000002"]


def test_machine_kinds_have_no_deadline_and_per_peer_overrides_apply() -> None:
    assert POLICY.due_ms(START_MS, Precedence.FLASH, "ack") is None
    assert POLICY.due_ms(START_MS, Precedence.FLASH, "link_test") is None
    agreed = POLICY.with_overrides({"FLASH": 300})
    assert agreed.due_ms(START_MS, Precedence.FLASH, "missile_launch") == START_MS + 300_000
    assert agreed.due_ms(START_MS, Precedence.ROUTINE, "free_text") == START_MS + 6 * 3600_000
    with pytest.raises(ValueError, match="unknown precedence 'URGENT'"):
        POLICY.with_overrides({"URGENT": 60})
    with pytest.raises(ValueError, match="between 1 second and 7 days"):
        POLICY.with_overrides({"FLASH": 0})


def test_watch_changes() -> None:
    changes = parse_watch_changes(["18:00", "06:00"])
    assert changes == (360, 1080)
    day = START_MS - START_MS % 86_400_000
    assert next_watch_change(day, changes) == day + 6 * 3600_000
    assert next_watch_change(day + 6 * 3600_000, changes) == day + 18 * 3600_000
    assert next_watch_change(day + 20 * 3600_000, changes) == day + 30 * 3600_000
    assert next_watch_change(day, ()) is None
    for bad in ["6:00", "24:00", "06:60", "noon"]:
        with pytest.raises(ValueError, match="not a UTC time"):
            parse_watch_changes([bad])


def settled(acked: int | None, now: int) -> bool:
    return acked is not None and START_MS + acked <= now


@given(
    st.lists(
        st.tuples(
            st.sampled_from(list(Precedence)),
            st.sampled_from(list(Side)),
            st.integers(0, 8 * 3600_000),  # start, after START_MS
            st.one_of(st.none(), st.integers(0, 16 * 3600_000)),  # acknowledged, after the start
        ),
        max_size=30,
    ),
    st.lists(st.integers(0, 16 * 3600_000), min_size=1, max_size=8),
)
def test_the_watch_agrees_with_each_item_judged_alone(
    specs: list[tuple[Precedence, Side, int, int | None]], times: list[int]
) -> None:
    """However items are added, settled and looked at, the watch shows exactly the alerts each
    item raises on its own (the heap is an optimisation, never a change of meaning)."""
    items = []
    for n, (precedence, side, offset, _) in enumerate(specs):
        start = START_MS + offset
        due = POLICY.due_ms(start, precedence, "incident_report")
        assert due is not None
        items.append(Tracked(f"A-{n:06d}", side, "GENSTAB", precedence, "incident_report", start, due))
    watch = Watch(items)
    for now in sorted(START_MS + t for t in times):
        for n, spec in enumerate(specs):
            acked = spec[3]
            if settled(acked, now):
                watch.settle(items[n].side, items[n].serial)
        open_items = [item for item, spec in zip(items, specs, strict=True) if not settled(spec[3], now)]
        expected = sorted(
            (alert for item in open_items if (alert := current_alert(item, now)) is not None),
            key=lambda a: a.urgency(),
        )
        assert watch.alerts(now) == expected
        wake = watch.wake_ms(now)
        assert wake is None or wake > now


def test_a_look_at_a_large_watch_judges_only_what_falls_due(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fifty thousand open ROUTINE messages: a node looks at its watch after every stored batch,
    and that look must not judge them all (an earlier version did, and slowed delivery tenfold)."""
    items = [
        Tracked(f"A-{n:06d}", Side.RECEIVER, "GENSTAB", Precedence.ROUTINE, "free_text", START_MS, START_MS + 21600_000)
        for n in range(50_000)
    ]
    items[7] = Tracked(
        "A-000007", Side.RECEIVER, "GENSTAB", Precedence.FLASH, "free_text", START_MS, START_MS + 600_000
    )
    judged = []
    original = escalation.current_alert

    def counting(item: Tracked, now_ms: int) -> Alert | None:
        judged.append(item.serial)
        return original(item, now_ms)

    monkeypatch.setattr(escalation, "current_alert", counting)
    watch = Watch(items)
    [alarm] = watch.advance(START_MS + 1000)  # only the FLASH has a step due: its alarm
    assert (alarm.serial, judged) == ("A-000007", ["A-000007"])
    for turn in range(100):
        watch.advance(START_MS + 2000 + turn)
        watch.wake_ms(START_MS + 2000 + turn)
    assert judged == ["A-000007"]
    assert watch.wake_ms(START_MS + 2000) == START_MS + 300_000  # the FLASH's half-way step
    assert len(watch.advance(START_MS + 21600_000)) == 50_000  # all fall overdue together
    # Every board sorts the standing alerts, on the loop that carries the links: sorted once
    # until one changes, not once per look.
    sorts: list[str] = []
    urgency = Alert.urgency

    def counted(alert: Alert) -> tuple[int, int, int, int, str]:
        sorts.append(alert.serial)
        return urgency(alert)

    monkeypatch.setattr(Alert, "urgency", counted)
    first = watch.alerts(START_MS + 21600_000)
    assert len(sorts) == 50_000
    for turn in range(10):
        assert watch.alerts(START_MS + 21600_001 + turn) == first
    assert len(sorts) == 50_000
    watch.settle(Side.RECEIVER, "A-000011")
    assert len(watch.alerts(START_MS + 21600_100)) == 49_999
    assert len(sorts) == 50_000 + 49_999
