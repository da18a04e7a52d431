"""Test doubles shipped with the package, for our tests and for a partner nation's.

- ``FakeClock``: time as a number you advance; pass ``clock.now`` wherever the core wants time.
- ``Party`` / ``SessionPair``: two session cores wired back to back in memory, with real keys
  and real signatures, to test the protocol without sockets.
- ``sign_envelope``: a correctly signed envelope with any fields, for feeding a peer.
- ``check_store_conformance``: the promises of the ``Store`` interface, for any implementation.
- ``ManualClock``: the node's ``Clock`` on a time only the test moves (``fakeclock.py``).
- ``in_process_network``: two or more paired nodes in this process, real TLS on loopback, real
  stores, one ``ManualClock`` (``inprocess.py``); ``wait_until`` for what the network does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hotline.crypto import SigningKey, generate_signing_key
from hotline.envelope import Envelope, Precedence, seal
from hotline.protocol import InboundSequence, PeerSession
from hotline.protocol.events import Event
from hotline.testing.conformance import check_store_conformance
from hotline.testing.fakeclock import ManualClock
from hotline.testing.inprocess import (
    PARTIES,
    QUIET_WATCH,
    STEADY_TIMERS,
    InProcessNetwork,
    InProcessNode,
    build_network,
    in_process_network,
    wait_until,
)

__all__ = [
    "PARTIES",
    "QUIET_WATCH",
    "STEADY_TIMERS",
    "FakeClock",
    "InProcessNetwork",
    "InProcessNode",
    "ManualClock",
    "Party",
    "SessionPair",
    "build_network",
    "check_store_conformance",
    "in_process_network",
    "sign_envelope",
    "wait_until",
]


@dataclass
class FakeClock:
    now: float = 1000.0

    def advance(self, seconds: float) -> float:
        self.now += seconds
        return self.now


@dataclass
class Party:
    name: str
    key: SigningKey = field(default_factory=generate_signing_key)


def sign_envelope(
    sender: Party,
    recipient: str,
    seq: int,
    text: str = "test",
    *,
    number: int | None = None,
    overrides: dict[str, Any] | None = None,
) -> bytes:
    """A signed ``free_text`` envelope; ``overrides`` replace payload fields before signing."""
    envelope = Envelope(
        sender=sender.name,
        recipient=recipient,
        seq=seq,
        number=number or seq,
        sent_ms=1_790_000_000_000,
        kind="free_text",
        body={"text": text, "lang": "en"},
        precedence=Precedence.ROUTINE,
    )
    fields = {**envelope.fields(), **(overrides or {})}
    return seal("envelope", fields, sender.key)


class SessionPair:
    """Two ``PeerSession`` cores connected in memory, after a completed handshake."""

    def __init__(self, a: Party | None = None, b: Party | None = None, clock: FakeClock | None = None) -> None:
        self.clock = clock or FakeClock()
        self.a_party = a or Party("ALPHA")
        self.b_party = b or Party("BRAVO")
        self.a = self._session(self.a_party, self.b_party)
        self.b = self._session(self.b_party, self.a_party)
        self.a.hello(self.clock.now)
        self.b.hello(self.clock.now)
        self.transfer()

    def _session(self, local: Party, peer: Party) -> PeerSession:
        return PeerSession(
            local=local.name,
            peer=peer.name,
            peer_key=peer.key.verify_key,
            inbound=InboundSequence(1),
            send_next=1,
            now=self.clock.now,
        )

    def transfer(self) -> tuple[list[Event], list[Event]]:
        """Move bytes both ways until quiet; return the events each side saw."""
        seen_a: list[Event] = []
        seen_b: list[Event] = []
        while True:
            to_b, to_a = self.a.data_to_send(), self.b.data_to_send()
            if not to_a and not to_b:
                return seen_a, seen_b
            for data, session, seen in ((to_b, self.b, seen_b), (to_a, self.a, seen_a)):
                if data:
                    session.receive_data(data, self.clock.now)
                    while (event := session.next_event(self.clock.now)) is not None:
                        seen.append(event)
