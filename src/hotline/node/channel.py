"""One peer as the node sees it: keys, resume points, envelopes in flight, the live links."""

from __future__ import annotations

import asyncio
import random
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from hotline.crypto import VerifyKey
from hotline.envelope import Receipt
from hotline.protocol import InboundSequence, Lane, lane_of
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
        ceiling = min(self.high, self.low * 2**self.attempt)
        self.attempt += 1
        return random.uniform(self.low, max(self.low, ceiling))

    def reset(self) -> None:
        self.attempt = 0


@dataclass
class Channel:
    peer: PeerRecord
    key: VerifyKey
    inbound: InboundSequence
    send_next: int
    backoff: Backoff
    # Signed envelopes not yet receipted or rejected, by sequence number.
    inflight: OrderedDict[int, Dispatched] = field(default_factory=OrderedDict)
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
    # a later batch checks against these too, since its lookup cannot see them (``Node``).
    serials_pending: dict[int, bytes] = field(default_factory=dict)

    @property
    def party(self) -> str:
        return self.peer.party

    def settle(self, receipt: Receipt) -> tuple[list[Dispatched], list[int]]:
        """Take the envelopes a receipt names out of flight. Returns those now delivered, and
        the sequence numbers the receipt names with an envelope id that is not the one we sent
        (the peer's store and ours disagree: evidence for people to look at). Entries for
        envelopes already delivered are ignored: a second receipt after a resend is harmless."""
        delivered, conflicting = [], []
        for entry in receipt.entries:
            item = self.inflight.get(entry.seq)
            if item is None:
                continue
            if item.envelope_id != entry.envelope_id:
                conflicting.append(entry.seq)
                continue
            del self.inflight[entry.seq]
            delivered.append(item)
        return delivered, conflicting

    def inflight_by_id(self, envelope_id: bytes) -> Dispatched | None:
        return next((item for item in self.inflight.values() if item.envelope_id == envelope_id), None)

    def in_flight(self, lane: Lane) -> list[Dispatched]:
        """The lane's unreceipted envelopes, in sequence order: the order to send them again."""
        return sorted((item for item in self.inflight.values() if lane_of(item.rank) is lane), key=lambda i: i.seq)

    def count_in_flight(self, lane: Lane) -> int:
        return sum(1 for item in self.inflight.values() if lane_of(item.rank) is lane)

    def has_link(self) -> bool:
        return bool(self.links)

    def link_for(self, lane: Lane) -> Link | None:
        """The link that carries a lane's traffic: its own, or while that is down, the other."""
        return self.links.get(lane) or self.links.get(lane.other)

    def wake(self) -> None:
        for event in self.work.values():
            event.set()

    def keeps_new_link(self, local: str, lane: Lane, new_dialed_by: str) -> bool:
        """When two links of one lane meet, both ends must keep the same one: the link dialed
        by the party whose name sorts first. Without an existing link, the new one is kept; and
        a new link from the same dialer replaces the old (the dialer only redials once it has
        given the old one up, so the old one is half-open at our end)."""
        current = self.links.get(lane)
        if current is None or current.dialed_by == new_dialed_by:
            return True
        return new_dialed_by == min(local, self.party)
