"""One peer as the node sees it: keys, both halves of the sequence, the paths and live links.

The rules themselves are pure (``protocol/ledger.py`` for what we send, ``protocol/sequence.py``
for what we receive, ``protocol/paths.py`` for which path carries what); this holds them with
the asyncio state around them: the links, and the events that wake the dispatchers and dialers.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hotline.crypto import KeySet, VerifyKey
from hotline.protocol import InboundSequence, Lane
from hotline.protocol.ledger import SendLedger, resend_plan
from hotline.protocol.paths import PathTable
from hotline.storage import Dispatched, PeerRecord

if TYPE_CHECKING:
    from hotline.node.link import Link


@dataclass
class Backoff:
    """Capped exponential backoff with full jitter: seconds, never minutes."""

    low: float
    high: float
    attempt: int = 0

    def next_delay(self) -> float:
        # The exponent stops growing once the cap is reached: 2**1024 is past what a float holds,
        # and a peer unreachable for twenty minutes made the dialer fail and the node stop.
        ceiling = min(self.high, self.low * 2.0 ** min(self.attempt, 64))
        self.attempt += 1
        return random.uniform(self.low, max(self.low, ceiling))

    def reset(self) -> None:
        self.attempt = 0


LinkKey = tuple[int, Lane]  # (path, lane)


@dataclass(frozen=True)
class Routes:
    """Which links carry what, at one moment: the ordinary traffic's link (on the carrier path),
    and the urgent traffic's links (one on every path that is up)."""

    ordinary: Link | None
    urgent: tuple[Link, ...]


