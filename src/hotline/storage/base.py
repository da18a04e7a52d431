"""The narrow interface every store implements (SQLite now, PostgreSQL later).

The node is the only writer, and it relies on three promises:

1. Calling an operation queues it at once; awaiting the result waits until its effect is
   durable (fsync'd). Operations take effect in the order they were *called*, so the node can
   number transcript entries as it calls, and await later. Implementations batch concurrent calls into one
   transaction (group commit) but never reorder them.
2. Each operation is atomic: all of it or none of it is stored.
3. Counters the node derives at start-up (``channel_state``, ``transcript_size``) are exact.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from hotline.storage.records import (
    Acknowledgement,
    AwaitingAck,
    ChannelState,
    Dispatched,
    Draft,
    InboundStored,
    InboxRow,
    OutboxRow,
    PeerRecord,
    Queued,
    StoredAnswer,
)


class Store(Protocol):
    failure: str | None  # set once the engine has failed; every call fails from then on
    on_failure: Callable[[str], None] | None  # called once, when the engine fails

    def close(self) -> Awaitable[None]: ...

    # peers
    def add_peer(self, peer: PeerRecord) -> Awaitable[None]: ...
    def peers(self) -> Awaitable[list[PeerRecord]]: ...

    # counters recovered at start-up
    def channel_state(self, peer: str) -> Awaitable[ChannelState]: ...
    def transcript_size(self) -> Awaitable[int]: ...

    # the sending side
    def enqueue(self, drafts: list[Draft]) -> Awaitable[list[Queued]]: ...
    def next_queued(self, peer: str, limit: int, ranks: tuple[int, int] = ...) -> Awaitable[list[Queued]]: ...
    def dispatch(self, items: list[Dispatched], transmitted: bool, first_index: int) -> Awaitable[None]: ...
    def mark_transmitted(self, numbers: list[int], at_ms: int) -> Awaitable[None]: ...
    def unreceipted(self, peer: str) -> Awaitable[list[Dispatched]]: ...
    def record_receipt(
        self, peer: str, delivered: list[tuple[int, int]], receipt: bytes, at_ms: int, index: int
    ) -> Awaitable[int]: ...
    def record_rejection(self, envelope_id: bytes, rejection: bytes, at_ms: int, index: int) -> Awaitable[bool]: ...

    # the receiving side
    def store_inbound(
        self, rows: list[InboxRow], receipt: bytes, first_index: int, replies: list[Draft]
    ) -> Awaitable[InboundStored]: ...
    def store_refused(
        self,
        peer: str,
        seq: int | None,
        consumed: bool,
        envelope_id: bytes,
        envelope: bytes,
        reason: str,
        detail: str,
        rejection: bytes,
        at_ms: int,
        index: int,
    ) -> Awaitable[None]: ...
    def stored_answer(self, peer: str, seq: int) -> Awaitable[StoredAnswer | None]: ...

    # acknowledgements by people
    def acknowledge(self, envelope_id: bytes, ack: Acknowledgement, carrier: Draft) -> Awaitable[Queued]: ...
    def awaiting_ack(self, party: str) -> Awaitable[list[AwaitingAck]]: ...

    # reading, for operators
    def find_sent(self, number: int | None = None, envelope_id: bytes | None = None) -> Awaitable[OutboxRow | None]: ...
    def find_received(
        self, peer: str | None = None, number: int | None = None, envelope_id: bytes | None = None
    ) -> Awaitable[InboxRow | None]: ...
    def replies(self, envelope_id: bytes) -> Awaitable[tuple[list[OutboxRow], list[InboxRow]]]: ...
    def last_link_test(self, peer: str) -> Awaitable[OutboxRow | None]: ...
    def outbox(self, limit: int = 1000) -> Awaitable[list[OutboxRow]]: ...
    def inbox(self, limit: int = 1000) -> Awaitable[list[InboxRow]]: ...
    def find_outbox(self, numbers: list[int]) -> Awaitable[list[OutboxRow]]: ...
    def queue_depth(self, peer: str) -> Awaitable[int]: ...
