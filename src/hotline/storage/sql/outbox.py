"""The sending side: messages queued, given their sequence numbers and signed, then receipted
or rejected by the peer. Each signed object enters the transcript at the number the node gave."""

from __future__ import annotations

from typing import Any

from hotline.envelope import Precedence
from hotline.errors import RefConflictError, StoreError
from hotline.storage.records import Dispatched, Draft, Queued, Undelivered
from hotline.storage.sql.db import Db
from hotline.storage.sql.numbering import next_number
from hotline.storage.sql.transcript import append, append_many


def enqueue(conn: Db, drafts: list[Draft]) -> list[Queued]:
    """Queue drafts under the next message numbers, in order. A draft whose ref is already
    queued is that message again (or a conflict, if it differs); the rows go in with one
    statement (a round trip per row would cost a network store dearly)."""
    queued: list[Queued] = []
    rows: list[tuple[Any, ...]] = []
    refs: dict[str, Queued] = {}  # refs of this call, which the table does not hold yet
    number = next_number(conn)
    firsts: dict[int, int | None] = {}  # per message to several parties: its first copy's number
    for d in drafts:
        if d.ref is not None:
            again = refs.get(d.ref) or _queued_by_ref(conn, d)
            if again is not None:
                if _fields(again.draft) != _fields(d):
                    raise RefConflictError(d.ref, again.number)
                queued.append(Queued(again.number, d, new=False))
                if d.broadcast is not None and d.broadcast not in firsts:  # retried: new copies join it
                    firsts[d.broadcast] = _broadcast_of(conn, again.number)
                continue
        rank = Precedence(d.precedence).rank
        if d.broadcast is not None and d.broadcast not in firsts:
            firsts[d.broadcast] = number
        group = None if d.broadcast is None else firsts[d.broadcast]
        rows.append((number, d.peer, d.ref, d.precedence, rank, d.marking, d.kind, d.kind_version, d.body,
                     d.reply_to, d.created_ms, d.due_ms, group))  # fmt: skip
        queued.append(Queued(number, d))
        if d.ref is not None:
            refs[d.ref] = queued[-1]
        number += 1
    if rows:
        conn.executemany(
            "INSERT INTO outbox (num, peer, ref, precedence, rank, marking, kind, kind_version, body, reply_to, "
            "created_ms, due_ms, broadcast, state) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?, 'queued')",
            rows,
        )
    return queued


def _broadcast_of(conn: Db, number: int) -> int | None:
    row = conn.execute("SELECT broadcast FROM outbox WHERE num=?", (number,)).fetchone()
    return None if row is None else row[0]


def _fields(d: Draft) -> tuple[Any, ...]:
    """What a repeated ref must repeat exactly."""
    return (d.peer, d.precedence, d.marking, d.kind, d.kind_version, d.body, d.reply_to)


def _queued_by_ref(conn: Db, d: Draft) -> Queued | None:
    row = conn.execute(
        "SELECT num, peer, precedence, marking, kind, kind_version, body, reply_to FROM outbox WHERE ref=?", (d.ref,)
    ).fetchone()
    if row is None:
        return None
    found = Draft(row[1], row[2], row[3], row[4], row[5], bytes(row[6]), None if row[7] is None else bytes(row[7]),
                  d.created_ms, d.ref)  # fmt: skip
    return Queued(row[0], found, new=False)


def next_queued(conn: Db, peer: str, limit: int, ranks: tuple[int, int]) -> list[Queued]:
    rows = conn.execute(
        "SELECT num, peer, precedence, marking, kind, kind_version, body, reply_to, created_ms, ref, due_ms "
        "FROM outbox WHERE peer=? AND seq IS NULL AND rank BETWEEN ? AND ? ORDER BY rank, num LIMIT ?",
        (peer, *ranks, limit),
    ).fetchall()
    return [Queued(r[0], Draft(*r[1:])) for r in rows]


def dispatch(conn: Db, items: list[Dispatched], transmitted: bool, first_index: int) -> None:
    state = "sent" if transmitted else "queued"
    changed = conn.executemany(
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
    ).rowcount  # the rows changed, summed over the statements (both engines)
    if changed != len(items):
        raise StoreError("a message to dispatch is not queued")
    append_many(conn, first_index, [("envelope", i.envelope, i.signed_ms) for i in items])


def mark_transmitted(conn: Db, numbers: list[int], at_ms: int) -> None:
    conn.executemany(
        "UPDATE outbox SET state='sent', sent_ms=? WHERE num=? AND state='queued'",
        [(at_ms, n) for n in numbers],
    )


def unreceipted(conn: Db, peer: str) -> list[Dispatched]:
    rows = conn.execute(
        "SELECT num, peer, seq, envelope, env_id, signed_ms, rank FROM outbox "
        "WHERE peer=? AND seq IS NOT NULL AND receipt_id IS NULL AND rejection IS NULL ORDER BY seq",
        (peer,),
    ).fetchall()
    return [Dispatched(*r) for r in rows]


def record_receipt(
    conn: Db, peer: str, delivered: list[tuple[int, int]], receipt: bytes, at_ms: int, index: int
) -> int:
    """Mark the named envelopes (sequence number, and the peer's log index the receipt gives
    it) delivered by ``receipt``; returns how many were not already.

    The receipt enters the transcript whatever it changes: it is a signed object we received,
    and the node numbered it when it called (a conditional append would leave that number
    unused and tear the log)."""
    receipt_id = conn.execute(
        "INSERT INTO receipts (peer, direction, obj, at_ms, log_index) VALUES (?, 'received', ?, ?, ?) RETURNING id",
        (peer, receipt, at_ms, index),
    ).fetchone()[0]
    changed = conn.executemany(
        "UPDATE outbox SET receipt_id=?, delivered_ms=?, state='delivered', sent_ms=coalesce(sent_ms, ?), "
        "peer_log_index=? WHERE peer=? AND seq=? AND receipt_id IS NULL AND rejection IS NULL",
        [(receipt_id, at_ms, at_ms, peer_index, peer, seq) for seq, peer_index in delivered],
    ).rowcount
    append(conn, index, "receipt", receipt, at_ms)
    return changed


def record_rejection(conn: Db, envelope_id: bytes, rejection: bytes, at_ms: int, index: int) -> bool:
    cur = conn.execute(
        "UPDATE outbox SET rejection=?, rejected_ms=?, state='rejected' "
        "WHERE env_id=? AND receipt_id IS NULL AND rejection IS NULL",
        (rejection, at_ms, envelope_id),
    )
    append(conn, index, "rejection", rejection, at_ms)  # always: see record_receipt
    return cur.rowcount == 1


def queue_depth(conn: Db, peer: str) -> int:
    (count,) = conn.execute(
        "SELECT count(*) FROM outbox WHERE peer=? AND receipt_id IS NULL AND rejection IS NULL", (peer,)
    ).fetchone()
    return int(count)


def undelivered_urgent(conn: Db) -> list[Undelivered]:
    rows = conn.execute(
        "SELECT peer, num, precedence, created_ms FROM outbox "
        "WHERE rank <= 1 AND receipt_id IS NULL AND rejection IS NULL ORDER BY created_ms, num"
    ).fetchall()
    return [Undelivered(*row) for row in rows]
