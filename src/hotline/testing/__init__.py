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

from dataclasses import dataclass, field, replace
from typing import Any

from hotline.crypto import SigningKey, generate_signing_key
from hotline.envelope import Envelope, Precedence, seal
from hotline.errors import AcknowledgeError, StoreError
from hotline.protocol import InboundSequence, PeerSession
from hotline.protocol.events import Event
from hotline.storage import (
    Acknowledgement,
    ChannelState,
    Dispatched,
    Draft,
    InboxRow,
    PeerRecord,
    Store,
    StoredAnswer,
)
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


async def check_store_conformance(store: Store) -> None:
    """The promises every ``Store`` keeps, checked against a fresh, empty store.

    Run it on each implementation (SQLite now, PostgreSQL later) so that they cannot drift.
    """
    peer = PeerRecord("BRAVO", b"\x01" * 32, b"cert", ("127.0.0.1:1",), "card", 1)
    await store.add_peer(peer)
    assert await store.peers() == [peer]
    assert await store.channel_state("BRAVO") == ChannelState(recv_next=1, send_next=1)
    assert await store.transcript_size() == 0

    def draft(precedence: str, ref: str | None = None) -> Draft:
        return Draft("BRAVO", precedence, "UNCLASSIFIED", "free_text", 1, b"\xa0", None, 10, ref, due_ms=600_010)

    # Precedence orders the queue; the number (serial) keeps the order of arrival.
    queued = await store.enqueue([draft("ROUTINE", "r1"), draft("FLASH"), draft("PRIORITY")])
    assert [q.number for q in queued] == [1, 2, 3]
    assert all(q.new for q in queued)
    [again] = await store.enqueue([draft("ROUTINE", "r1")])  # idempotent by ref
    assert (again.number, again.new) == (1, False)  # and says so: nothing new to track
    assert [q.number for q in await store.next_queued("BRAVO", 10)] == [2, 3, 1]
    # Each lane's dispatcher takes only its own precedences (ranks 0-1 urgent, 2-3 ordinary).
    assert [q.number for q in await store.next_queued("BRAVO", 10, (0, 1))] == [2]
    assert [q.number for q in await store.next_queued("BRAVO", 10, (2, 3))] == [3, 1]

    # Calls take effect in call order: number transcript entries as you call, await later.
    first = store.dispatch([Dispatched(2, "BRAVO", 1, b"env-1", b"\x02" * 32, 20, 0)], True, 0)
    second = store.dispatch([Dispatched(3, "BRAVO", 2, b"env-2", b"\x03" * 32, 20, 2)], False, 1)
    await first
    await second
    assert [d.seq for d in await store.unreceipted("BRAVO")] == [1, 2]
    assert await store.channel_state("BRAVO") == ChannelState(recv_next=1, send_next=3)
    assert await store.record_receipt("BRAVO", [(1, 40)], b"receipt-1", 30, 2) == 1
    assert await store.record_rejection(b"\x03" * 32, b"rejection", 32, 3)
    # Delivered only once; a repeated receipt still enters the transcript at the number given.
    assert await store.record_receipt("BRAVO", [(1, 40)], b"receipt-1", 31, 4) == 0
    assert await store.unreceipted("BRAVO") == []
    states = {row.number: row.state for row in await store.outbox()}
    assert states == {1: "queued", 2: "delivered", 3: "rejected"}

    # A transcript number that does not extend the log is refused, and changes nothing.
    failed = False
    try:
        await store.dispatch([Dispatched(1, "BRAVO", 3, b"env-3", b"\x04" * 32, 20, 3)], True, 17)
    except StoreError:
        failed = True
    assert failed
    assert await store.transcript_size() == 5
    assert [q.number for q in await store.next_queued("BRAVO", 10)] == [1]

    # Receiving: the inbox row and our receipt, then the answer to a duplicate.
    rows = [
        InboxRow(
            "BRAVO",
            seq,
            6 + seq,
            bytes([seq]) * 32,
            "FLASH",
            "UNCLASSIFIED",
            "free_text",
            b"\xa0",
            1,
            2,
            b"env",
            due_ms=600_002,
        )
        for seq in (1, 2)
    ]
    await store.store_inbound(rows, b"rcpt", 5, [])  # two envelopes, one receipt naming both
    assert await store.stored_answer("BRAVO", 2) == StoredAnswer(b"\x02" * 32, b"rcpt", True)
    await store.store_refused("BRAVO", 3, True, b"\x06" * 32, b"bad", "invalid-field", "x", b"rej", 3, 8)
    assert await store.stored_answer("BRAVO", 3) == StoredAnswer(b"\x06" * 32, b"rej", False)
    assert await store.stored_answer("BRAVO", 4) is None
    assert (await store.channel_state("BRAVO")).recv_next == 4
    assert await store.transcript_size() == 10
    # Numbers that came ahead by the other lane are recovered as such: 6 and 8 are held, so the
    # sender resumes at 4 and the receiver remembers not to take 6 or 8 twice.
    late = replace(rows[0], due_ms=None)  # no one to acknowledge these, to keep what follows simple
    ahead = [replace(late, seq=seq, envelope_id=bytes([seq]) * 32, number=20 + seq) for seq in (6, 8)]
    await store.store_inbound(ahead, b"rcpt-ahead", 10, [])
    assert await store.channel_state("BRAVO") == ChannelState(recv_next=4, send_next=3, recv_ahead=(6, 8))
    await store.store_inbound([replace(late, seq=4, envelope_id=b"\x04" * 32, number=24)], b"r4", 13, [])
    await store.store_refused("BRAVO", 5, True, b"\x05" * 32, b"bad", "invalid-field", "x", b"rej", 3, 15)
    assert await store.channel_state("BRAVO") == ChannelState(recv_next=7, send_next=3, recv_ahead=(8,))
    inbox = [(r.seq, r.receipt) for r in await store.inbox()]
    assert inbox == [(8, b"rcpt-ahead"), (6, b"rcpt-ahead"), (4, b"r4"), (2, b"rcpt"), (1, b"rcpt")]
    await _check_acknowledgements(store)