@dataclass
class Channel:
    peer: PeerRecord
    key: VerifyKey | KeySet  # the peer's key; its old and new while it rotates
    inbound: InboundSequence  # what we receive: which numbers the peer used
    ledger: SendLedger[Dispatched]  # what we send: numbering, envelopes in flight
    backoff: Backoff
    paths: PathTable  # which paths are up, and which carries the ordinary traffic
    links: dict[LinkKey, Link] = field(default_factory=dict)  # the live link of each path and lane
    answer_key: VerifyKey | KeySet | None = None  # for its receipts and rejections, if more keys than ``key``
    last_contact_ms: int | None = None
    rtt: float | None = None
    # Wakes each lane's dispatcher; and each path and lane's dialer once its link is lost.
    work: dict[Lane, asyncio.Event] = field(default_factory=lambda: {lane: asyncio.Event() for lane in Lane})
    link_lost: dict[LinkKey, asyncio.Event] = field(default_factory=dict)
    link_up: asyncio.Event = field(default_factory=asyncio.Event)  # set while any path is up
    urgent_busy: bool = False  # the urgent dispatcher is looking for, or signing, urgent drafts
    held_number: int | None = None  # the highest message number (serial) we hold from the peer
    peer_held_number: int | None = None  # the highest of ours the peer holds, as its hello said
    # Serials of received envelopes whose lookup is under way and whose store is not yet called:
    # a later batch checks against these too, since its lookup cannot see them (``Inbound``).
    serials_pending: dict[int, bytes] = field(default_factory=dict)
    # Sequence numbers received whose store has been called and not yet committed: a copy of
    # one arriving on another path waits for that commit before it is answered (``Inbound``).
    storing: dict[int, asyncio.Future[Any]] = field(default_factory=dict)
    # The peer's nodes: each path's address may name one per node ("a|b"), and the peer's
    # active node is the one dialed. ``node`` counts from 0 (the card's first); it moves when a
    # standby names the active node, or when no path is up and the one dialed does not answer.
    node: int = 0
    moved: asyncio.Event = field(default_factory=asyncio.Event)  # wakes the dialers at once
    peer_epoch: int = 0  # the highest lease epoch a hello from the peer has carried
    peer_ack_version: int = 1  # the newest acknowledgement form the peer said it reads (2: with a rank)
    # The peer's nodes that failed a dial since a path was last up: a move to one of them waits
    # the dialers' backoff (a standby naming a dead active node must not set off a dial storm).
    failed_nodes: set[int] = field(default_factory=set)
    # Set while traffic with the peer flows (its state is "active"); the dialers wait on it
    # while we hold the traffic (``hotline peer suspend``, ``remove``).
    active: asyncio.Event = field(default_factory=asyncio.Event)
    # Our envelopes in flight: the links each was written on. One that no live link carries
    # goes again (``Links.reconcile``); an entry goes when its envelope is answered.
    on_wire: dict[int, set[Link]] = field(default_factory=dict)

    @property
    def party(self) -> str:
        return self.peer.party

    @property
    def held(self) -> bool:
        """We hold the traffic with the peer: suspended, or removed."""
        return self.peer.state != "active"

    @property
    def nodes(self) -> int:
        """How many nodes the peer's card names (the most alternatives any path has)."""
        return max((len(a.split("|")) for a in self.peer.addresses), default=1)

    def address(self, path: int) -> str | None:
        """The address that reaches the peer's current node on ``path``; None if it has none."""
        if path >= len(self.peer.addresses):
            return None
        alternatives = self.peer.addresses[path].split("|")
        return alternatives[self.node % len(alternatives)]

    def move_to(self, node: int) -> bool:
        """Dial the peer's node ``node`` (from 0) from now on; whether the dialers go at once
        (a change, to a node that has not just failed) or wait their backoff."""
        node %= self.nodes
        if node == self.node:
            return False
        self.node = node
        if node in self.failed_nodes:
            return False
        self.moved.set()
        return True

    def lost(self, key: LinkKey) -> asyncio.Event:
        return self.link_lost.setdefault(key, asyncio.Event())

    def has_link(self) -> bool:
        """Traffic can flow: some path is up."""
        return bool(self.paths.up())

    def routes(self, now: float) -> Routes:
        carrier = self.paths.carrier(now)
        ordinary = None if carrier is None else self._path_link(carrier, Lane.ORDINARY)
        urgent = tuple(link for path in self.paths.up() if (link := self._path_link(path, Lane.URGENT)) is not None)
        return Routes(ordinary, urgent)

    def live(self, link: Link) -> bool:
        """Whether what was written on ``link`` may still arrive: it is this path and lane's
        link (not one replaced), open, and its path is up."""
        return self.links.get(link.key) is link and link.usable and link.path in self.paths.up()

    def wrote(self, link: Link, seqs: list[int]) -> None:
        for seq in seqs:
            self.on_wire.setdefault(seq, set()).add(link)

    def answered(self, seqs: list[int]) -> None:
        for seq in seqs:
            self.on_wire.pop(seq, None)

    def resend_plan(self, routes: Routes) -> dict[Link, list[Dispatched]]:
        """What goes again after the links changed, and where (``protocol.ledger.resend_plan``)."""
        return resend_plan(self.ledger.in_flight(), routes.urgent, routes.ordinary, self.on_wire, self.live)

    def link_for(self, lane: Lane, now: float) -> Link | None:
        """The link that carries a lane's traffic now (for urgent traffic, the most preferred)."""
        routes = self.routes(now)
        if lane is Lane.ORDINARY:
            return routes.ordinary
        return routes.urgent[0] if routes.urgent else None

    def _path_link(self, path: int, lane: Lane) -> Link | None:
        """A path's link for a lane: its own, or while that is down, the other lane's."""
        return self.links.get((path, lane)) or self.links.get((path, lane.other))

    def wake(self) -> None:
        for event in self.work.values():
            event.set()

    def ordinary_holds_back(self) -> bool:
        """The ordinary lane waits while an urgent envelope may be waiting to be signed (its
        dispatcher is busy or woken) or is on its way."""
        return self.ledger.ordinary_holds_back(self.urgent_busy or self.work[Lane.URGENT].is_set())
