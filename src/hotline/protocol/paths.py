"""The paths to one peer: which are alive, how fast, and which one carries what.

A party advertises several addresses: two uplinks, a satellite link beside the cable. Path ``k``
joins the two parties' ``k``-th addresses: each side dials the other's ``k``-th address on both
lanes, and the tie-break keeps one link per path and lane, so the link that survives runs
between the same two uplinks whoever dialed it (a cut cable cuts both directions alike).

*Alive.* A path is up while its urgent link is open and the peer has been heard on it within
the path's silence limit. Only the urgent link is probed quickly (an idle link is pinged when
nothing has been heard for a probe interval, and the peer answers at once); the ordinary link of
the same path keeps the slow heartbeat and shares the verdict, since both run over the same
wires. A path with no urgent link is judged by its ordinary link alone. The probe interval is
derived from the path's measured round trip (``probe_interval``), so a satellite path is not
declared dead for its latency, and a loopback or LAN path is found silent in a few tenths of a
second. A silent link is not closed at once: if the bytes flow again it is up again, with
nothing to redial; the slow ``dead_after`` of the session closes it for good.

*What each path carries.* Urgent envelopes (FLASH, IMMEDIATE) and their receipts go on every
path that is up: a cut then costs a FLASH nothing. Ordinary traffic goes on one path, the
*carrier*: the most preferred path that is up (the first advertised, unless the operator orders
them otherwise). When the carrier falls silent the next path up becomes the carrier at once, and
everything unreceipted goes again on it (the receiver's duplicate rule keeps delivery exactly
once). A preferred path that comes back takes the traffic back only after it has stayed up for
``hold`` seconds, so that a path that flaps does not move the traffic on every probe.

Pure: the node passes the time in, reports what its links do, and asks where to send.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hotline.protocol.lanes import Lane

MAX_PATHS = 8  # addresses a party may advertise; path numbers travel in the ALPN
PROBE_FLOOR = 0.1  # seconds: the shortest probe interval, whatever the round trip
PROBE_CEILING = 5.0  # seconds: the longest, as the ordinary heartbeat
SILENT_PROBES = 3  # probe intervals without a word before a path is down
SILENCE_FLOOR = 0.35  # seconds: below this, a busy event loop at either end looks like a cut
HOLD = 2.0  # seconds a returning preferred path must stay up before it carries traffic again
RTT_GAIN = 0.125  # RFC 6298's alpha and beta, for the smoothed round trip and its variation
RTTVAR_GAIN = 0.25
# A node's quick probes in all, per second, at most: with many peers the probes are spread, so
# that what an idle node spends does not grow with the network (issue 19). A probe answered costs
# each end about 0.3 ms of CPU on a machine where 57 nodes wake together and share two cores, and
# 56 peers probed every 0.1 s took a third of a core. At 12 a second a node of 57 probes each path
# every 4.7 s and finds an idle one silent within 14 s; the 57 nodes together spend about a fifth
# of a core (at 15, 11 s and a quarter of a core).
PROBE_RATE = 12.0
SPREAD_ABOVE = 2  # paths: up to this many keep the floor (a pair on two paths fails over in under 1 s)


@dataclass(frozen=True)
class PathTiming:
    """The bounds of a path's timing (a node's ``[timers]``; tests on a manual clock widen them)."""

    probe_floor: float = PROBE_FLOOR
    probe_ceiling: float = PROBE_CEILING
    silence_floor: float = SILENCE_FLOOR
    hold: float = HOLD

    def spread_over(self, probed: int) -> PathTiming:
        """This timing for a node that probes ``probed`` paths in all: the floor raised so that
        it sends at most ``PROBE_RATE`` quick probes a second (never beyond the ceiling), once
        it probes more than ``SPREAD_ABOVE`` paths."""
        spread = probed / PROBE_RATE if probed > SPREAD_ABOVE else 0.0
        floor = min(max(self.probe_floor, spread), max(self.probe_floor, self.probe_ceiling))
        return PathTiming(floor, self.probe_ceiling, self.silence_floor, self.hold)


@dataclass
class PathState:
    """What one path to a peer is doing now, and what it has done since the node started."""

    index: int
    links: set[Lane] = field(default_factory=set)  # lanes with an open link on this path
    silent: set[Lane] = field(default_factory=set)  # of those, the lanes not heard within the limit
    srtt: float | None = None  # smoothed round trip, seconds
    rttvar: float = 0.0
    up_since: float | None = None  # monotonic time the path last came up; None while down
    last_heard: float | None = None  # monotonic
    went_down: float | None = None  # monotonic time of the last fall
    downs: int = 0  # times it fell since the node started
    probes: int = 0  # round trips measured
    envelopes_out: int = 0  # envelopes written on this path's links
    bytes_out: int = 0

    @property
    def judged_by(self) -> Lane | None:
        """The link whose silence decides whether the path is up: the urgent one if open."""
        if Lane.URGENT in self.links:
            return Lane.URGENT
        return Lane.ORDINARY if Lane.ORDINARY in self.links else None

    @property
    def up(self) -> bool:
        judge = self.judged_by
        return judge is not None and judge not in self.silent


class PathTable:
    """The paths to one peer, in order of preference (``order``: path numbers, most preferred
    first; by default the order the addresses were advertised in)."""

    def __init__(self, count: int, order: tuple[int, ...] = (), timing: PathTiming = PathTiming()) -> None:
        self.paths: list[PathState] = []
        self.timing = timing
        self.hold = timing.hold
        self.order = order
        self._carrier: int | None = None
        self.ensure(max(count, 1) - 1)

    def ensure(self, index: int) -> PathState:
        """The state of path ``index``, made if the peer uses a path beyond what we knew of."""
        if not 0 <= index < MAX_PATHS:
            raise ValueError(f"path {index} is out of range (0 to {MAX_PATHS - 1})")
        while len(self.paths) <= index:
            self.paths.append(PathState(len(self.paths)))
        return self.paths[index]

    def trim(self, count: int) -> list[int]:
        """Forget the paths from ``count`` on that have no link (the peer advertises fewer
        addresses now); returns those forgotten. One still linked stays until its link goes."""
        gone = []
        while len(self.paths) > max(count, 1) and not self.paths[-1].links:
            gone.append(self.paths.pop().index)
        if self._carrier is not None and self._carrier >= len(self.paths):
            self._carrier = None
        return gone

    def preference(self) -> list[int]:
        """Path numbers, most preferred first: the operator's order, then the rest as advertised."""
        ordered = [i for i in self.order if i < len(self.paths)]
        return ordered + [p.index for p in self.paths if p.index not in ordered]

    # -- what the links report ---------------------------------------------------------------

    def linked(self, index: int, lane: Lane, now: float) -> None:
        path = self.ensure(index)
        was_up = path.up
        path.links.add(lane)
        path.silent.discard(lane)
        if lane is Lane.URGENT:
            path.silent.clear()  # a fresh judge: what the ordinary link inherited no longer counts
        path.last_heard = now
        self._moved(path, was_up, now)

    def unlinked(self, index: int, lane: Lane, now: float) -> None:
        path = self.ensure(index)
        was_up = path.up
        if lane is Lane.URGENT and Lane.URGENT in path.silent and Lane.ORDINARY in path.links:
            # The ordinary link is never probed: it inherits the silence of the path it shares,
            # or the path would count as up again on a link nobody has heard from.
            path.silent.add(Lane.ORDINARY)
        path.links.discard(lane)
        path.silent.discard(lane)
        self._moved(path, was_up, now)

    def fell_silent(self, index: int, lane: Lane, now: float) -> None:
        path = self.ensure(index)
        was_up = path.up
        if lane in path.links:
            path.silent.add(lane)
        self._moved(path, was_up, now)

    def heard(self, index: int, lane: Lane, now: float) -> None:
        """Bytes arrived on a link that had fallen silent: the path may be up again."""
        path = self.ensure(index)
        was_up = path.up
        path.silent.discard(lane)
        path.last_heard = now
        self._moved(path, was_up, now)

    def round_trip(self, index: int, seconds: float) -> None:
        """A probe answered: the smoothed round trip and its variation (RFC 6298, 2.3)."""
        path = self.ensure(index)
        path.probes += 1
        if path.srtt is None:
            path.srtt, path.rttvar = seconds, seconds / 2
        else:
            path.rttvar = (1 - RTTVAR_GAIN) * path.rttvar + RTTVAR_GAIN * abs(path.srtt - seconds)
            path.srtt = (1 - RTT_GAIN) * path.srtt + RTT_GAIN * seconds

    def carried(self, index: int, envelopes: int, size: int) -> None:
        path = self.ensure(index)
        path.envelopes_out += envelopes
        path.bytes_out += size

    def _moved(self, path: PathState, was_up: bool, now: float) -> None:
        if path.up and not was_up:
            path.up_since = now
        elif was_up and not path.up:
            path.up_since = None
            path.went_down = now
            path.downs += 1

    # -- timing ------------------------------------------------------------------------------

    def probe_interval(self, index: int) -> float:
        """How long an idle urgent link waits for a word before it pings: a few round trips
        (RFC 6298's retransmission timeout, srtt + 4 rttvar, doubled), within the floor and
        the ceiling. Unmeasured, the floor."""
        path, timing = self.ensure(index), self.timing
        if path.srtt is None:
            return timing.probe_floor
        return min(timing.probe_ceiling, max(timing.probe_floor, 2 * (path.srtt + 4 * path.rttvar)))

    def silence_limit(self, index: int) -> float:
        """How long a path may be silent before it is down: a few probes unanswered. Before its
        round trip is measured (the first probe is answered within one), as long as the probe
        ceiling: a long path must not be found dead for its latency on its first link."""
        if self.ensure(index).srtt is None:
            return max(self.timing.silence_floor, self.timing.probe_ceiling)
        return max(self.timing.silence_floor, SILENT_PROBES * self.probe_interval(index))

    # -- where traffic goes ------------------------------------------------------------------

    def up(self) -> list[int]:
        """The paths up now, most preferred first."""
        return [i for i in self.preference() if self.paths[i].up]

    def carrier(self, now: float) -> int | None:
        """The path for ordinary traffic: the current carrier while it is up, unless a more
        preferred path has been up for ``hold`` seconds; the most preferred up path when the
        carrier is down (at once: that is the failover). None when no path is up."""
        up = self.up()
        if not up:
            self._carrier = None
            return None
        current = self._carrier if self._carrier in up else None
        if current is None:
            self._carrier = up[0]
            return self._carrier
        for index in up:
            if index == current:
                break
            since = self.paths[index].up_since
            if since is not None and now - since >= self.hold:
                self._carrier = index
                break
        return self._carrier
