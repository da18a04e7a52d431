"""The channel's own health: when what the node sees of itself and its peers becomes an alarm.

Pure code, like the rest of ``watch``: the node reports what it observes (a link lost, an urgent
message queued, a link test answered, a peer's clock read in a handshake), with the time it
observed it, and asks which alarms stand now and when to ask again. Nothing here reads a clock.

Two kinds of alarm:

- *Conditions* hold while their cause does and clear themselves when it goes: a peer with no
  path up for longer than a grace (the loudest there is: the hotline itself is down); one path
  of several down while the others carry the traffic; a FLASH or IMMEDIATE without the peer's receipt
  for longer than a bound of its own; our latest link test unanswered; no link test from the peer
  for two intervals; a peer whose clock differs from ours beyond a tolerance; our numbering
  behind what the peer holds (we stop signing to it: the loudest alarm there is besides an
  equivocation), or the peer's behind ours; an alarm hook that failed. Nobody can close a
  condition: a peer that is down stays on the board until it is back.
- *Latched* alarms are events with evidence kept in the store (a proven equivocation, a claim
  of one that we could not verify, a serial or numbering the peer refused or reused). They
  stand until a person closes them with a remark; closing keeps the evidence.

Why these bounds (``Limits``; each is set in ``config.toml`` under ``[alarms]``):

- *Unreachable after 30 s* without any link. A silent cut is noticed after ``dead_after``
  (15 s) and reconnection retries every 0.2-5 s, and a peer's node restarts in a few seconds: a
  shorter grace would cry wolf at every restart, a longer one eats into a FLASH's ten minutes.
  It calls the duty officer, the supervisor after ten graces (5 min), the commander after sixty
  (30 min).
- *A FLASH undelivered after 30 s, an IMMEDIATE after 2 min*: delivery takes milliseconds when
  the link works, so this is long before the acknowledgement deadline (10 and 30 min) and still
  leaves the watch time to use the telephone. A FLASH calls the supervisor, an IMMEDIATE the
  duty officer.
- *A path down after 5 s* while another carries the traffic: the failover itself takes under a
  second and needs nobody, but a path that stays down is one cable cut away from losing the
  hotline. It calls the duty officer, who has the uplink looked at; a path that flaps within
  the 5 s raises nothing (the log says each time it fell).
- *Clocks 30 s apart*: deadlines are counted on each side's own clock and every message carries
  its signing time; beyond this the two sides' records of who acted when stop agreeing.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, TypeVar

from hotline.envelope.model import Precedence
from hotline.watch.escalation import Level

T = TypeVar("T")


class Kind(enum.StrEnum):
    PEER_UNREACHABLE = "peer-unreachable"  # no path up for longer than the grace
    PATH_DOWN = "path-down"  # one path down while another carries the traffic
    URGENT_UNDELIVERED = "urgent-undelivered"  # a FLASH or IMMEDIATE without the peer's receipt
    LINK_TEST_FAILED = "link-test-failed"  # our latest link test went unanswered
    LINK_TEST_MISSING = "link-test-missing"  # none came from the peer for two intervals
    CLOCK_SKEW = "clock-skew"  # the peer's clock and ours differ beyond the tolerance
    STORE_BEHIND = "store-behind"  # the peer holds more of our numbering than our store: we stopped signing
    PEER_STORE_BEHIND = "peer-store-behind"  # the peer will resend less than we hold from it
    HOOK_FAILED = "hook-failed"  # the alarm hook could not pass an alarm on
    NUMBERING_REFUSED = "numbering-refused"  # the peer refused our sequence or serial numbering
    SERIAL_REUSED = "serial-reused"  # the peer signed a second message under a serial already used
    EQUIVOCATION = "equivocation"  # a transcript showed two histories, proven by signatures
    ALLEGED_EQUIVOCATION = "alleged-equivocation"  # a peer says so of our log, without proof we could check
    SETTINGS_DIFFER = "settings-differ"  # another node of the party runs with other settings than this one
    STANDBY_DOWN = "standby-down"  # a node of the party is not connected to its database: nothing would take over
    CONSOLE_TROUBLE = "console-trouble"  # the console's HTTPS listener failed, or its certificate ends soon
    ROTATION_REFUSED = "rotation-refused"  # a peer's key rotation statement failed a check: its keys stay
    RESTORE_LOSSES = "restore-losses"  # a store restored from a backup (ours or a peer's) did not get all back
    DECLARATION_DUE = "declaration-due"  # our scheduled declaration to a peer is overdue (declaring.py)
    DECLARATION_MISSING = "declaration-missing"  # a peer's scheduled declaration has not arrived
    SUSPENDED = "suspended"  # traffic with the peer is held, by us or by the peer (hotline peer suspend)
    REMOVED_BY_PEER = "removed-by-peer"  # the peer removed us from its peers and refuses us


# Stand until a person closes them; the others clear themselves.
LATCHED = frozenset(
    {Kind.NUMBERING_REFUSED, Kind.SERIAL_REUSED, Kind.EQUIVOCATION, Kind.ALLEGED_EQUIVOCATION}
    | {Kind.ROTATION_REFUSED, Kind.RESTORE_LOSSES}
)
# Above everything else on every screen: the channel's record itself is in doubt.
# And a peer with no path at all: the hotline itself is down.
LOUDEST = frozenset({Kind.STORE_BEHIND, Kind.EQUIVOCATION, Kind.PEER_UNREACHABLE})
# Who each latched kind calls for.
LATCHED_LEVELS: Mapping[Kind, Level] = MappingProxyType(
    {
        Kind.NUMBERING_REFUSED: Level.COMMANDER,  # every later message to that peer may be stuck
        Kind.SERIAL_REUSED: Level.SUPERVISOR,
        Kind.EQUIVOCATION: Level.COMMANDER,
        Kind.ALLEGED_EQUIVOCATION: Level.DUTY_OFFICER,  # a claim, not evidence: a lower warning
        Kind.ROTATION_REFUSED: Level.COMMANDER,  # someone holding the peer's key tried to move it elsewhere
        Kind.RESTORE_LOSSES: Level.SUPERVISOR,  # what was lost must be settled between the watches
    }
)
# (multiple of the grace, who is called) while a peer stays unreachable.
UNREACHABLE_STEPS = ((1, Level.DUTY_OFFICER), (10, Level.SUPERVISOR), (60, Level.COMMANDER))
URGENT = (Precedence.FLASH, Precedence.IMMEDIATE)
UNDELIVERED_LEVELS: Mapping[Precedence, Level] = MappingProxyType(
    {Precedence.FLASH: Level.SUPERVISOR, Precedence.IMMEDIATE: Level.DUTY_OFFICER}
)


class Hold(enum.StrEnum):
    """Traffic with a peer held on purpose, by one side's operators (``hotline peer suspend``,
    ``remove``): the peer is not "unreachable" then, and the board says who held it."""

    SUSPENDED_BY_US = "suspended-by-us"
    REMOVED_BY_US = "removed-by-us"  # nothing more is said of the peer: it was our decision
    SUSPENDED_BY_PEER = "suspended-by-peer"
    REMOVED_BY_PEER = "removed-by-peer"

    @property
    def by_peer(self) -> bool:
        return self in (Hold.SUSPENDED_BY_PEER, Hold.REMOVED_BY_PEER)


@dataclass(frozen=True)
class Limits:
    unreachable_ms: int = 30_000
    undelivered_ms: Mapping[Precedence, int] = field(
        default_factory=lambda: MappingProxyType({Precedence.FLASH: 30_000, Precedence.IMMEDIATE: 120_000})
    )
    clock_tolerance_ms: int = 30_000
    link_test_interval_ms: int = 3_600_000  # 0: no link tests, so none is missed
    link_test_timeout_ms: int = 60_000
    path_down_ms: int = 5_000


@dataclass(frozen=True)
class Alarm:
    """One alarm standing now. ``facts`` are what its wording needs (``wording.py``), kept as
    plain values so that each reader gets it in its own language."""

    kind: Kind
    peer: str | None
    subject: str | None  # what it is about, when that is one thing: a message serial, a log
    level: Level
    since_ms: int  # when its cause began
    facts: Mapping[str, Any] = field(default_factory=dict, compare=False)
    number: int | None = None  # a latched alarm's number in the store: people close it by it
    count: int = 1  # how many times a latched alarm's cause was seen while it stood

    @property
    def key(self) -> str:
        """Stable while the alarm stands: condition alarms are known by it, latched by number."""
        if self.number is not None:
            return str(self.number)
        return "/".join(part for part in (self.kind.value, self.peer, self.subject) if part)

    @property
    def latched(self) -> bool:
        return self.kind in LATCHED

    @property
    def loudest(self) -> bool:
        return self.kind in LOUDEST

    def urgency(self) -> tuple[int, int, int, str]:
        """Sort key, most urgent first."""
        return (0 if self.loudest else 1, -self.level, self.since_ms, self.key)


class Event(enum.StrEnum):
    RAISED = "raised"
    ESCALATED = "escalated"  # the same alarm now calls for someone higher
    CLEARED = "cleared"  # its cause went away (a condition) or a person closed it (latched)


@dataclass(frozen=True)
class Change:
    event: Event
    alarm: Alarm


def changes(before: Iterable[Alarm], after: Iterable[Alarm]) -> list[Change]:
    """What happened between two readings of the alarms: to announce, log and pass to the hook."""
    old = {a.key: a for a in before}
    new = {a.key: a for a in after}
    found = [Change(Event.CLEARED, alarm) for key, alarm in old.items() if key not in new]
    for key, alarm in new.items():
        if key not in old:
            found.append(Change(Event.RAISED, alarm))
        elif alarm.level > old[key].level:
            found.append(Change(Event.ESCALATED, alarm))
    return sorted(found, key=lambda c: c.alarm.urgency())


@dataclass
class PeerHealth:
    """What the node has observed of one peer, as of the last report."""

    down_since_ms: int | None  # no link on either lane since then; None while one is up
    up_since_ms: int | None = None  # a link has been up without a break since then
    undelivered: dict[Precedence, dict[str, int]] = field(default_factory=lambda: {p: {} for p in URGENT})
    link_test_sent_ms: int | None = None  # our latest link test to the peer
    link_test_answered: bool = True
    link_test_received_ms: int | None = None  # the latest link test the peer sent us
    skew_ms: int | None = None  # the peer's clock minus ours, as last measured
    skew_subject: str | None = None  # the message that showed it, if a message did
    skew_at_ms: int = 0
    store_behind: tuple[int, int] | None = None  # (the peer expects, we would sign next)
    peer_behind: tuple[int, int] | None = None  # (the peer would send next, we expect)
    sends_link_tests: bool = True  # a witness, or any peer of a witness, sends none
    store_behind_at_ms: int = 0  # when the handshake that first showed it took place
    peer_behind_at_ms: int = 0
    paths_down: dict[int, tuple[int, str | None]] = field(default_factory=dict)  # path: (since, address)
    held: tuple[Hold, int, Mapping[str, Any]] | None = None  # (how, since, facts): traffic held on purpose


class Health:
    """The channel-health alarms of one node.

    The node reports observations as they happen; ``alarms(now)`` says which stand, and
    ``wake_ms(now)`` when one may next change on its own (a grace running out). Latched alarms
    are the store's: the node hands over those still open with ``set_latched``.
    """

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self.peers: dict[str, PeerHealth] = {}
        self.hook_failure: tuple[int, str] | None = None  # (since, why)
        self.settings_differ: tuple[int, dict[int, list[str]]] | None = None  # (since, node: sections)
        self.standbys_down: tuple[int, list[int]] | None = None  # (since, the nodes not connected)
        self.console_trouble: tuple[int, dict[str, str]] | None = None  # (since, what is wrong)
        self._latched: list[Alarm] = []

    # -- what the node reports -----------------------------------------------------------------

    def watch_peer(self, peer: str, now_ms: int, sends_link_tests: bool = True) -> None:
        """Start watching a peer: until a link comes up it counts as down from now. A peer
        that sends no link tests (a neutral witness, or any peer when we are one) is not
        expected to."""
        state = self.peers.setdefault(peer, PeerHealth(down_since_ms=now_ms))
        state.sends_link_tests = sends_link_tests

    def link_up(self, peer: str, now_ms: int) -> None:
        state = self.peers[peer]
        if state.held is not None and state.held[0].by_peer:
            state.held = None  # the peer talks to us again: it resumed, or paired again
        if state.down_since_ms is not None or state.up_since_ms is None:
            state.up_since_ms = now_ms
        state.down_since_ms = None

    def link_down(self, peer: str, now_ms: int) -> None:
        """The last link to the peer is gone (one lane still up counts as up)."""
        state = self.peers[peer]
        if state.down_since_ms is None:
            state.down_since_ms = now_ms
        state.up_since_ms = None

    def hold(self, peer: str, held: Hold | None, now_ms: int, facts: Mapping[str, Any] | None = None) -> None:
        """Traffic with the peer is held on purpose (by whom), or no longer (None); the first
        moment is kept while the same hold lasts."""
        state = self.peers[peer]
        if held is None:
            if state.held is not None:
                # Down on purpose until now: the grace for coming back starts now, not at the
                # suspension (else a resume after an hour would call the commander at once).
                state.down_since_ms = None if state.down_since_ms is None else now_ms
                state.paths_down = {path: (now_ms, address) for path, (_, address) in state.paths_down.items()}
            state.held = None
        elif state.held is None or state.held[0] is not held:
            state.held = (held, now_ms, dict(facts or {}))

    def path_down(self, peer: str, path: int, address: str | None, now_ms: int) -> None:
        """One path to the peer is down (or has not come up yet); ``path`` counts from 1."""
        self.peers[peer].paths_down.setdefault(path, (now_ms, address))

    def path_up(self, peer: str, path: int) -> None:
        self.peers[peer].paths_down.pop(path, None)

    def urgent_queued(self, peer: str, serial: str, precedence: Precedence, queued_ms: int) -> None:
        if precedence in URGENT:
            self.peers[peer].undelivered[precedence][serial] = queued_ms

    def urgent_settled(self, peer: str, serial: str) -> None:
        """Receipted, or rejected: either way the peer has answered for it."""
        for waiting in self.peers[peer].undelivered.values():
            waiting.pop(serial, None)

    def link_test_sent(self, peer: str, sent_ms: int) -> None:
        state = self.peers[peer]
        # While tests go unanswered the alarm stands, dated from the first of them: sending the
        # next one is no reason to call it cleared.
        if state.link_test_answered or state.link_test_sent_ms is None:
            state.link_test_sent_ms = sent_ms
        state.link_test_answered = False

    def link_test_answered(self, peer: str) -> None:
        self.peers[peer].link_test_answered = True

    def link_test_received(self, peer: str, received_ms: int) -> None:
        self.peers[peer].link_test_received_ms = received_ms

    def clock(self, peer: str, skew_ms: int, now_ms: int, subject: str | None = None) -> bool:
        """A measurement of the peer's clock against ours (positive: the peer's is ahead).
        Whether the alarms may have changed: not while the clock is and was within tolerance,
        as it is on nearly every probe's answer (dozens a second in a network of many parties,
        each of which would otherwise have every alarm of every peer worked out again)."""
        state = self.peers[peer]
        was_off = state.skew_ms is not None and abs(state.skew_ms) > self.limits.clock_tolerance_ms
        is_off = abs(skew_ms) > self.limits.clock_tolerance_ms
        if not was_off:
            state.skew_at_ms = now_ms
        state.skew_ms = skew_ms
        # A measurement without a message (a round trip) keeps the message that showed the
        # skew named while the clock stays off: people look for it, and the heartbeat would
        # otherwise wipe it within seconds.
        if subject is not None or not is_off:
            state.skew_subject = subject
        return was_off or is_off

    def numbering(
        self, peer: str, store_behind: tuple[int, int] | None, peer_behind: tuple[int, int] | None, now_ms: int
    ) -> None:
        """What the peer's resume point said at the last handshake."""
        state = self.peers[peer]
        if state.store_behind is None:
            state.store_behind_at_ms = now_ms
        if state.peer_behind is None:
            state.peer_behind_at_ms = now_ms
        state.store_behind, state.peer_behind = store_behind, peer_behind

    def hook(self, failure: str | None, now_ms: int) -> None:
        """The alarm hook's last outcome: None if it delivered."""
        self.hook_failure = _standing(self.hook_failure, failure, now_ms)

    def settings(self, differ: dict[int, list[str]], now_ms: int) -> None:
        """Which other nodes of the party run with other settings than this one, and in what."""
        self.settings_differ = _standing(self.settings_differ, differ, now_ms)

    def standbys(self, down: list[int], now_ms: int) -> None:
        """Which other nodes of the party are not connected to its database (none may take over)."""
        self.standbys_down = _standing(self.standbys_down, sorted(down), now_ms)

    def console(self, trouble: dict[str, str] | None, now_ms: int) -> None:
        """What is wrong with the console's HTTPS listener (``what``: failed, or certificate), if anything."""
        self.console_trouble = _standing(self.console_trouble, trouble, now_ms)

    def set_latched(self, alarms: Iterable[Alarm]) -> None:
        self._latched = list(alarms)

    def signing_stopped(self, peer: str) -> bool:
        """Whether we must not sign to the peer: our numbering is behind what it holds."""
        state = self.peers.get(peer)
        return state is not None and state.store_behind is not None

    # -- what stands ---------------------------------------------------------------------------

    def alarms(self, now_ms: int) -> list[Alarm]:
        """Every alarm standing at ``now_ms``, most urgent first."""
        found = list(self._latched)
        for peer, state in sorted(self.peers.items()):
            found += _peer_alarms(peer, state, self.limits, now_ms)
        if self.hook_failure is not None:
            since, why = self.hook_failure
            found.append(Alarm(Kind.HOOK_FAILED, None, None, Level.SUPERVISOR, since, {"error": why}))
        if self.settings_differ is not None:
            since, differ = self.settings_differ
            facts = {"nodes": ", ".join(str(n) for n in sorted(differ)),
                     "sections": ", ".join(sorted({s for sections in differ.values() for s in sections}))}  # fmt: skip
            found.append(Alarm(Kind.SETTINGS_DIFFER, None, None, Level.SUPERVISOR, since, facts))
        if self.standbys_down is not None:
            since, down = self.standbys_down
            nodes = {"nodes": ", ".join(str(n) for n in down)}
            found.append(Alarm(Kind.STANDBY_DOWN, None, None, Level.SUPERVISOR, since, nodes))
        if self.console_trouble is not None:
            since, trouble = self.console_trouble
            found.append(Alarm(Kind.CONSOLE_TROUBLE, None, None, Level.SUPERVISOR, since, trouble))
        return sorted(found, key=Alarm.urgency)

    def wake_ms(self, now_ms: int) -> int | None:
        """When, after ``now_ms``, a condition may next change by time alone."""
        times = [t for state in self.peers.values() for t in _thresholds(state, self.limits)]
        return min((t for t in times if t > now_ms), default=None)


