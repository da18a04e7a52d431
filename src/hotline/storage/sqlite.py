"""The SQLite store: one file, WAL, ``synchronous=FULL``, group commit.

Why group commit: an fsync costs the same for one row as for a thousand, so the store runs
every operation called during one turn of the event loop in one transaction, commits once, and
only then wakes their callers. Each operation runs inside its own SAVEPOINT so that one failing
operation does not undo the others.

Durability: with WAL and ``synchronous=FULL`` SQLite fsyncs the WAL at every commit; a caller
is woken only after the commit returned, so anything a caller was told is stored survives
``kill -9`` and power loss.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from hotline.envelope import Precedence, serial
from hotline.errors import AcknowledgeError, NotFoundError, RefConflictError, StoreError
from hotline.log import Checkpoint, Offer, Refusal, Verifier
from hotline.protocol.sequence import REACH
from hotline.storage import alarms, audit, witnessing
from hotline.storage.audit import AuditEntry
from hotline.storage.migrations import MIGRATIONS
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
    Undelivered,
)
from hotline.storage.treelog import append_leaves, grow_to_transcript, tree_root, tree_size

LOWEST_RANK = len(Precedence) - 1
T = TypeVar("T")
MAX_BATCH = 1024
_STOP = object()
_OUTBOX_COLUMNS = (
    "num, o.peer, ref, precedence, marking, kind, body, created_ms, seq, env_id, state, sent_ms, "
    "delivered_ms, rejected_ms, envelope, r.obj, rejection, kind_version, reply_to, due_ms, "
    "acked_by, acked_ms, ack_remark, ack_auto, ack_received_ms"
)
_OUTBOX_FROM = "outbox o LEFT JOIN receipts r ON r.id = o.receipt_id"
_INBOX_COLUMNS = (
    "i.peer, seq, num, env_id, precedence, marking, kind, body, sent_ms, received_ms, envelope, r.obj, "
    "kind_version, reply_to, due_ms, acked_by, acked_ms, ack_remark, ack_auto, ack_num"
)
_INBOX_FROM = "inbox i JOIN receipts r ON r.id = i.receipt_id"


def _ack(by: str | None, at_ms: int | None, remark: str | None, auto: int | None) -> Acknowledgement | None:
    return None if by is None or at_ms is None else Acknowledgement(by, at_ms, remark, bool(auto))


def _outbox_row(r: tuple[Any, ...]) -> OutboxRow:
    return OutboxRow(*(*r[:20], _ack(*r[20:24]), r[24]))


def _inbox_row(r: tuple[Any, ...]) -> InboxRow:
    return InboxRow(*(*r[:15], _ack(*r[15:19]), r[19]))


def connect(path: Path) -> sqlite3.Connection:
    """Open (creating and migrating if need be) a store file with the durability settings."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        # Short: the store runs on the event loop, which must not stall for long behind another
        # process (a CLI `peer add` with the node stopped) holding the write lock.
        conn.execute("PRAGMA busy_timeout=2000")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        migrate(conn)
        _grow_tree(conn)
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise StoreError(f"{path} is not a hotline store, or it is damaged ({exc})") from None
    return conn


def _grow_tree(conn: sqlite3.Connection) -> None:
    """A store from before the transcript tree (schema 3) gets its tree on first open."""
    if tree_size(conn) == _transcript_size(conn):
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        grow_to_transcript(conn)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def migrate(conn: sqlite3.Connection) -> None:
    (version,) = conn.execute("PRAGMA user_version").fetchone()
    if version > len(MIGRATIONS):
        raise StoreError(f"the store is at schema {version}, newer than this program ({len(MIGRATIONS)})")
    for number in range(version, len(MIGRATIONS)):
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _statements(MIGRATIONS[number]):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version={number + 1}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise


def _statements(script: str) -> list[str]:
    """Split a script into statements the way SQLite itself would (comments may hold ';')."""
    statements, current = [], ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            statements.append(current)
            current = ""
    if current.strip():
        statements.append(current)
    return statements


# -- synchronous operations: each takes the connection, runs inside the writer's transaction ----


def add_peer(conn: sqlite3.Connection, peer: PeerRecord) -> None:
    conn.execute(
        "INSERT INTO peers (party, sign_key, tls_cert, addresses, card, added_ms) VALUES (?,?,?,?,?,?) "
        "ON CONFLICT (party) DO UPDATE SET sign_key=excluded.sign_key, tls_cert=excluded.tls_cert, "
        "addresses=excluded.addresses, card=excluded.card",
        (peer.party, peer.sign_key, peer.tls_cert, json.dumps(list(peer.addresses)), peer.card, peer.added_ms),
    )


