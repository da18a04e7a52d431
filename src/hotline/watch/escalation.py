"""Escalation: who must be told, and how loudly, while an acknowledgement is awaited.

DESIGN.md's table, as steps at fractions of the deadline:

    FLASH      alarm at once; supervisor at half; commander, and the sender's side, when overdue
    IMMEDIATE  supervisor at half; commander when overdue
    PRIORITY   supervisor when overdue
    ROUTINE    supervisor when overdue

The receiving side is chased to acknowledge; the sending side is told as its deadline nears
(FLASH and IMMEDIATE, at half) and when it passes, so both know when a person did not answer.
An unanswered readiness check is the loudest alert there is: it means nobody is on watch.
"""

from __future__ import annotations

import enum
import heapq
import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction

from hotline.envelope.model import Precedence


class Level(enum.IntEnum):
    """Who an alert calls for; higher is louder."""

    DUTY_OFFICER = 1
    SUPERVISOR = 2
    COMMANDER = 3

    @property
    def label(self) -> str:
        return self.name.lower()


class Side(enum.StrEnum):
    RECEIVER = "receiver"  # we hold a peer's message that a person here must acknowledge
    SENDER = "sender"  # we sent a message that a person there must acknowledge


class Stage(enum.StrEnum):
    ALARM = "alarm"  # a FLASH has arrived
    APPROACHING = "approaching"  # half the time is gone
    OVERDUE = "overdue"  # the deadline has passed


class Outcome(enum.StrEnum):
    IN_TIME = "in_time"
    LATE = "late"
    WAITING = "waiting"  # not acknowledged, deadline not yet passed
    OVERDUE = "overdue"  # not acknowledged, deadline passed


@dataclass(frozen=True)
class Step:
    fraction: Fraction
    stage: Stage
    receiver: Level | None  # the level called at the receiving side, if any
    sender: Level | None  # the level called at the sending side, if any


_R, _S = Side.RECEIVER, Side.SENDER
_HALF, _DUE = Fraction(1, 2), Fraction(1)
STEPS: dict[Precedence, tuple[Step, ...]] = {
    Precedence.FLASH: (
        Step(Fraction(0), Stage.ALARM, Level.DUTY_OFFICER, None),
        Step(_HALF, Stage.APPROACHING, Level.SUPERVISOR, Level.DUTY_OFFICER),
        Step(_DUE, Stage.OVERDUE, Level.COMMANDER, Level.COMMANDER),
    ),
    Precedence.IMMEDIATE: (
        Step(_HALF, Stage.APPROACHING, Level.SUPERVISOR, Level.DUTY_OFFICER),
        Step(_DUE, Stage.OVERDUE, Level.COMMANDER, Level.SUPERVISOR),
    ),
    Precedence.PRIORITY: (Step(_DUE, Stage.OVERDUE, Level.SUPERVISOR, Level.SUPERVISOR),),
    Precedence.ROUTINE: (Step(_DUE, Stage.OVERDUE, Level.SUPERVISOR, Level.SUPERVISOR),),
}


@dataclass(frozen=True)
class Tracked:
    """A message awaiting (or given) a person's acknowledgement, on one side of the channel."""

    serial: str
    side: Side
    peer: str
    precedence: Precedence  # the effective one: a readiness check is tracked as FLASH
    kind: str
    start_ms: int
    due_ms: int
    acknowledged_ms: int | None = None

    @property
    def readiness(self) -> bool:
        return self.kind == "readiness_check"

    def step_ms(self, step: Step) -> int:
        return self.start_ms + int((self.due_ms - self.start_ms) * step.fraction)

    def outcome(self, now_ms: int) -> Outcome:
        return outcome(self.due_ms, self.acknowledged_ms, now_ms)


def outcome(due_ms: int, acknowledged_ms: int | None, now_ms: int) -> Outcome:
    """How an acknowledgement stands against its deadline, as either side's clock judges it."""
    if acknowledged_ms is not None:
        return Outcome.IN_TIME if acknowledged_ms <= due_ms else Outcome.LATE
    return Outcome.WAITING if now_ms < due_ms else Outcome.OVERDUE


@dataclass(frozen=True)
class Alert:
    serial: str
    side: Side
    peer: str
    precedence: Precedence
    kind: str
    stage: Stage
    level: Level
    since_ms: int
    due_ms: int

    @property
    def loudest(self) -> bool:
        """Nobody answered a readiness check: the watch itself may be empty."""
        return self.kind == "readiness_check" and self.stage is Stage.OVERDUE

    def urgency(self) -> tuple[int, int, int, int, str]:
        """Sort key, most urgent first."""
        return (0 if self.loudest else 1, -self.level, self.precedence.rank, self.due_ms, self.serial)


def _steps(item: Tracked) -> list[tuple[Step, Level]]:
    chosen = []
    for step in STEPS[item.precedence]:
        level = step.receiver if item.side is Side.RECEIVER else step.sender
        if level is not None:
            chosen.append((step, level))
    return chosen