async def _check_acknowledgements(store: Store) -> None:
    """Continues the conformance check: people acknowledge, and the peer's acknowledgements settle."""
    awaiting = await store.awaiting_ack("ALFA")
    # Ours: 1 (queued) and 2 (delivered) await the peer's person; 3 was rejected. Theirs: 7 and 8.
    assert sorted((a.received, a.number) for a in awaiting) == [(False, 1), (False, 2), (True, 7), (True, 8)]
    carrier = Draft("BRAVO", "FLASH", "UNCLASSIFIED", "ack", 1, b"\xa0", b"\x01" * 32, 40)
    queued = await store.acknowledge(b"\x01" * 32, Acknowledgement("Lt Ivanov", 40, "seen"), carrier)
    row = await store.find_received(envelope_id=b"\x01" * 32)
    assert row is not None
    assert row.ack == Acknowledgement("Lt Ivanov", 40, "seen")
    assert row.ack_number == queued.number
    # Twice is refused, and the refused call queues no second acknowledgement envelope.
    depth = await store.queue_depth("BRAVO")
    refused = False
    try:
        await store.acknowledge(b"\x01" * 32, Acknowledgement("Maj Petrov", 41), carrier)
    except AcknowledgeError:
        refused = True
    assert refused
    assert await store.queue_depth("BRAVO") == depth
    assert [a.number for a in await store.awaiting_ack("ALFA") if a.received] == [8]
    # The peer acknowledges our message 2 (envelope id 02..): it is settled in the same commit.
    peer_ack = InboxRow(
        "BRAVO",
        3,
        9,
        b"\x09" * 32,
        "FLASH",
        "UNCLASSIFIED",
        "ack",
        b"\xa0",
        50,
        51,
        b"ack-env",
        reply_to=b"\x02" * 32,
        acknowledges=Acknowledgement("Col Smith", 50),
    )
    stored = await store.store_inbound([peer_ack], b"rcpt-2", await store.transcript_size(), [])
    assert stored.acknowledged == [2]
    assert [a.number for a in await store.awaiting_ack("ALFA") if not a.received] == [1]
    sent = await store.find_sent(number=2)
    assert sent is not None
    assert sent.display_state == "acknowledged"
    assert sent.ack == Acknowledgement("Col Smith", 50)
    assert sent.ack_received_ms == 51
    replies_out, replies_in = await store.replies(b"\x02" * 32)
    assert (replies_out, [r.number for r in replies_in]) == ([], [9])
