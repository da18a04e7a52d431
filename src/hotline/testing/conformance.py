"""The promises every ``Store`` keeps, checked against a fresh, empty store.

Run ``check_store_conformance`` on each implementation (SQLite now, PostgreSQL later) so that
they cannot drift. The checks run in order on one store, each continuing from what the one
before left: the sending side, the receiving side, acknowledgements, the transcript read back.
"""

from __future__ import annotations

from dataclasses import replace

from hotline.errors import AcknowledgeError, NotFoundError, StoreError
from hotline.log import leaf_hash, verify_inclusion
from hotline.protocol import InboundSequence
from hotline.storage import (
    Acknowledgement,
    ChannelState,
    Dispatched,
    Draft,
    InboxRow,
    PeerRecord,
    RetiredKey,
    SentAgain,
    Store,
    StoredAnswer,
)

__all__ = ["check_store_conformance"]


async def check_store_conformance(store: Store) -> None:
    """The promises every ``Store`` keeps, checked against a fresh, empty store."""
    peer = PeerRecord("BRAVO", b"\x01" * 32, b"cert", ("127.0.0.1:1",), "card", 1)
    await store.add_peer(peer)
    assert await store.peers() == [peer]
    # A peer's state is kept with who set it, when and why; pinning again leaves it as it is.
    assert await store.set_peer_state("BRAVO", "suspended", 5, "watch", "exercise") is True
    assert await store.set_peer_state("CHARLIE", "suspended", 5, "watch", None) is False
    [held] = await store.peers()
    assert (held.state, held.state_since_ms, held.state_by, held.state_remark) == ("suspended", 5, "watch", "exercise")
    await store.add_peer(peer)
    assert (await store.peers())[0].state == "suspended"
    assert await store.set_peer_state("BRAVO", "active", 6, "watch", None)
    [peer] = await store.peers()
    assert peer.state == "active"
    # A key rotated away from is kept, once, and retired at a log size.
    retired = RetiredKey("BRAVO", b"\x05" * 32, b"old-cert", "old-card", 7)
    await store.add_retired_key(retired)
    await store.add_retired_key(retired)
    assert await store.retired_keys() == [retired]
    assert await store.retire_key("BRAVO", b"\x05" * 32, 9, 120) is True
    assert await store.retire_key("BRAVO", b"\x06" * 32, 9, 120) is False
    assert [(k.retired_ms, k.retired_size) for k in await store.retired_keys()] == [(9, 120)]
    assert await store.channel_state("BRAVO", 10) == ChannelState(send_next=1)
    assert await store.transcript_size() == 0
    await _check_sending(store)
    await _check_receiving(store)
    await _check_acknowledgements(store)
    await _check_transcript_read_back(store)
    await _check_recovery(store)


def _draft(precedence: str, ref: str | None = None) -> Draft:
    return Draft("BRAVO", precedence, "UNCLASSIFIED", "free_text", 1, b"\xa0", None, 10, ref, due_ms=600_010)


async def _check_sending(store: Store) -> None:
    # Precedence orders the queue; the number (serial) keeps the order of arrival.
    queued = await store.enqueue([_draft("ROUTINE", "r1"), _draft("FLASH"), _draft("PRIORITY")])
    assert [q.number for q in queued] == [1, 2, 3]
    assert all(q.new for q in queued)
    [again] = await store.enqueue([_draft("ROUTINE", "r1")])  # idempotent by ref
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
    assert await store.channel_state("BRAVO", 10) == ChannelState(send_next=3)
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


def _received(seq: int, number: int, due_ms: int | None = 600_002) -> InboxRow:
    return InboxRow(
        "BRAVO",
        seq,
        number,
        bytes([seq]) * 32,
        "FLASH",
        "UNCLASSIFIED",
        "free_text",
        b"\xa0",
        1,
        2,
        b"env",
        due_ms=due_ms,
    )


