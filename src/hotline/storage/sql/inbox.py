"""The receiving side: envelopes stored with the one receipt that names them, refusals kept as
evidence, and the answers a duplicate gets."""

from __future__ import annotations

from typing import Any

from hotline.storage.records import Draft, InboundStored, InboxRow, StoredAnswer
from hotline.storage.sql.acknowledgements import settle_acknowledgements
from hotline.storage.sql.db import Db
from hotline.storage.sql.messages import INBOX_FROM, ack_columns
from hotline.storage.sql.outbox import enqueue
from hotline.storage.sql.transcript import append_many


def store_inbound(
    conn: Db, rows: list[InboxRow], receipt: bytes, first_index: int, replies: list[Draft]
) -> InboundStored:
    """Store envelopes and the one receipt that names them all, in transcript order.

    In the same transaction: the machine's answers (``replies``, e.g. to link tests) are queued,
    and acknowledgements from the peer settle the messages of ours they name."""
    at_ms = rows[-1].received_ms
    receipt_id = conn.execute(
        "INSERT INTO receipts (peer, direction, obj, at_ms, log_index) VALUES (?, 'sent', ?, ?, ?) RETURNING id",
        (rows[0].peer, receipt, at_ms, first_index + len(rows)),
    ).fetchone()[0]
    conn.executemany(
        "INSERT INTO inbox (peer, seq, num, env_id, precedence, marking, kind, body, sent_ms, received_ms, "
        "envelope, receipt_id, kind_version, reply_to, due_ms, acked_by, acked_ms, ack_remark, ack_auto, ack_rank, "
        "log_index) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        [_inbox_values(r, receipt_id, first_index + n) for n, r in enumerate(rows)],
    )
    entries = [("envelope", row.envelope, row.received_ms) for row in rows]
    append_many(conn, first_index, [*entries, ("receipt", receipt, at_ms)])
    queued = enqueue(conn, replies)
    conn.executemany("UPDATE inbox SET ack_num=? WHERE env_id=?", [(q.number, q.draft.reply_to) for q in queued])
    return InboundStored(queued, settle_acknowledgements(conn, rows))


def _inbox_values(r: InboxRow, receipt_id: int | None, log_index: int) -> tuple[Any, ...]:
    return (
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
        *ack_columns(r.ack),
        log_index,
    )


def store_refused(
    conn: Db,
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
    kept: bool,
) -> None:
    """A refused envelope and our signed rejection. Kept (``kept``): the envelope enters the
    transcript before the rejection, and the row points at it (one copy, not two); not kept
    (beyond the day's bound): only the rejection, which names the envelope by its id."""
    if kept:
        append_many(conn, index, [("envelope", envelope, at_ms), ("rejection", rejection, at_ms)])
    else:
        append_many(conn, index, [("rejection", rejection, at_ms)])
    conn.execute(
        "INSERT INTO refused (peer, seq, consumed, env_id, envelope, reason, detail, rejection, at_ms, "
        "log_index, size) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        (
            peer,
            seq,
            int(consumed),
            envelope_id,
            b"",  # the envelope is its transcript entry (migration 7), or not kept at all
            reason,
            detail,
            rejection,
            at_ms,
            index if kept else None,
            len(envelope),
        ),
    )


def refused_bytes_kept(conn: Db, peer: str, since_ms: int) -> int:
    """Bytes of the peer's refused envelopes kept since ``since_ms`` (those before migration 7
    were all kept)."""
    (kept,) = conn.execute(
        "SELECT coalesce(sum(size), 0) FROM refused "
        "WHERE peer=? AND at_ms >= ? AND (log_index IS NOT NULL OR length(envelope) > 0)",
        (peer, since_ms),
    ).fetchone()
    return int(kept)


def stored_answer(conn: Db, peer: str, seq: int) -> StoredAnswer | None:
    row = conn.execute(f"SELECT env_id, r.obj FROM {INBOX_FROM} WHERE i.peer=? AND seq=?", (peer, seq)).fetchone()
    if row is not None:
        return StoredAnswer(row[0], row[1], True)
    row = conn.execute(
        "SELECT env_id, rejection FROM refused WHERE peer=? AND seq=? AND consumed=1", (peer, seq)
    ).fetchone()
    return None if row is None else StoredAnswer(row[0], row[1], False)


def find_serials(conn: Db, peer: str, numbers: list[int]) -> dict[int, bytes]:
    """Which of the peer's message numbers (serials) already name a stored message, and which."""
    found: dict[int, bytes] = {}
    for start in range(0, len(numbers), 500):  # SQLite caps the number of bound parameters
        chunk = numbers[start : start + 500]
        marks = ",".join("?" * len(chunk))
        rows = conn.execute(f"SELECT num, env_id FROM inbox WHERE peer=? AND num IN ({marks})", (peer, *chunk))
        found |= {num: bytes(env_id) for num, env_id in rows}
    return found


def held_number(conn: Db, peer: str) -> int | None:
    (highest,) = conn.execute("SELECT max(num) FROM inbox WHERE peer=?", (peer,)).fetchone()
    return None if highest is None else int(highest)