def list_peers(conn: sqlite3.Connection) -> list[PeerRecord]:
    rows = conn.execute(
        "SELECT party, sign_key, tls_cert, addresses, card, added_ms FROM peers ORDER BY party"
    ).fetchall()
    return [PeerRecord(r[0], r[1], r[2], tuple(json.loads(r[3])), r[4], r[5]) for r in rows]


def _channel_state(conn: sqlite3.Connection, peer: str) -> ChannelState:
    (last_out,) = conn.execute("SELECT max(seq) FROM outbox WHERE peer=?", (peer,)).fetchone()
    # A number is used once it is stored, or refused and used up. The receiver never accepts a
    # number REACH or more beyond the lowest it lacks, so every missing one lies in the last
    # REACH below the highest used: only those rows need reading.
    used_seqs = (
        "SELECT seq FROM inbox WHERE peer=:peer AND seq > :floor "
        "UNION SELECT seq FROM refused WHERE peer=:peer AND consumed=1 AND seq > :floor"
    )
    (highest,) = conn.execute(f"SELECT max(seq) FROM ({used_seqs})", {"peer": peer, "floor": 0}).fetchone()
    floor = max(0, (highest or 0) - REACH)
    used = sorted(seq for (seq,) in conn.execute(used_seqs, {"peer": peer, "floor": floor}))
    recv_next = floor + 1
    for seq in used:
        if seq != recv_next:
            break
        recv_next += 1
    ahead = tuple(seq for seq in used if seq > recv_next)
    # A person may have resumed numbering where the peer said it stands (after a restore).
    (floor_out,) = conn.execute("SELECT send_next FROM numbering WHERE peer=?", (peer,)).fetchone() or (1,)
    return ChannelState(recv_next=recv_next, send_next=max((last_out or 0) + 1, floor_out), recv_ahead=ahead)


def _transcript_size(conn: sqlite3.Connection) -> int:
    (last,) = conn.execute("SELECT max(idx) FROM transcript").fetchone()
    return 0 if last is None else last + 1


def _append(conn: sqlite3.Connection, index: int, kind: str, obj: bytes, at_ms: int) -> None:
    _append_many(conn, index, [(kind, obj, at_ms)])


def _append_many(conn: sqlite3.Connection, first: int, entries: list[tuple[str, bytes, int]]) -> None:
    # The node numbers transcript entries; a number that does not extend the log exactly is a
    # bug that would tear a hole in the Merkle tree, so it is refused here.
    size = _transcript_size(conn)
    if first != size:
        raise StoreError(f"transcript append at {first}, but the log has {size} entries")
    conn.executemany(
        "INSERT INTO transcript (idx, kind, obj, at_ms) VALUES (?,?,?,?)",
        [(first + offset, kind, obj, at_ms) for offset, (kind, obj, at_ms) in enumerate(entries)],
    )
    append_leaves(conn, first, [obj for _, obj, _ in entries])


def _enqueue(conn: sqlite3.Connection, drafts: list[Draft]) -> list[Queued]:
    from hotline.envelope import Precedence

    queued = []
    # Numbers continue from the highest given, or from where a person resumed them after a
    # restore (the peers already hold the numbers below), whichever is higher.
    (highest,) = conn.execute("SELECT max(num) FROM outbox").fetchone()
    (floor,) = conn.execute("SELECT max(number_next) FROM numbering").fetchone()
    number = max((highest or 0) + 1, floor or 1)
    for d in drafts:
        if d.ref is not None:
            row = conn.execute(
                "SELECT num, peer, precedence, marking, kind, kind_version, body, reply_to FROM outbox WHERE ref=?",
                (d.ref,),
            ).fetchone()
            if row is not None:
                if tuple(row[1:]) != (d.peer, d.precedence, d.marking, d.kind, d.kind_version, d.body, d.reply_to):
                    raise RefConflictError(d.ref, row[0])
                queued.append(Queued(row[0], d, new=False))
                continue
        conn.execute(
            "INSERT INTO outbox (num, peer, ref, precedence, rank, marking, kind, kind_version, body, reply_to, "
            "created_ms, due_ms, state) VALUES (?,?,?,?,?,?,?,?,?,?,?,?, 'queued')",
            (
                number,
                d.peer,
                d.ref,
                d.precedence,
                Precedence(d.precedence).rank,
                d.marking,
                d.kind,
                d.kind_version,
                d.body,
                d.reply_to,
                d.created_ms,
                d.due_ms,
            ),
        )
        queued.append(Queued(number, d))
        number += 1
    return queued