async def _check_receiving(store: Store) -> None:
    # Receiving: the inbox row and our receipt, then the answer to a duplicate.
    rows = [_received(seq, 6 + seq) for seq in (1, 2)]
    await store.store_inbound(rows, b"rcpt", 5, [])  # two envelopes, one receipt naming both
    assert await store.stored_answer("BRAVO", 2) == StoredAnswer(b"\x02" * 32, b"rcpt", True)
    await store.store_refused("BRAVO", 3, True, b"\x06" * 32, b"bad", "invalid-field", "x", b"rej", 3, 8)
    assert await store.stored_answer("BRAVO", 3) == StoredAnswer(b"\x06" * 32, b"rej", False)
    assert await store.stored_answer("BRAVO", 4) is None
    assert (await store.channel_state("BRAVO", 10)).recv_used == (1, 2, 3)
    assert await store.transcript_size() == 10
    # Numbers that came ahead by the other lane are used too: with 6 and 8 held, the sender
    # resumes at 4 and the receiver remembers not to take 6 or 8 twice.
    late = _received(0, 0, due_ms=None)  # no one to acknowledge these, to keep what follows simple
    ahead = [replace(late, seq=seq, envelope_id=bytes([seq]) * 32, number=20 + seq) for seq in (6, 8)]
    await store.store_inbound(ahead, b"rcpt-ahead", 10, [])
    state = await store.channel_state("BRAVO", 10)
    assert state == ChannelState(send_next=3, recv_used=(1, 2, 3, 6, 8))
    resumed = InboundSequence.resume(state.recv_used, reach=10)
    assert (resumed.next_seq, resumed.ahead) == (4, {6, 8})
    await store.store_inbound([replace(late, seq=4, envelope_id=b"\x04" * 32, number=24)], b"r4", 13, [])
    await store.store_refused("BRAVO", 5, True, b"\x05" * 32, b"bad", "invalid-field", "x", b"rej", 3, 15)
    # A refusal that did not use its number up (consumed False) leaves it free.
    await store.store_refused("BRAVO", 7, False, b"\x07" * 32, b"bad", "gap", "x", b"rej", 3, 17)
    assert await store.channel_state("BRAVO", 10) == ChannelState(send_next=3, recv_used=(1, 2, 3, 4, 5, 6, 8))
    # Only as many of the highest as asked for are read.
    assert (await store.channel_state("BRAVO", 3)).recv_used == (5, 6, 8)
    inbox = [(r.seq, r.receipt) for r in await store.inbox()]
    assert inbox == [(8, b"rcpt-ahead"), (6, b"rcpt-ahead"), (4, b"r4"), (2, b"rcpt"), (1, b"rcpt")]


async def _check_acknowledgements(store: Store) -> None:
    """People acknowledge, and the peer's acknowledgements settle."""
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


async def _check_transcript_read_back(store: Store) -> None:
    """What a reader who trusts neither node gets: entries, tree hashes, positions, evidence."""
    size = await store.transcript_size()
    entries = await store.transcript_entries(0, size + 10)
    assert [index for index, _ in entries] == list(range(size))
    assert entries[0] == (0, b"env-1")  # our message 2, dispatched first
    assert await store.transcript_entries(3, 2) == entries[3:5]  # a page from anywhere
    assert await store.tree_hashes(0, 0, size) == [(index, leaf_hash(entry)) for index, entry in entries]
    # Where messages sit: ours by serial or id (a queued one has no envelope yet), theirs by serial.
    assert await store.log_positions(sent=2) == [0]
    assert await store.log_positions(envelope_id=b"\x03" * 32) == [1]
    assert await store.log_positions(sent=1) == []
    assert await store.log_positions(received=("BRAVO", 7)) == [5]
    assert await store.log_positions(envelope_id=b"\x01" * 32) == [5]
    # Every recorded position holds its message's envelope (our 2 and 3, their six), and every
    # receipt is its own entry (six: three sent, three received).
    assert await store.check_positions() == (14, [])
    await _check_checkpoints_and_evidence(store, size, entries[2][1])


