"""What every SQL store offers: each ``Store`` operation, queued as a plain function of the
database (the modules beside this one) to run in the engine's next group commit.

An engine's store (SQLite, PostgreSQL) provides ``_call`` (queue an operation into the next
group; its future resolves once the group is durable) and ``_read_now`` (a read answered from
what is committed, at once: the receiver asks it for every batch, and a FLASH must not wait a
commit for it).
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from hotline.envelope import Precedence
from hotline.errors import StoreError
from hotline.log import Checkpoint, Offer, Refusal, Verifier
from hotline.storage.alarms import StoredAlarm
from hotline.storage.audit import AuditEntry
from hotline.storage.records import (
    Acknowledgement,
    AwaitingAck,
    ChannelState,
    Dispatched,
    Draft,
    InboundStored,
    InboxRow,
    LoggedMessage,
    MessageFilter,
    OutboxRow,
    Page,
    PeerRecord,
    Queued,
    ReplyTarget,
    RetiredKey,
    SignedMessage,
    StoredAnswer,
    Undelivered,
)
from hotline.storage.recovery import Recovery, RecoveryBounds, Replay
from hotline.storage.sessions import StoredSession
from hotline.storage.sql import (
    acknowledgements,
    alarms,
    audit,
    inbox,
    keys,
    messages,
    numbering,
    outbox,
    peers,
    recovery,
    sessions,
    transcript,
    witnessing,
)
from hotline.storage.witnessing import Equivocation, Evidence, StoredCheckpoint

LOWEST_RANK = len(Precedence) - 1
T = TypeVar("T")


Batch = list[tuple[asyncio.Future[Any], Callable[..., Any], tuple[Any, ...]]]


class SqlStore(ABC):
    _batch: Batch  # the operations called since the group at the engine began, in call order
    _closed: bool

    def _call(self, op: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        # Queued now, in call order; the caller awaits durability when it chooses.
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        if self._closed:
            future.set_exception(StoreError("the store is closed"))
            return future
        if not self._batch:
            self._first_queued(loop)
        self._batch.append((future, op, args))
        return future

    @abstractmethod
    def _first_queued(self, loop: asyncio.AbstractEventLoop) -> None:
        """The batch was empty and an operation is being queued: see that a group will run it."""

    @staticmethod
    def _fail(batch: Batch, message: str) -> None:
        for future, _, _ in batch:
            if not future.done():
                future.set_exception(StoreError(message))

    @abstractmethod
    def _read_now(self, op: Callable[..., T], *args: Any) -> T: ...

    # -- peers, and the counters recovered at start-up ------------------------------------------

    def add_peer(self, peer: PeerRecord) -> asyncio.Future[None]:
        return self._call(peers.add_peer, peer)

    def peers(self) -> asyncio.Future[list[PeerRecord]]:
        return self._call(peers.list_peers)

    def add_retired_key(self, key: RetiredKey) -> asyncio.Future[None]:
        return self._call(keys.add_retired_key, key)

    def retire_key(self, party: str, sign_key: bytes, at_ms: int, log_size: int) -> asyncio.Future[bool]:
        return self._call(keys.retire_key, party, sign_key, at_ms, log_size)

    def retired_keys(self) -> asyncio.Future[list[RetiredKey]]:
        return self._call(keys.retired_keys)

    def rotation_envelopes(self, peer: str | None) -> asyncio.Future[list[bytes]]:
        return self._call(keys.rotation_envelopes, peer)

    def witnessed_leaves(self, peer: str, start: int, limit: int) -> asyncio.Future[list[tuple[int, bytes]]]:
        return self._call(witnessing.witnessed_leaves, peer, start, limit)

    def close_rotations(self, party: str, at_ms: int) -> asyncio.Future[None]:
        return self._call(keys.close_rotations, party, at_ms)

    def set_peer_state(
        self, party: str, state: str, since_ms: int, by: str, remark: str | None
    ) -> asyncio.Future[bool]:
        return self._call(peers.set_peer_state, party, state, since_ms, by, remark)

    def channel_state(self, peer: str, tail: int) -> asyncio.Future[ChannelState]:
        return self._call(numbering.channel_state, peer, tail)

    def transcript_size(self) -> asyncio.Future[int]:
        return self._call(transcript.transcript_size)

    # -- the sending side -------------------------------------------------------------------

    def enqueue(self, drafts: list[Draft]) -> asyncio.Future[list[Queued]]:
        return self._call(outbox.enqueue, drafts)

    def next_queued(
        self, peer: str, limit: int, ranks: tuple[int, int] = (0, LOWEST_RANK)
    ) -> asyncio.Future[list[Queued]]:
        return self._call(outbox.next_queued, peer, limit, ranks)

    def dispatch(self, items: list[Dispatched], transmitted: bool, first_index: int) -> asyncio.Future[None]:
        return self._call(outbox.dispatch, items, transmitted, first_index)

    def mark_transmitted(self, numbers: list[int], at_ms: int) -> asyncio.Future[None]:
        return self._call(outbox.mark_transmitted, numbers, at_ms)

    def unreceipted(self, peer: str) -> asyncio.Future[list[Dispatched]]:
        return self._call(outbox.unreceipted, peer)

    def record_receipt(
        self, peer: str, delivered: list[tuple[int, int]], receipt: bytes, at_ms: int, index: int
    ) -> asyncio.Future[int]:
        return self._call(outbox.record_receipt, peer, delivered, receipt, at_ms, index)

    def record_rejection(self, envelope_id: bytes, rejection: bytes, at_ms: int, index: int) -> asyncio.Future[bool]:
        return self._call(outbox.record_rejection, envelope_id, rejection, at_ms, index)

    # -- the receiving side -----------------------------------------------------------------

    def store_inbound(
        self, rows: list[InboxRow], receipt: bytes, first_index: int, replies: list[Draft]
    ) -> asyncio.Future[InboundStored]:
        return self._call(inbox.store_inbound, rows, receipt, first_index, replies)

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
        kept: bool = True,
    ) -> asyncio.Future[None]:
        return self._call(
            inbox.store_refused,
            peer,
            seq,
            consumed,
            envelope_id,
            envelope,
            reason,
            detail,
            rejection,
            at_ms,
            index,
            kept,
        )

    def refused_bytes_kept(self, peer: str, since_ms: int) -> int:
        """Read now, on the loop's thread, as ``held_serials``: the evidence kept of a peer's
        refused envelopes since ``since_ms``, in bytes (what is queued is not seen)."""
        return self._read_now(inbox.refused_bytes_kept, peer, since_ms)

    def stored_answer(self, peer: str, seq: int) -> asyncio.Future[StoredAnswer | None]:
        return self._call(inbox.stored_answer, peer, seq)

    def held_serials(self, peer: str, numbers: list[int]) -> dict[int, bytes]:
        """Read now, on the loop's thread, between commits: what is committed. A batch queued
        and not yet committed is not seen; the caller accounts for those."""
        return self._read_now(inbox.find_serials, peer, numbers)

    def reply_targets(self, ids: list[bytes]) -> dict[bytes, ReplyTarget]:
        """Read now, on the loop's thread, as ``held_serials``: the messages that replies name."""
        return self._read_now(messages.reply_targets, ids)

    # -- acknowledgements by people ---------------------------------------------------------

    def acknowledge(self, envelope_id: bytes, ack: Acknowledgement, carrier: Draft) -> asyncio.Future[Queued]:
        return self._call(acknowledgements.acknowledge, envelope_id, ack, carrier)

    def awaiting_ack(self, party: str) -> asyncio.Future[list[AwaitingAck]]:
        return self._call(acknowledgements.awaiting_ack, party)

    # -- reading, for operators -------------------------------------------------------------

    def find_sent(
        self, number: int | None = None, envelope_id: bytes | None = None
    ) -> asyncio.Future[OutboxRow | None]:
        return self._call(messages.find_sent, number, envelope_id)

    def find_received(
        self, peer: str | None = None, number: int | None = None, envelope_id: bytes | None = None
    ) -> asyncio.Future[InboxRow | None]:
        return self._call(messages.find_received, peer, number, envelope_id)

    def replies(self, envelope_id: bytes) -> asyncio.Future[tuple[list[OutboxRow], list[InboxRow]]]:
        return self._call(messages.replies, envelope_id)

    def last_link_test(self, peer: str) -> asyncio.Future[OutboxRow | None]:
        return self._call(messages.last_link_test, peer)

    def outbox(self, limit: int = 1000) -> asyncio.Future[list[OutboxRow]]:
        return self._call(messages.outbox, limit)

    def inbox(self, limit: int = 1000) -> asyncio.Future[list[InboxRow]]:
        return self._call(messages.inbox, limit)

    def find_outbox(self, numbers: list[int]) -> asyncio.Future[list[OutboxRow]]:
        return self._call(messages.find_outbox, numbers)

    def outbox_entries(self, limit: int = 1000) -> asyncio.Future[list[OutboxRow]]:
        return self._call(messages.outbox_entries, limit)

    def broadcast_copies(self, first: int) -> asyncio.Future[list[OutboxRow]]:
        return self._call(messages.broadcast_copies, first)

    def declaration_messages(self, party: str) -> asyncio.Future[list[SignedMessage]]:
        return self._call(messages.declaration_messages, party)

    def queue_depths(self) -> asyncio.Future[dict[str, int]]:
        return self._call(messages.queue_depths)

    def oldest_awaiting(self) -> asyncio.Future[dict[str, int]]:
        return self._call(messages.oldest_awaiting)

    def outbox_page(self, offset: int, limit: int) -> asyncio.Future[Page[OutboxRow]]:
        return self._call(messages.outbox_page, offset, limit)

    def awaiting_received(
        self, chased_as_flash: tuple[str, ...], flash_only: bool, offset: int, limit: int
    ) -> asyncio.Future[Page[AwaitingAck]]:
        return self._call(messages.awaiting_received, chased_as_flash, flash_only, offset, limit)

    def message_log(
        self, party: str, found: MessageFilter, offset: int, limit: int
    ) -> asyncio.Future[Page[LoggedMessage]]:
        return self._call(messages.message_log, party, found, offset, limit)

    def queue_depth(self, peer: str) -> asyncio.Future[int]:
        return self._call(outbox.queue_depth, peer)

    def undelivered_urgent(self) -> asyncio.Future[list[Undelivered]]:
        return self._call(outbox.undelivered_urgent)

    def held_number(self, peer: str) -> asyncio.Future[int | None]:
        return self._call(inbox.held_number, peer)

    # -- numbering resumed after a restore --------------------------------------------------

    def skip_held_serials(self, peer: str, held: int, at_ms: int) -> asyncio.Future[int | None]:
        return self._call(numbering.skip_held_serials, peer, held, at_ms)

    def resume_numbering(
        self, peer: str, send_next: int, number_next: int, at_ms: int, by: str, remark: str | None
    ) -> asyncio.Future[None]:
        return self._call(numbering.resume_numbering, peer, send_next, number_next, at_ms, by, remark)

    # -- a restore from a backup, and the recovery from peers after it --------------------------

    def mark_restored(self, backup: str, at_ms: int) -> asyncio.Future[Recovery]:
        return self._call(recovery.mark_restored, backup, at_ms)

    def pending_recovery(self) -> asyncio.Future[Recovery | None]:
        return self._call(recovery.pending_recovery)

    def recoveries(self) -> asyncio.Future[list[Recovery]]:
        return self._call(recovery.recoveries)

    def recovery_bounds(self, peer: str) -> asyncio.Future[RecoveryBounds]:
        return self._call(recovery.bounds, peer)

    def exchanged_from(self, peer: str, ours_from: int, theirs_from: int) -> asyncio.Future[int]:
        return self._call(recovery.exchanged_from, peer, ours_from, theirs_from)

    def held_leaves(self, leaves: list[bytes]) -> asyncio.Future[set[bytes]]:
        return self._call(recovery.held_leaves, leaves)

    def witnessed_checkpoint(self, peer: str) -> asyncio.Future[tuple[int, str] | None]:
        return self._call(recovery.witnessed_checkpoint, peer)

    def unkept_rejections(self, peer: str, ours_from: int) -> asyncio.Future[list[bytes]]:
        return self._call(recovery.unkept_rejections, peer, ours_from)

    def rebuild(
        self,
        replays: list[Replay],
        checkpoints: list[tuple[int, bytes, str]],
        at_ms: int,
        report: str,
        lost: bool = False,
    ) -> asyncio.Future[int]:
        return self._call(recovery.rebuild, replays, checkpoints, at_ms, report, lost)

    # -- latched alarms ---------------------------------------------------------------------

    def raise_alarm(
        self, kind: str, peer: str | None, subject: str | None, level: str, facts: dict[str, Any], at_ms: int
    ) -> asyncio.Future[StoredAlarm]:
        return self._call(alarms.raise_alarm, kind, peer, subject, level, facts, at_ms)

    def open_alarms(self) -> asyncio.Future[list[StoredAlarm]]:
        return self._call(alarms.open_alarms)

    def alarm_history(self, limit: int) -> asyncio.Future[list[StoredAlarm]]:
        return self._call(alarms.alarm_history, limit)

    def closed_alarms(self, offset: int, limit: int) -> asyncio.Future[Page[StoredAlarm]]:
        return self._call(alarms.closed_alarms, offset, limit)

    def close_alarm(self, number: int, by: str, remark: str, at_ms: int) -> asyncio.Future[StoredAlarm]:
        return self._call(alarms.close_alarm, number, by, remark, at_ms)

    # -- the co-signed transcript -----------------------------------------------------------

    def make_checkpoint(
        self, sign: Callable[[int, bytes], str], at_ms: int, step: int
    ) -> asyncio.Future[StoredCheckpoint | None]:
        return self._call(witnessing.make_checkpoint, sign, at_ms, step)

    def next_checkpoint(self, after: int) -> asyncio.Future[StoredCheckpoint | None]:
        return self._call(witnessing.next_checkpoint, after)

    def latest_checkpoint(self) -> asyncio.Future[StoredCheckpoint | None]:
        return self._call(witnessing.latest_checkpoint)

    def checkpoint_at(self, size: int) -> asyncio.Future[StoredCheckpoint | None]:
        return self._call(witnessing.checkpoint_at, size)

    def checkpoints(self) -> asyncio.Future[list[StoredCheckpoint]]:
        return self._call(witnessing.checkpoints)

    def last_cosigned(self, witness: str) -> asyncio.Future[int]:
        return self._call(witnessing.last_cosigned, witness)

    def offer_for(self, peer: str, checkpoint: StoredCheckpoint, old_size: int) -> asyncio.Future[Offer]:
        return self._call(witnessing.offer_for, peer, checkpoint, old_size)

    def add_cosignature(self, size: int, witness: str, line: str, at_ms: int) -> asyncio.Future[None]:
        return self._call(witnessing.add_cosignature, size, witness, line, at_ms)

    def witness_offer(
        self, peer: str, offer: Offer, origin: str, verifier: Verifier | Sequence[Verifier], at_ms: int
    ) -> asyncio.Future[Checkpoint | Refusal]:
        return self._call(witnessing.witness_offer, peer, offer, origin, verifier, at_ms)

    def record_equivocation(
        self, log: str, reason: str, detail: str, held: str | None, offered: str, at_ms: int, reported_by: str
    ) -> asyncio.Future[None]:
        return self._call(witnessing.record_equivocation, log, reason, detail, held, offered, at_ms, reported_by)

    def equivocations(self) -> asyncio.Future[list[Equivocation]]:
        return self._call(witnessing.equivocations)

    def root_at(self, size: int) -> asyncio.Future[bytes | None]:
        return self._call(transcript.root_at, size)

    # -- the transcript read back, for people who trust neither node ------------------------

    def evidence(self, index: int) -> asyncio.Future[Evidence]:
        return self._call(witnessing.evidence, index)

    def transcript_entries(self, start: int, limit: int) -> asyncio.Future[list[tuple[int, bytes]]]:
        return self._call(transcript.transcript_entries, start, limit)

    def tree_hashes(self, level: int, start: int, limit: int) -> asyncio.Future[list[tuple[int, bytes]]]:
        return self._call(transcript.tree_hashes, level, start, limit)

    def log_positions(
        self, envelope_id: bytes | None = None, sent: int | None = None, received: tuple[str, int] | None = None
    ) -> asyncio.Future[list[int | None]]:
        return self._call(transcript.log_positions, envelope_id, sent, received)

    def check_positions(self) -> asyncio.Future[tuple[int, list[tuple[str, int | None]]]]:
        return self._call(transcript.check_positions)

    # -- the console's audit trail ----------------------------------------------------------

    def record_audit(self, entry: AuditEntry) -> asyncio.Future[None]:
        return self._call(audit.record_audit, entry)

    def audit_trail(self, limit: int) -> asyncio.Future[list[AuditEntry]]:
        return self._call(audit.audit_trail, limit)

    # -- the console's signed-in sessions ---------------------------------------------------

    def save_sessions(self, saved: list[StoredSession], touch: bool = False) -> asyncio.Future[None]:
        return self._call(sessions.save_sessions, saved, touch)

    def end_sessions(self, keys: list[str]) -> asyncio.Future[None]:
        return self._call(sessions.end_sessions, keys)

    def stored_sessions(self) -> asyncio.Future[list[StoredSession]]:
        return self._call(sessions.stored_sessions)
