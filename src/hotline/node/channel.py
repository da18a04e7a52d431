"""One peer as the node sees it: keys, both halves of the sequence, the live links.

The sequence rules themselves are pure (``protocol/ledger.py`` for what we send,
``protocol/sequence.py`` for what we receive); this holds them with the asyncio state around
them: the links, and the events that wake the dispatchers and the dialers.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from hotline.crypto import VerifyKey
from hotline.protocol import InboundSequence, Lane
from hotline.protocol.ledger import SendLedger
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


@dataclass
class Channel:
    peer: PeerRecord
    key: VerifyKey
    inbound: InboundSequence  # what we receive: which numbers the peer used
    ledger: SendLedger[Dispatched]  # what we send: numbering, envelopes in flight
    backoff: Backoff
    links: dict[Lane, Link] = field(default_factory=dict)  # the live link of each lane
    last_contact_ms: int | None = None
    rtt: float | None = None
    # Wakes each lane's dispatcher, and each lane's dialer once its link is lost.
    work: dict[Lane, asyncio.Event] = field(default_factory=lambda: {lane: asyncio.Event() for lane in Lane})
    link_lost: dict[Lane, asyncio.Event] = field(default_factory=lambda: {lane: asyncio.Event() for lane in Lane})
    link_up: asyncio.Event = field(default_factory=asyncio.Event)  # set while any link is kept
    urgent_busy: bool = False  # the urgent dispatcher is looking for, or signing, urgent drafts
    held_number: int | None = None  # the highest message number (serial) we hold from the peer
    peer_held_number: int | None = None  # the highest of ours the peer holds, as its hello said
    # Serials of received envelopes whose lookup is under way and whose store is not yet called:
    # a later batch checks against these too, since its lookup cannot see them (``Inbound``).
    serials_pending: dict[int, bytes] = field(default_factory=dict)

    @property
    def party(self) -> str:
        return self.peer.party

    def has_link(self) -> bool:
        return bool(self.links)

    def link_for(self, lane: Lane) -> Link | None:
        """The link that carries a lane's traffic: its own, or while that is down, the other."""
        return self.links.get(lane) or self.links.get(lane.other)

    def wake(self) -> None:
        for event in self.work.values():
            event.set()

    def ordinary_holds_back(self) -> bool:
        """The ordinary lane waits while an urgent envelope may be waiting to be signed (its
        dispatcher is busy or woken) or is on its way."""
        return self.ledger.ordinary_holds_back(self.urgent_busy or self.work[Lane.URGENT].is_set())