async def _check_checkpoints_and_evidence(store: Store, size: int, entry: bytes) -> None:
    assert await store.checkpoints() == []
    missing = False
    try:
        await store.evidence(2)
    except NotFoundError:
        missing = True  # no checkpoint covers it yet
    assert missing
    newest = await store.make_checkpoint(lambda n, root: f"size {n} root {root.hex()}\n", 60, 8)
    assert newest is not None
    assert newest.size == size
    assert [c.size for c in await store.checkpoints()] == [*range(8, size, 8), size]
    found = await store.evidence(2)
    assert (found.entry, found.index, found.checkpoint) == (entry, 2, newest)
    verify_inclusion(leaf_hash(entry), 2, newest.size, found.hashes, newest.root)
    missing = False
    try:
        await store.evidence(size)
    except NotFoundError:
        missing = True  # no such entry
    assert missing


async def _check_recovery(store: Store) -> None:
    """A restore is recorded and waits; a rebuild that does not match a cosigned root changes
    nothing; one that does is committed whole and closes the restore."""
    assert await store.pending_recovery() is None
    size = await store.transcript_size()
    restored = await store.mark_restored("copy.backup", 70)
    assert (restored.from_size, restored.backup, restored.done_ms) == (size, "copy.backup", None)
    assert await store.pending_recovery() == restored
    # Where our copy of the channel stands, and so where BRAVO need look: from the first of its
    # numbers our copy has not answered, and the first of ours it may lack an answer for.
    bounds = await store.recovery_bounds("BRAVO")
    ours = await store.outbox()
    unanswered = [r.seq for r in ours if r.seq is not None and r.state not in ("delivered", "rejected")]
    assert bounds.ours_from == min(unanswered, default=max((r.seq or 0 for r in ours), default=0) + 1)
    # Every number of BRAVO's below holds an answer of ours (stored, or refused and used up).
    assert await store.stored_answer("BRAVO", bounds.theirs_from) is None
    assert all([await store.stored_answer("BRAVO", n) for n in range(1, bounds.theirs_from)])
    first = await store.exchanged_from("BRAVO", bounds.theirs_from, bounds.ours_from)
    assert 0 <= first <= size
    assert await store.exchanged_from("BRAVO", 10**9, 10**9) == size, "nothing past every number"
    assert await store.held_leaves([leaf_hash(b"env-1"), leaf_hash(b"never")]) == {leaf_hash(b"env-1")}
    sent = SentAgain(90, "BRAVO", 90, "ROUTINE", "UNCLASSIFIED", "free_text", 1, b"\xa0", None, 80, None,
                     b"env-90", b"\x90" * 32)  # fmt: skip
    wrong = [(size + 1, b"\x00" * 32, "a checkpoint that does not match\n")]
    refused = False
    try:
        await store.rebuild([("sent", (sent, size))], wrong, 81, "report")
    except StoreError:
        refused = True
    assert refused
    assert await store.transcript_size() == size, "a refused rebuild changed the log"
    assert await store.pending_recovery() == restored
    assert await store.find_sent(number=90) is None
    root = leaf_hash(b"env-90")  # checked below through the store's own tree, not trusted here
    grown = await store.root_at(size)
    assert grown is not None
    # A witness's checkpoint within the log comes back with it, checked against the tree.
    await store.rebuild([("sent", (sent, size))], [(size, grown, "the note at that size\n")], 82, "nothing lost")
    assert (await store.checkpoint_at(size)) is not None
    assert await store.transcript_size() == size + 1
    assert await store.root_at(size + 1) is not None
    assert (await store.transcript_entries(size, 1)) == [(size, b"env-90")]
    assert (await store.tree_hashes(0, size, 1)) == [(size, root)]
    found = await store.find_sent(number=90)
    assert found is not None
    assert found.seq == 90
    assert await store.pending_recovery() is None
    [done] = [r for r in await store.recoveries() if r.number == restored.number]
    assert (done.done_ms, done.to_size, done.report) == (82, size + 1, "nothing lost")