def _next_queued(conn: sqlite3.Connection, peer: str, limit: int, ranks: tuple[int, int]) -> list[Queued]:
    rows = conn.execute(
        "SELECT num, peer, precedence, marking, kind, kind_version, body, reply_to, created_ms, ref, due_ms "
        "FROM outbox WHERE peer=? AND seq IS NULL AND rank BETWEEN ? AND ? ORDER BY rank, num LIMIT ?",
        (peer, *ranks, limit),
    ).fetchall()
    return [Queued(r[0], Draft(*r[1:])) for r in rows]


def _dispatch(conn: sqlite3.Connection, items: list[Dispatched], transmitted: bool, first_index: int) -> None:
    state = "sent" if transmitted else "queued"
    before = conn.total_changes
    conn.executemany(
        "UPDATE outbox SET seq=?, envelope=?, env_id=?, signed_ms=?, state=?, sent_ms=?, log_index=? "
        "WHERE num=? AND seq IS NULL",
        [
            (
                i.seq,
                i.envelope,
                i.envelope_id,
                i.signed_ms,
                state,
                i.signed_ms if transmitted else None,
                first_index + n,
                i.number,
            )
            for n, i in enumerate(items)
        ],
    )
    if conn.total_changes - before != len(items):
        raise StoreError("a message to dispatch is not queued")
    _append_many(conn, first_index, [("envelope", i.envelope, i.signed_ms) for i in items])


def _mark_transmitted(conn: sqlite3.Connection, numbers: list[int], at_ms: int) -> None:
    conn.executemany(
        "UPDATE outbox SET state='sent', sent_ms=? WHERE num=? AND state='queued'",
        [(at_ms, n) for n in numbers],
    )


def _unreceipted(conn: sqlite3.Connection, peer: str) -> list[Dispatched]:
    rows = conn.execute(
        "SELECT num, peer, seq, envelope, env_id, signed_ms, rank FROM outbox "
        "WHERE peer=? AND seq IS NOT NULL AND receipt_id IS NULL AND rejection IS NULL ORDER BY seq",
        (peer,),
    ).fetchall()
    return [Dispatched(*r) for r in rows]


def _record_receipt(
    conn: sqlite3.Connection, peer: str, delivered: list[tuple[int, int]], receipt: bytes, at_ms: int, index: int
) -> int:
    """Mark the named envelopes (sequence number, and the peer's log index the receipt gives
    it) delivered by ``receipt``; returns how many were not already.

    The receipt enters the transcript whatever it changes: it is a signed object we received,
    and the node numbered it when it called (a conditional append would leave that number
    unused and tear the log)."""
    receipt_id = conn.execute(
        "INSERT INTO receipts (peer, direction, obj, at_ms) VALUES (?, 'received', ?, ?)", (peer, receipt, at_ms)
    ).lastrowid
    changed = 0
    for seq, peer_index in delivered:
        changed += conn.execute(
            "UPDATE outbox SET receipt_id=?, delivered_ms=?, state='delivered', sent_ms=coalesce(sent_ms, ?), "
            "peer_log_index=? WHERE peer=? AND seq=? AND receipt_id IS NULL AND rejection IS NULL",
            (receipt_id, at_ms, at_ms, peer_index, peer, seq),
        ).rowcount
    _append(conn, index, "receipt", receipt, at_ms)
    return changed


def _record_rejection(conn: sqlite3.Connection, envelope_id: bytes, rejection: bytes, at_ms: int, index: int) -> bool:
    cur = conn.execute(
        "UPDATE outbox SET rejection=?, rejected_ms=?, state='rejected' "
        "WHERE env_id=? AND receipt_id IS NULL AND rejection IS NULL",
        (rejection, at_ms, envelope_id),
    )
    _append(conn, index, "rejection", rejection, at_ms)  # always: see _record_receipt
    return cur.rowcount == 1