def current_alert(item: Tracked, now_ms: int) -> Alert | None:
    """The alert standing for ``item`` at ``now_ms``: its latest step reached, if unacknowledged."""
    if item.acknowledged_ms is not None:
        return None
    reached = [(step, level) for step, level in _steps(item) if item.step_ms(step) <= now_ms]
    if not reached:
        return None
    step, level = reached[-1]
    if item.readiness and step.stage is Stage.OVERDUE:
        level = Level.COMMANDER
    return Alert(
        item.serial,
        item.side,
        item.peer,
        item.precedence,
        item.kind,
        step.stage,
        level,
        item.step_ms(step),
        item.due_ms,
    )


def next_change(item: Tracked, now_ms: int) -> int | None:
    """When the alert for ``item`` next changes, or None if it never will."""
    if item.acknowledged_ms is not None:
        return None
    upcoming = [item.step_ms(step) for step, _ in _steps(item) if item.step_ms(step) > now_ms]
    return min(upcoming, default=None)


class Watch:
    """The open acknowledgements a node is waiting for, and the alerts they raise.

    The node adds what it stores and settles what is acknowledged; ``advance`` says which alerts
    reached a new stage since the last call (to be announced), and ``wake_ms`` when to call
    again. A node may hold tens of thousands of open messages (a ROUTINE is open for six hours),
    so each one is looked at only when its next step falls due: a heap of step times, and a
    table of the alerts that stand.
    """

    def __init__(self, items: Iterable[Tracked] = ()) -> None:
        self._items: dict[tuple[Side, str], tuple[int, Tracked]] = {}  # key -> (version, item)
        self._due: list[tuple[int, int, tuple[Side, str]]] = []  # (step time, version, key)
        self._standing: dict[tuple[Side, str], Alert] = {}
        self._fresh: dict[tuple[Side, str], Alert] = {}  # reached a new stage, not yet announced
        # The standing alerts in order, kept until one changes: every board sorts them, on the
        # loop that carries the links, and six hours into a large backlog every ROUTINE stands.
        self._ordered: list[Alert] | None = None
        self._versions = itertools.count()
        for item in items:
            self.track(item)

    def track(self, item: Tracked) -> None:
        key = (item.side, item.serial)
        if item.acknowledged_ms is not None:
            self.settle(item.side, item.serial)
            return
        version = next(self._versions)
        self._items[key] = (version, item)
        if self._standing.pop(key, None) is not None:
            self._ordered = None
        self._fresh.pop(key, None)
        steps = _steps(item)
        if steps:
            heapq.heappush(self._due, (item.step_ms(steps[0][0]), version, key))

    def settle(self, side: Side, serial: str) -> None:
        key = (side, serial)
        self._items.pop(key, None)  # its heap entry goes stale, and is dropped when it surfaces
        if self._standing.pop(key, None) is not None:
            self._ordered = None
        self._fresh.pop(key, None)
        if len(self._due) > 2 * len(self._items) + 1024:
            self._due = [entry for entry in self._due if self._live(entry)]
            heapq.heapify(self._due)

    def _live(self, entry: tuple[int, int, tuple[Side, str]]) -> bool:
        current = self._items.get(entry[2])
        return current is not None and current[0] == entry[1]

    def _refresh(self, now_ms: int) -> None:
        while self._due and self._due[0][0] <= now_ms:
            entry = heapq.heappop(self._due)
            if not self._live(entry):
                continue
            key, version = entry[2], entry[1]
            item = self._items[key][1]
            alert = current_alert(item, now_ms)
            if alert is not None and (key not in self._standing or self._standing[key].stage is not alert.stage):
                self._standing[key] = alert
                self._fresh[key] = alert
                self._ordered = None
            upcoming = next_change(item, now_ms)
            if upcoming is not None:
                heapq.heappush(self._due, (upcoming, version, key))

    def alerts(self, now_ms: int) -> list[Alert]:
        """Every standing alert, most urgent first."""
        self._refresh(now_ms)
        if self._ordered is None:
            self._ordered = sorted(self._standing.values(), key=Alert.urgency)
        return list(self._ordered)

    def advance(self, now_ms: int) -> list[Alert]:
        """Alerts that reached a new stage since the last call, most urgent first."""
        self._refresh(now_ms)
        fresh, self._fresh = list(self._fresh.values()), {}
        return sorted(fresh, key=Alert.urgency)

    def wake_ms(self, now_ms: int) -> int | None:
        """When, after ``now_ms``, the next alert changes stage."""
        self._refresh(now_ms)  # what is due now is kept for the next ``advance`` to announce
        while self._due and not self._live(self._due[0]):
            heapq.heappop(self._due)
        return self._due[0][0] if self._due else None

    def open_acks(self, now_ms: int) -> dict[str, tuple[int, int, int]]:
        """Per peer: (messages of ours it has yet to acknowledge, its messages we have yet to
        acknowledge, of both those past their deadline)."""
        counts: dict[str, tuple[int, int, int]] = {}
        for _, item in self._items.values():
            they, we, overdue = counts.get(item.peer, (0, 0, 0))
            sender = item.side is Side.SENDER
            counts[item.peer] = (they + sender, we + (not sender), overdue + (item.due_ms <= now_ms))
        return counts

    def __len__(self) -> int:
        return len(self._items)
