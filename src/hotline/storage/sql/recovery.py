"""Recovery after a restore from an older backup, in the store: where our copy stands, what a
peer may send back, and the rebuild, replayed through the same operations that first appended
each entry and committed in one transaction (all of it or nothing)."""

from __future__ import annotations

from typing import Any

from hotline.envelope import Precedence
from hotline.errors import StoreError
from hotline.storage.audit import AuditEntry
from hotline.storage.recovery import Recovery, RecoveryBounds, Replay, SentAgain
from hotline.storage.sql import inbox, numbering, outbox
from hotline.storage.sql.alarms import raise_alarm
from hotline.storage.sql.audit import record_audit
from hotline.storage.sql.db import Db
from hotline.storage.sql.messages import ack_columns
from hotline.storage.sql.transcript import append, transcript_size
from hotline.storage.sql.treelog import tree_root

_COLUMNS = "id, restored_ms, from_size, backup, done_ms, to_size, report"


def mark_restored(conn: Db, backup: str, at_ms: int) -> Recovery:
    """A copy was put back: the node may not start until it has recovered from its peers."""
    size = transcript_size(conn)
    conn.execute("INSERT INTO recoveries (restored_ms, from_size, backup) VALUES (?,?,?)", (at_ms, size, backup))
    detail = f"restored from {backup} (log size {size}); the node starts once it has recovered from its peers"
    record_audit(conn, AuditEntry(at_ms, "(restore)", None, "restored", None, detail))
    pending = pending_recovery(conn)
    assert pending is not None
    return pending


def pending_recovery(conn: Db) -> Recovery | None:
    row = conn.execute(f"SELECT {_COLUMNS} FROM recoveries WHERE done_ms IS NULL ORDER BY id LIMIT 1").fetchone()
    return None if row is None else Recovery(*row)


def recoveries(conn: Db) -> list[Recovery]:
    return [Recovery(*row) for row in conn.execute(f"SELECT {_COLUMNS} FROM recoveries ORDER BY id").fetchall()]


def bounds(conn: Db, peer: str) -> RecoveryBounds:
    """Where our copy of the channel with ``peer`` stands (``RecoveryBounds``)."""
    (open_seq,) = conn.execute(
        "SELECT min(seq) FROM outbox WHERE peer=? AND seq IS NOT NULL AND receipt_id IS NULL AND rejection IS NULL",
        (peer,),
    ).fetchone()
    (last_seq,) = conn.execute("SELECT max(seq) FROM outbox WHERE peer=?", (peer,)).fetchone()
    ours_from = open_seq if open_seq is not None else (last_seq or 0) + 1
    used = {seq for (seq,) in conn.execute("SELECT seq FROM inbox WHERE peer=?", (peer,))}
    used |= {seq for (seq,) in conn.execute("SELECT seq FROM refused WHERE peer=? AND consumed=1", (peer,))}
    theirs_from = 1
    while theirs_from in used:
        theirs_from += 1
    return RecoveryBounds(peer, int(ours_from), theirs_from)


def exchanged_from(conn: Db, peer: str, ours_from: int, theirs_from: int) -> int:
    """The first position of our transcript that may hold something ``peer`` lacks since its
    copy, as its bounds say (``ours_from`` is the lowest of ITS numbers it may lack answered,
    ``theirs_from`` the lowest of OURS it may not hold). Everything it may lack sits at or after
    the envelope it names first, since answers follow what they answer."""
    candidates = [
        conn.execute("SELECT min(log_index) FROM inbox WHERE peer=? AND seq >= ?", (peer, ours_from)).fetchone()[0],
        conn.execute("SELECT min(log_index) FROM refused WHERE peer=? AND seq >= ?", (peer, ours_from)).fetchone()[0],
        conn.execute(
            "SELECT min(log_index) FROM outbox WHERE peer=? AND seq >= ? AND log_index IS NOT NULL", (peer, theirs_from)
        ).fetchone()[0],
    ]
    found = [int(c) for c in candidates if c is not None]
    return min(found) if found else transcript_size(conn)


def unkept_rejections(conn: Db, peer: str, ours_from: int) -> list[bytes]:
    """Our rejections of ``peer``'s envelopes from sequence number ``ours_from`` whose envelope
    we did not keep (beyond the day's bound): their log position is not recorded, so the scan
    from ``exchanged_from`` may start after them, and the numbers they used up must be known."""
    rows = conn.execute(
        "SELECT rejection FROM refused WHERE peer=? AND seq >= ? AND log_index IS NULL ORDER BY id",
        (peer, ours_from),
    )
    return [bytes(r) for (r,) in rows]