def _store_inbound(
    conn: sqlite3.Connection, rows: list[InboxRow], receipt: bytes, first_index: int, replies: list[Draft]
) -> InboundStored:
    """Store envelopes and the one receipt that names them all, in transcript order.

    In the same transaction: the machine's answers (``replies``, e.g. to link tests) are queued,
    and acknowledgements from the peer settle the messages of ours they name."""
    at_ms = rows[-1].received_ms
    receipt_id = conn.execute(
        "INSERT INTO receipts (peer, direction, obj, at_ms) VALUES (?, 'sent', ?, ?)", (rows[0].peer, receipt, at_ms)
    ).lastrowid
    conn.executemany(
        "INSERT INTO inbox (peer, seq, num, env_id, precedence, marking, kind, body, sent_ms, received_ms, "
        "envelope, receipt_id, kind_version, reply_to, due_ms, acked_by, acked_ms, ack_remark, ack_auto, log_index) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        [
            (
                r.peer,
                r.seq,
                r.number,
                r.envelope_id,
                r.precedence,
                r.marking,
                r.kind,
                r.body,
                r.sent_ms,
                r.received_ms,
                r.envelope,
                receipt_id,
                r.kind_version,
                r.reply_to,
                r.due_ms,
                *_ack_columns(r.ack),
                first_index + n,
            )
            for n, r in enumerate(rows)
        ],
    )
    entries = [("envelope", row.envelope, row.received_ms) for row in rows]
    _append_many(conn, first_index, [*entries, ("receipt", receipt, at_ms)])
    queued = _enqueue(conn, replies)
    conn.executemany("UPDATE inbox SET ack_num=? WHERE env_id=?", [(q.number, q.draft.reply_to) for q in queued])
    acknowledged = []
    for row in rows:
        if row.acknowledges is None or row.reply_to is None:
            continue
        found = conn.execute(
            "UPDATE outbox SET acked_by=?, acked_ms=?, ack_remark=?, ack_auto=?, ack_received_ms=? "
            # Not an acknowledgement of ours (nothing acknowledges those), nor a rejected message.
            "WHERE env_id=? AND peer=? AND acked_ms IS NULL AND kind != 'ack' AND rejection IS NULL "
            "RETURNING num",
            (*_ack_columns(row.acknowledges), row.received_ms, row.reply_to, row.peer),
        ).fetchone()
        if found is not None:
            acknowledged.append(found[0])
    return InboundStored(queued, acknowledged)


def _ack_columns(ack: Acknowledgement | None) -> tuple[Any, ...]:
    if ack is None:
        return (None, None, None, None)
    return (ack.by, ack.at_ms, ack.remark, int(ack.auto))


def _acknowledge(conn: sqlite3.Connection, envelope_id: bytes, ack: Acknowledgement, carrier: Draft) -> Queued:
    """Record our acknowledgement of a received message and queue the envelope that carries it."""
    (queued,) = _enqueue(conn, [carrier])
    changed = conn.execute(
        "UPDATE inbox SET acked_by=?, acked_ms=?, ack_remark=?, ack_auto=?, ack_num=? "
        "WHERE env_id=? AND due_ms IS NOT NULL AND acked_ms IS NULL",
        (*_ack_columns(ack), queued.number, envelope_id),
    ).rowcount
    if changed != 1:  # the savepoint rolls the queued carrier back with it
        raise AcknowledgeError("the message is already acknowledged, or it is not one a person acknowledges")
    return queued


def _find_sent(conn: sqlite3.Connection, number: int | None, envelope_id: bytes | None) -> OutboxRow | None:
    where, arg = ("WHERE num=?", number) if envelope_id is None else ("WHERE env_id=?", envelope_id)
    found = _outbox(conn, 1, where, (arg,))
    return found[0] if found else None


def _find_received(
    conn: sqlite3.Connection, peer: str | None, number: int | None, envelope_id: bytes | None
) -> InboxRow | None:
    if envelope_id is not None:
        row = conn.execute(f"SELECT {_INBOX_COLUMNS} FROM {_INBOX_FROM} WHERE env_id=?", (envelope_id,)).fetchone()
    else:
        # The peer's message number is its serial. A second message under a serial already
        # held is refused when it arrives, but a store from before that rule may hold two:
        # then the serial names neither, and the error says which ids to use instead.
        rows = conn.execute(
            f"SELECT {_INBOX_COLUMNS} FROM {_INBOX_FROM} WHERE i.peer=? AND num=? ORDER BY received_ms, seq",
            (peer, number),
        ).fetchall()
        if len(rows) > 1:
            ids = ", ".join(bytes(r[3]).hex() for r in rows)
            raise NotFoundError(
                f"{serial(peer or '?', number or 0)} names {len(rows)} different messages here; name one by id: {ids}"
            )
        row = rows[0] if rows else None
    return None if row is None else _inbox_row(row)