def _standing(held: tuple[int, T] | None, value: T | None, now_ms: int) -> tuple[int, T] | None:
    """A condition of the node as it stands: (since when, what), the first moment kept while it
    lasts; None once it is over (an empty value is no condition)."""
    if not value:
        return None
    return (held[0] if held is not None else now_ms, value)


def _peer_alarms(peer: str, state: PeerHealth, limits: Limits, now_ms: int) -> list[Alarm]:
    if state.held is None:
        return _numbering_alarms(peer, state) + _link_alarms(peer, state, limits, now_ms)
    held, since, facts = state.held
    if held is Hold.REMOVED_BY_US:
        return []  # our decision, and nothing more goes to the peer: nothing to watch
    # Held on purpose, the peer is not "unreachable" and its links are not expected up: one
    # alarm says who held the traffic. A FLASH or IMMEDIATE waiting meanwhile is still said.
    if held is Hold.REMOVED_BY_PEER:
        found = [Alarm(Kind.REMOVED_BY_PEER, peer, None, Level.SUPERVISOR, since, facts)]
    else:
        by = "peer" if held.by_peer else "us"
        found = [Alarm(Kind.SUSPENDED, peer, None, Level.DUTY_OFFICER, since, {**facts, "by": by})]
    return _numbering_alarms(peer, state) + found + _undelivered_alarms(peer, state, limits, now_ms)


