"""Who may start a TLS handshake on the peer port: the connections that have not yet proved a
pinned certificate, bounded in all and per source address.

Every accepted connection costs the node about 0.3 MB from the moment its TLS handshake starts
(asyncio's buffers), whoever sent it; only a pinned certificate at the end of the handshake says
it was worth it. So the handshakes under way are bounded (``[bounds] peer_handshakes``), and so
are those of one source (``peer_handshakes_per_source``), and a connection beyond either is
closed before any TLS byte is read.

A plain bound would let anyone with enough source addresses hold every slot, by opening idle
connections again as fast as the handshake timeout closes them, and keep the pinned peers out
for as long as they like. So when every slot is taken, a newcomer from a source that holds fewer
slots than the busiest source takes the oldest slot of that busiest source (that handshake is
cut short): to keep a peer out, an attacker must then hold the slots with more addresses than
the bound has slots, each holding no more than the peer. A peer's handshake takes milliseconds;
the oldest handshake of the busiest source is the one least likely to be anyone's.

Rules (``Admission``):

- a source that holds ``per_source`` slots is refused (``Refusal.SOURCE``);
- below the bound in all, a connection is admitted;
- at the bound, it is admitted if the busiest source holds more slots than its own source, and
  the busiest source's oldest connection is named to be cut (``Refusal.EVICTED``); otherwise it
  is refused (``Refusal.BUSY``);
- a slot is given back when its handshake proves a pinned certificate, or its connection ends.

IPv6 sources count per /64: one host is commonly given a whole /64 to choose from.
"""

from __future__ import annotations

import ipaddress
from collections import Counter, deque
from dataclasses import dataclass
from enum import StrEnum


class Refusal(StrEnum):
    """Why a connection to the peer port ended before it proved a pinned certificate."""

    BUSY = "busy"  # every handshake slot taken, by sources holding no more than this one
    SOURCE = "source"  # its source address already holds its share of slots
    EVICTED = "evicted"  # its slot went to a source that held fewer
    TIMEOUT = "timeout"  # no finished handshake within the timeout
    HANDSHAKE = "handshake"  # TLS failed: not TLS, no certificate, an unpinned one, a reset
    UNPINNED = "unpinned"  # TLS passed, but with a key no channel is pinned to
    ACCEPT = "accept"  # accept() itself failed (out of file handles, out of memory)


@dataclass(frozen=True)
class Admitted:
    ticket: int  # give it back with ``release``
    evicted: int | None = None  # the ticket whose handshake to cut short, if a slot was taken


def source_of(address: str) -> str:
    """The source a connection from ``address`` counts against: the address itself for IPv4
    (an IPv4-mapped IPv6 address is IPv4), its /64 for IPv6."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return address  # not an IP (a Unix socket's path): counts as itself
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


class Admission:
    """The handshake slots of the peer port, in all and per source (see the module's rules)."""

    def __init__(self, limit: int, per_source: int) -> None:
        if not 0 < per_source <= limit:
            raise ValueError("per_source must be between 1 and limit")
        self.limit = limit
        self.per_source = per_source
        self.refused: Counter[Refusal] = Counter()  # since the node started, by cause
        self._held: dict[str, deque[int]] = {}  # source: its tickets, oldest first
        self._source: dict[int, str] = {}  # ticket: its source
        self._next = 0

    @property
    def under_way(self) -> int:
        """Handshakes holding a slot now."""
        return len(self._source)

    def held_by(self, source: str) -> int:
        return len(self._held.get(source, ()))

    def admit(self, source: str) -> Admitted | Refusal:
        """A new connection from ``source``: its slot, or why it has none (counted)."""
        mine = self.held_by(source)
        evicted = None
        if mine >= self.per_source:
            return self._refuse(Refusal.SOURCE)
        if self.under_way >= self.limit:
            busiest = max(self._held, key=lambda s: len(self._held[s]))
            if len(self._held[busiest]) <= mine:
                return self._refuse(Refusal.BUSY)
            evicted = self._held[busiest][0]
            self.release(evicted)
            self.refused[Refusal.EVICTED] += 1
        self._next += 1
        self._held.setdefault(source, deque()).append(self._next)
        self._source[self._next] = source
        return Admitted(self._next, evicted)

    def release(self, ticket: int) -> None:
        """The handshake proved a pinned certificate, or its connection ended (once or more)."""
        source = self._source.pop(ticket, None)
        if source is None:
            return
        held = self._held[source]
        held.remove(ticket)
        if not held:
            del self._held[source]

    def count(self, refusal: Refusal) -> None:
        """A connection that held a slot ended without proving a pinned certificate."""
        self.refused[refusal] += 1

    def _refuse(self, refusal: Refusal) -> Refusal:
        self.refused[refusal] += 1
        return refusal