def _replies(conn: sqlite3.Connection, envelope_id: bytes) -> tuple[list[OutboxRow], list[InboxRow]]:
    sent = _outbox(conn, 100, "WHERE reply_to=?", (envelope_id,))
    received = conn.execute(
        f"SELECT {_INBOX_COLUMNS} FROM {_INBOX_FROM} WHERE reply_to=? ORDER BY received_ms LIMIT 100", (envelope_id,)
    ).fetchall()
    return sent, [_inbox_row(r) for r in received]


def _awaiting_ack(conn: sqlite3.Connection, party: str) -> list[AwaitingAck]:
    received = conn.execute(
        "SELECT peer, peer, num, precedence, kind, received_ms, due_ms FROM inbox "
        "WHERE due_ms IS NOT NULL AND acked_ms IS NULL"
    ).fetchall()
    sent = conn.execute(
        "SELECT peer, ?, num, precedence, kind, created_ms, due_ms FROM outbox "
        "WHERE due_ms IS NOT NULL AND acked_ms IS NULL AND rejection IS NULL",
        (party,),
    ).fetchall()
    return [AwaitingAck(True, *r) for r in received] + [AwaitingAck(False, *r) for r in sent]


def _last_link_test(conn: sqlite3.Connection, peer: str) -> OutboxRow | None:
    found = _outbox(conn, 1, "WHERE o.peer=? AND kind='link_test'", (peer,))
    return found[0] if found else None


def _store_refused(
    conn: sqlite3.Connection,
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
) -> None:
    _append_many(conn, index, [("envelope", envelope, at_ms), ("rejection", rejection, at_ms)])
    conn.execute(
        "INSERT INTO refused (peer, seq, consumed, env_id, envelope, reason, detail, rejection, at_ms) "
        "VALUES (?,?,?,?,?,?,?,?,?)",
        (peer, seq, int(consumed), envelope_id, envelope, reason, detail, rejection, at_ms),
    )


def _stored_answer(conn: sqlite3.Connection, peer: str, seq: int) -> StoredAnswer | None:
    row = conn.execute(f"SELECT env_id, r.obj FROM {_INBOX_FROM} WHERE i.peer=? AND seq=?", (peer, seq)).fetchone()
    if row is not None:
        return StoredAnswer(row[0], row[1], True)
    row = conn.execute(
        "SELECT env_id, rejection FROM refused WHERE peer=? AND seq=? AND consumed=1", (peer, seq)
    ).fetchone()
    return None if row is None else StoredAnswer(row[0], row[1], False)


def _outbox(conn: sqlite3.Connection, limit: int, where: str = "", args: tuple[Any, ...] = ()) -> list[OutboxRow]:
    rows = conn.execute(
        f"SELECT {_OUTBOX_COLUMNS} FROM {_OUTBOX_FROM} {where} ORDER BY num DESC LIMIT ?", (*args, limit)
    ).fetchall()
    return [_outbox_row(r) for r in rows]


def _find_outbox(conn: sqlite3.Connection, numbers: list[int]) -> list[OutboxRow]:
    found: dict[int, OutboxRow] = {}
    for start in range(0, len(numbers), 500):  # SQLite caps the number of bound parameters
        chunk = numbers[start : start + 500]
        marks = ",".join("?" * len(chunk))
        found |= {row.number: row for row in _outbox(conn, len(chunk), f"WHERE num IN ({marks})", tuple(chunk))}
    return [found[n] for n in numbers if n in found]


def _inbox(conn: sqlite3.Connection, limit: int) -> list[InboxRow]:
    rows = conn.execute(
        f"SELECT {_INBOX_COLUMNS} FROM {_INBOX_FROM} ORDER BY received_ms DESC, i.peer, seq DESC LIMIT ?", (limit,)
    ).fetchall()
    return [_inbox_row(r) for r in rows]


def _find_serials(conn: sqlite3.Connection, peer: str, numbers: list[int]) -> dict[int, bytes]:
    """Which of the peer's message numbers (serials) already name a stored message, and which."""
    found: dict[int, bytes] = {}
    for start in range(0, len(numbers), 500):
        chunk = numbers[start : start + 500]
        marks = ",".join("?" * len(chunk))
        rows = conn.execute(f"SELECT num, env_id FROM inbox WHERE peer=? AND num IN ({marks})", (peer, *chunk))
        found |= {num: bytes(env_id) for num, env_id in rows}
    return found


def _held_number(conn: sqlite3.Connection, peer: str) -> int | None:
    (highest,) = conn.execute("SELECT max(num) FROM inbox WHERE peer=?", (peer,)).fetchone()
    return None if highest is None else int(highest)