def witnessed_checkpoint(conn: Db, peer: str) -> tuple[int, str] | None:
    """The newest checkpoint of ``peer``'s log that we cosigned: its size and signed note."""
    row = conn.execute("SELECT size, note FROM witnessed WHERE peer=? ORDER BY size DESC LIMIT 1", (peer,)).fetchone()
    return None if row is None else (int(row[0]), str(row[1]))


def held_leaves(conn: Db, leaves: list[bytes]) -> set[bytes]:
    """Which of these leaf hashes our transcript already holds."""
    held: set[bytes] = set()
    for start in range(0, len(leaves), 500):
        chunk = leaves[start : start + 500]
        marks = ",".join("?" * len(chunk))
        rows = conn.execute(f"SELECT hash FROM tree_hashes WHERE level=0 AND hash IN ({marks})", chunk)
        held |= {bytes(h) for (h,) in rows}
    return held


def rebuild(
    conn: Db, replays: list[Replay], checkpoints: list[tuple[int, bytes, str]], at_ms: int, report: str, lost: bool
) -> int:
    """Replay the recovered entries in log order, put back the checkpoints the witnesses hold
    (each must match the rebuilt tree, or nothing is kept), and close the pending recovery; if
    something was ``lost``, the latched alarm that says so goes in with it. Returns the size."""
    for name, args in replays:
        _REPLAY[name](conn, *args)
    size = transcript_size(conn)
    for checkpoint_size, root, note in checkpoints:
        if checkpoint_size > size or tree_root(conn, checkpoint_size) != root:
            raise StoreError(
                f"the rebuilt log does not match the checkpoint of size {checkpoint_size} a witness cosigned:"
                " nothing was changed"
            )
        conn.execute(
            "INSERT INTO checkpoints (size, root, note, at_ms) VALUES (?,?,?,?) ON CONFLICT DO NOTHING",
            (checkpoint_size, root, note, at_ms),
        )
    changed = conn.execute(
        "UPDATE recoveries SET done_ms=?, to_size=?, report=? WHERE done_ms IS NULL", (at_ms, size, report)
    ).rowcount
    if not changed:
        raise StoreError("no restore is waiting for recovery")
    record_audit(conn, AuditEntry(at_ms, "(recovery)", None, "restore-recovered", None, report))
    if lost:
        raise_alarm(conn, "restore-losses", None, None, "supervisor", {"report": report}, at_ms)
    return size


def _sent(conn: Db, sent: SentAgain, index: int) -> None:
    """Our envelope, as it was: the queued row (if the copy held it queued) or a new one."""
    state = ("sent", sent.seq, sent.envelope, sent.envelope_id, sent.signed_ms, sent.signed_ms, index)
    changed = conn.execute(
        "UPDATE outbox SET state=?, seq=?, envelope=?, env_id=?, signed_ms=?, sent_ms=?, log_index=? "
        "WHERE num=? AND seq IS NULL",
        (*state, sent.number),
    ).rowcount
    if not changed:
        conn.execute(
            "INSERT INTO outbox (num, peer, precedence, rank, marking, kind, kind_version, body, reply_to, "
            "created_ms, due_ms, state, seq, envelope, env_id, signed_ms, sent_ms, log_index) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (sent.number, sent.peer, sent.precedence, Precedence(sent.precedence).rank, sent.marking, sent.kind,
             sent.kind_version, sent.body, sent.reply_to, sent.signed_ms, sent.due_ms, *state),
        )  # fmt: skip
    append(conn, index, "envelope", sent.envelope, sent.signed_ms)
    if sent.acknowledges is not None and sent.reply_to is not None:
        conn.execute(
            "UPDATE inbox SET acked_by=?, acked_ms=?, ack_remark=?, ack_auto=?, ack_rank=?, ack_num=? "
            "WHERE env_id=? AND acked_ms IS NULL",
            (*ack_columns(sent.acknowledges), sent.number, sent.reply_to),
        )


def _stored(conn: Db, rows: list[Any], receipt: bytes, first_index: int) -> None:
    inbox.store_inbound(conn, rows, receipt, first_index, [])


_REPLAY: dict[str, Any] = {
    "numbering": numbering.resume_numbering,
    "sent": _sent,
    "receipted": outbox.record_receipt,
    "rejected": outbox.record_rejection,
    "stored": _stored,
    "refused": inbox.store_refused,
}
