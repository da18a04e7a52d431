"""Plain records that cross the Store interface. No behaviour; the store only keeps them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PeerRecord:
    party: str
    sign_key: bytes
    tls_cert: bytes
    addresses: tuple[str, ...]
    card: str
    added_ms: int


@dataclass(frozen=True)
class Draft:
    """A message an operator asked to send, before it has a sequence number or signature."""

    peer: str
    precedence: str
    marking: str
    kind: str
    kind_version: int
    body: bytes  # canonical CBOR of the form body
    reply_to: bytes | None
    created_ms: int
    ref: str | None = None  # the client's idempotency key: the same ref never queues twice


@dataclass(frozen=True)
class Queued:
    """A draft in the outbox, with the node-wide number people know it by."""

    number: int
    draft: Draft


@dataclass(frozen=True)
class Dispatched:
    """A queued message given its sequence number and signed; it may now go on the wire."""

    number: int
    peer: str
    seq: int
    envelope: bytes
    envelope_id: bytes
    signed_ms: int
    rank: int


@dataclass(frozen=True)
class ChannelState:
    """Where one channel stands, as the store proves it: the resume points of both directions."""

    recv_next: int
    send_next: int


@dataclass(frozen=True)
class OutboxRow:
    number: int
    peer: str
    ref: str | None
    precedence: str
    marking: str
    kind: str
    body: bytes
    created_ms: int
    seq: int | None
    envelope_id: bytes | None
    state: str
    sent_ms: int | None
    delivered_ms: int | None
    rejected_ms: int | None
    envelope: bytes | None
    receipt: bytes | None
    rejection: bytes | None


@dataclass(frozen=True)
class InboxRow:
    """A received envelope. ``receipt`` (the signed receipt that names it, perhaps with other
    envelopes of the same commit) is filled when the row is read back."""

    peer: str
    seq: int
    number: int
    envelope_id: bytes
    precedence: str
    marking: str
    kind: str
    body: bytes
    sent_ms: int
    received_ms: int
    envelope: bytes
    receipt: bytes = b""


@dataclass(frozen=True)
class StoredAnswer:
    """What the store holds for an inbound (peer, seq): the envelope id and our signed answer."""

    envelope_id: bytes
    answer: bytes  # the receipt, or the rejection if the envelope was refused
    is_receipt: bool