def _undelivered_urgent(conn: sqlite3.Connection) -> list[Undelivered]:
    rows = conn.execute(
        "SELECT peer, num, precedence, created_ms FROM outbox "
        "WHERE rank <= 1 AND receipt_id IS NULL AND rejection IS NULL ORDER BY created_ms, num"
    ).fetchall()
    return [Undelivered(*row) for row in rows]


def _resume_numbering(
    conn: sqlite3.Connection, peer: str, send_next: int, number_next: int, at_ms: int, by: str, remark: str | None
) -> None:
    conn.execute(
        "INSERT INTO numbering (peer, send_next, number_next, at_ms, by, remark) VALUES (?,?,?,?,?,?) "
        "ON CONFLICT (peer) DO UPDATE SET send_next=max(send_next, excluded.send_next), "
        "number_next=max(number_next, excluded.number_next), at_ms=excluded.at_ms, by=excluded.by, "
        "remark=excluded.remark",
        (peer, send_next, number_next, at_ms, by, remark),
    )


def _skip_held_serials(conn: sqlite3.Connection, peer: str, held: int, at_ms: int) -> int | None:
    """Give no serial the peer already holds (``held`` and below): after a restore our store
    may not know them. Returns the first serial given from now on if it had to move, else None.
    Unlike sequence numbers, skipped serials lose nothing, so no person need decide it."""
    (highest,) = conn.execute("SELECT max(num) FROM outbox").fetchone()
    (floor,) = conn.execute("SELECT max(number_next) FROM numbering").fetchone()
    if held + 1 <= max((highest or 0) + 1, floor or 1):
        return None
    conn.execute(
        "INSERT INTO numbering (peer, send_next, number_next, at_ms, by, remark) VALUES (?,1,?,?,?,?) "
        "ON CONFLICT (peer) DO UPDATE SET number_next=max(number_next, excluded.number_next)",
        (peer, held + 1, at_ms, "(node)", "serials the peer already holds are not given again"),
    )
    return held + 1


def _root_at(conn: sqlite3.Connection, size: int) -> bytes | None:
    """Our transcript's root hash at ``size`` entries, or None if it holds fewer."""
    return None if size > tree_size(conn) else tree_root(conn, size)


def _queue_depth(conn: sqlite3.Connection, peer: str) -> int:
    (count,) = conn.execute(
        "SELECT count(*) FROM outbox WHERE peer=? AND receipt_id IS NULL AND rejection IS NULL", (peer,)
    ).fetchone()
    return int(count)


# -- the asynchronous store ------------------------------------------------------------------