def _numbering_alarms(peer: str, state: PeerHealth) -> list[Alarm]:
    found = []
    facts: dict[str, Any]
    if state.store_behind is not None:
        expects, ours = state.store_behind
        facts = {"expects": expects, "ours": ours}
        found.append(Alarm(Kind.STORE_BEHIND, peer, None, Level.COMMANDER, state.store_behind_at_ms, facts))
    if state.peer_behind is not None:
        sends, expected = state.peer_behind
        facts = {"sends": sends, "expected": expected}
        found.append(Alarm(Kind.PEER_STORE_BEHIND, peer, None, Level.COMMANDER, state.peer_behind_at_ms, facts))
    return found


def _link_alarms(peer: str, state: PeerHealth, limits: Limits, now_ms: int) -> list[Alarm]:
    found = []
    facts: dict[str, Any]
    if state.down_since_ms is not None:
        down_for = now_ms - state.down_since_ms
        reached = [level for times, level in UNREACHABLE_STEPS if down_for >= times * limits.unreachable_ms]
        if reached:
            facts = {"down_ms": down_for}
            found.append(Alarm(Kind.PEER_UNREACHABLE, peer, None, reached[-1], state.down_since_ms, facts))
    else:  # with no path up at all, the peer's own alarm says enough
        for path, (since, address) in sorted(state.paths_down.items()):
            if now_ms - since >= limits.path_down_ms:
                facts = {"path": path, "address": address}
                found.append(Alarm(Kind.PATH_DOWN, peer, str(path), Level.DUTY_OFFICER, since, facts))
    found += _undelivered_alarms(peer, state, limits, now_ms)
    if (
        state.link_test_sent_ms is not None
        and not state.link_test_answered
        and now_ms - state.link_test_sent_ms >= limits.link_test_timeout_ms
    ):
        facts = {"sent_ms": state.link_test_sent_ms}
        found.append(Alarm(Kind.LINK_TEST_FAILED, peer, None, Level.DUTY_OFFICER, state.link_test_sent_ms, facts))
    missing_since = _link_test_missing_since(state, limits)
    if missing_since is not None and now_ms >= missing_since + 2 * limits.link_test_interval_ms:
        facts = {"last_ms": state.link_test_received_ms}
        found.append(Alarm(Kind.LINK_TEST_MISSING, peer, None, Level.DUTY_OFFICER, missing_since, facts))
    if state.skew_ms is not None and abs(state.skew_ms) > limits.clock_tolerance_ms:
        # One alarm however the skew is measured (handshake, pong, a message's date): the
        # message that showed it is a fact, not part of the alarm's identity.
        facts = {"skew_ms": state.skew_ms}
        if state.skew_subject:
            facts["serial"] = state.skew_subject
        found.append(Alarm(Kind.CLOCK_SKEW, peer, None, Level.DUTY_OFFICER, state.skew_at_ms, facts))
    return found