class SqliteStore:
    """The ``Store`` over one SQLite file, committing in groups on the event loop's thread.

    Every operation called during one turn of the event loop joins one transaction, committed
    (and fsync'd) once, at the end of that turn; only then are the callers' futures resolved.
    SQLite runs on the loop's own thread: the loop waits for the fsync (a fraction of a
    millisecond, once per turn), but no operation pays for two thread wake-ups, which on a
    small virtual machine cost more than the fsync itself.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn = connect(path)
        self._batch: list[tuple[asyncio.Future[Any], Callable[..., Any], tuple[Any, ...]]] = []
        self._closed = False
        self.commits = 0  # for the benchmark: how many transactions have been committed
        self.failure: str | None = None  # set once the engine fails; then every call fails
        self.on_failure: Callable[[str], None] | None = None  # told once, when that happens

    def _call(self, op: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        # Queued now, in call order; the caller awaits durability when it chooses.
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        if self._closed:
            future.set_exception(StoreError("the store is closed"))
            return future
        if not self._batch:
            loop.call_soon(self._commit)
        self._batch.append((future, op, args))
        return future

    def _commit(self) -> None:
        batch, self._batch = self._batch, []
        if not batch:
            return
        if self.failure is not None:
            self._fail(batch, f"the store failed earlier and accepts nothing more: {self.failure}")
            return
        results: list[tuple[asyncio.Future[Any], Any, BaseException | None]] = []
        try:
            self._conn.execute("BEGIN IMMEDIATE")
            for future, op, args in batch:
                self._conn.execute("SAVEPOINT op")
                try:
                    results.append((future, op(self._conn, *args), None))
                    self._conn.execute("RELEASE op")
                except sqlite3.OperationalError:
                    raise  # the engine failed (disk full, I/O error, locked), not the operation
                except Exception as exc:  # handed to the caller, who knows what it means
                    self._conn.execute("ROLLBACK TO op")
                    self._conn.execute("RELEASE op")
                    results.append((future, None, exc))
            self._conn.execute("COMMIT")
        except Exception as exc:
            # The engine failed, not an operation: nothing of this batch is known to be stored,
            # and the node's counters are ahead of the disk. Every caller, now and later, is
            # told so; the node stops and a restart recovers from what was committed.
            self.failure = f"{type(exc).__name__}: {exc}"
            with contextlib.suppress(sqlite3.Error):
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
            self._fail(batch, f"the store failed: {self.failure}")
            if self.on_failure is not None:
                self.on_failure(self.failure)
            return
        self.commits += 1
        for future, result, error in results:
            if future.done():
                continue  # the caller stopped waiting; the operation is stored all the same
            if error is None:
                future.set_result(result)
            else:
                future.set_exception(error)

    @staticmethod
    def _fail(batch: list[Any], message: str) -> None:
        for future, _, _ in batch:
            if not future.done():
                future.set_exception(StoreError(message))

    async def close(self) -> None:
        if self._closed:
            return
        self._commit()
        self._closed = True
        self._conn.close()

    def add_peer(self, peer: PeerRecord) -> asyncio.Future[None]:
        return self._call(add_peer, peer)

    def peers(self) -> asyncio.Future[list[PeerRecord]]:
        return self._call(list_peers)

    def channel_state(self, peer: str) -> asyncio.Future[ChannelState]:
        return self._call(_channel_state, peer)

    def transcript_size(self) -> asyncio.Future[int]:
        return self._call(_transcript_size)

    def enqueue(self, drafts: list[Draft]) -> asyncio.Future[list[Queued]]:
        return self._call(_enqueue, drafts)

    def next_queued(
        self, peer: str, limit: int, ranks: tuple[int, int] = (0, LOWEST_RANK)
    ) -> asyncio.Future[list[Queued]]:
        return self._call(_next_queued, peer, limit, ranks)

    def dispatch(self, items: list[Dispatched], transmitted: bool, first_index: int) -> asyncio.Future[None]:
        return self._call(_dispatch, items, transmitted, first_index)

    def mark_transmitted(self, numbers: list[int], at_ms: int) -> asyncio.Future[None]:
        return self._call(_mark_transmitted, numbers, at_ms)

    def unreceipted(self, peer: str) -> asyncio.Future[list[Dispatched]]:
        return self._call(_unreceipted, peer)

    def record_receipt(
        self, peer: str, delivered: list[tuple[int, int]], receipt: bytes, at_ms: int, index: int
    ) -> asyncio.Future[int]:
        return self._call(_record_receipt, peer, delivered, receipt, at_ms, index)

    def record_rejection(self, envelope_id: bytes, rejection: bytes, at_ms: int, index: int) -> asyncio.Future[bool]:
        return self._call(_record_rejection, envelope_id, rejection, at_ms, index)

    def store_inbound(
        self, rows: list[InboxRow], receipt: bytes, first_index: int, replies: list[Draft]
    ) -> asyncio.Future[InboundStored]:
        return self._call(_store_inbound, rows, receipt, first_index, replies)

    def acknowledge(self, envelope_id: bytes, ack: Acknowledgement, carrier: Draft) -> asyncio.Future[Queued]:
        return self._call(_acknowledge, envelope_id, ack, carrier)

    def find_sent(
        self, number: int | None = None, envelope_id: bytes | None = None
    ) -> asyncio.Future[OutboxRow | None]:
        return self._call(_find_sent, number, envelope_id)

    def find_received(
        self, peer: str | None = None, number: int | None = None, envelope_id: bytes | None = None
    ) -> asyncio.Future[InboxRow | None]:
        return self._call(_find_received, peer, number, envelope_id)

    def replies(self, envelope_id: bytes) -> asyncio.Future[tuple[list[OutboxRow], list[InboxRow]]]:
        return self._call(_replies, envelope_id)

    def awaiting_ack(self, party: str) -> asyncio.Future[list[AwaitingAck]]:
        return self._call(_awaiting_ack, party)

    def last_link_test(self, peer: str) -> asyncio.Future[OutboxRow | None]:
        return self._call(_last_link_test, peer)

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
    ) -> asyncio.Future[None]:
        return self._call(
            _store_refused, peer, seq, consumed, envelope_id, envelope, reason, detail, rejection, at_ms, index
        )

    def stored_answer(self, peer: str, seq: int) -> asyncio.Future[StoredAnswer | None]:
        return self._call(_stored_answer, peer, seq)

    def outbox(self, limit: int = 1000) -> asyncio.Future[list[OutboxRow]]:
        return self._call(_outbox, limit)

    def inbox(self, limit: int = 1000) -> asyncio.Future[list[InboxRow]]:
        return self._call(_inbox, limit)

    def find_outbox(self, numbers: list[int]) -> asyncio.Future[list[OutboxRow]]:
        return self._call(_find_outbox, numbers)

    def queue_depth(self, peer: str) -> asyncio.Future[int]:
        return self._call(_queue_depth, peer)

    def held_serials(self, peer: str, numbers: list[int]) -> dict[int, bytes]:
        """Read now, on the loop's thread, between commits: what is committed. A batch queued
        and not yet committed is not seen; the caller accounts for those."""
        if self._closed:
            raise StoreError("the store is closed")
        return _find_serials(self._conn, peer, numbers)

    def root_at(self, size: int) -> asyncio.Future[bytes | None]:
        return self._call(_root_at, size)

    def held_number(self, peer: str) -> asyncio.Future[int | None]:
        return self._call(_held_number, peer)

    def undelivered_urgent(self) -> asyncio.Future[list[Undelivered]]:
        return self._call(_undelivered_urgent)

    def resume_numbering(
        self, peer: str, send_next: int, number_next: int, at_ms: int, by: str, remark: str | None
    ) -> asyncio.Future[None]:
        return self._call(_resume_numbering, peer, send_next, number_next, at_ms, by, remark)

    def skip_held_serials(self, peer: str, held: int, at_ms: int) -> asyncio.Future[int | None]:
        return self._call(_skip_held_serials, peer, held, at_ms)

    def raise_alarm(
        self, kind: str, peer: str | None, subject: str | None, level: str, facts: dict[str, Any], at_ms: int
    ) -> asyncio.Future[alarms.StoredAlarm]:
        return self._call(alarms.raise_alarm, kind, peer, subject, level, facts, at_ms)

    def open_alarms(self) -> asyncio.Future[list[alarms.StoredAlarm]]:
        return self._call(alarms.open_alarms)

    def alarm_history(self, limit: int) -> asyncio.Future[list[alarms.StoredAlarm]]:
        return self._call(alarms.alarm_history, limit)

    def close_alarm(self, number: int, by: str, remark: str, at_ms: int) -> asyncio.Future[alarms.StoredAlarm]:
        return self._call(alarms.close_alarm, number, by, remark, at_ms)

    def make_checkpoint(
        self, sign: Callable[[int, bytes], str], at_ms: int, step: int
    ) -> asyncio.Future[witnessing.StoredCheckpoint | None]:
        return self._call(witnessing.make_checkpoint, sign, at_ms, step)

    def next_checkpoint(self, after: int) -> asyncio.Future[witnessing.StoredCheckpoint | None]:
        return self._call(witnessing.next_checkpoint, after)

    def latest_checkpoint(self) -> asyncio.Future[witnessing.StoredCheckpoint | None]:
        return self._call(witnessing.latest_checkpoint)

    def checkpoint_at(self, size: int) -> asyncio.Future[witnessing.StoredCheckpoint | None]:
        return self._call(witnessing.checkpoint_at, size)

    def last_cosigned(self, witness: str) -> asyncio.Future[int]:
        return self._call(witnessing.last_cosigned, witness)

    def offer_for(self, peer: str, checkpoint: witnessing.StoredCheckpoint, old_size: int) -> asyncio.Future[Offer]:
        return self._call(witnessing.offer_for, peer, checkpoint, old_size)

    def add_cosignature(self, size: int, witness: str, line: str, at_ms: int) -> asyncio.Future[None]:
        return self._call(witnessing.add_cosignature, size, witness, line, at_ms)

    def witness_offer(
        self, peer: str, offer: Offer, origin: str, verifier: Verifier, at_ms: int
    ) -> asyncio.Future[Checkpoint | Refusal]:
        return self._call(witnessing.witness_offer, peer, offer, origin, verifier, at_ms)

    def record_equivocation(
        self, log: str, reason: str, detail: str, held: str | None, offered: str, at_ms: int, reported_by: str
    ) -> asyncio.Future[None]:
        return self._call(witnessing.record_equivocation, log, reason, detail, held, offered, at_ms, reported_by)

    def equivocations(self) -> asyncio.Future[list[witnessing.Equivocation]]:
        return self._call(witnessing.equivocations)

    def record_audit(self, entry: AuditEntry) -> asyncio.Future[None]:
        return self._call(audit.record_audit, entry)

    def audit_trail(self, limit: int) -> asyncio.Future[list[AuditEntry]]:
        return self._call(audit.audit_trail, limit)