def _undelivered_alarms(peer: str, state: PeerHealth, limits: Limits, now_ms: int) -> list[Alarm]:
    found = []
    late = [
        (precedence, *oldest)
        for precedence in URGENT
        if (oldest := _oldest(state.undelivered[precedence])) is not None
        and now_ms - oldest[1] >= limits.undelivered_ms[precedence]
    ]
    if late:
        precedence, serial, queued = late[0]  # FLASH before IMMEDIATE
        count = sum(len(waiting) for waiting in state.undelivered.values())
        facts = {"oldest": serial, "precedence": precedence.value, "waiting_ms": now_ms - queued, "count": count}
        found.append(Alarm(Kind.URGENT_UNDELIVERED, peer, None, UNDELIVERED_LEVELS[precedence], queued, facts))
    return found


def _oldest(waiting: dict[str, int]) -> tuple[str, int] | None:
    """The message queued first: the node reports them in the order they were queued."""
    return next(iter(waiting.items()), None)


def _link_test_missing_since(state: PeerHealth, limits: Limits) -> int | None:
    """From when a link test from the peer is awaited: the later of the link coming up and
    the last one received. None while no link is up (unreachable says enough) or tests are off."""
    if limits.link_test_interval_ms <= 0 or state.up_since_ms is None or not state.sends_link_tests:
        return None
    return max(state.up_since_ms, state.link_test_received_ms or state.up_since_ms)


def _thresholds(state: PeerHealth, limits: Limits) -> list[int]:
    times = []
    held = state.held is not None  # then only a waiting FLASH or IMMEDIATE changes by time
    if state.down_since_ms is not None and not held:
        times += [state.down_since_ms + times_ * limits.unreachable_ms for times_, _ in UNREACHABLE_STEPS]
    times += [since + limits.path_down_ms for since, _ in state.paths_down.values() if not held]
    for precedence in URGENT:
        oldest = _oldest(state.undelivered[precedence])
        if oldest is not None:
            times.append(oldest[1] + limits.undelivered_ms[precedence])
    if state.link_test_sent_ms is not None and not state.link_test_answered and not held:
        times.append(state.link_test_sent_ms + limits.link_test_timeout_ms)
    missing_since = _link_test_missing_since(state, limits)
    if missing_since is not None and not held:
        times.append(missing_since + 2 * limits.link_test_interval_ms)
    return times
