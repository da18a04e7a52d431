"""The transcript: every signed object sent or received, numbered by the node, never changed.

Entries are appended with their tree hashes (``treelog.py``) in the caller's transaction. The
readers below serve people who trust neither node (``hotline.evidence``): they page through the
entries and the stored hashes, and find where a message's envelope sits.
"""

from __future__ import annotations

from typing import Any

from hotline.errors import StoreError
from hotline.storage.sql.db import Db
from hotline.storage.sql.treelog import append_leaves, tree_root, tree_size


def transcript_size(conn: Db) -> int:
    (last,) = conn.execute("SELECT max(idx) FROM transcript").fetchone()
    return 0 if last is None else last + 1


def append(conn: Db, index: int, kind: str, obj: bytes, at_ms: int) -> None:
    append_many(conn, index, [(kind, obj, at_ms)])


def append_many(conn: Db, first: int, entries: list[tuple[str, bytes, int]]) -> None:
    # The node numbers transcript entries; a number that does not extend the log exactly is a
    # bug that would tear a hole in the Merkle tree, so it is refused here.
    size = transcript_size(conn)
    if first != size:
        raise StoreError(f"transcript append at {first}, but the log has {size} entries")
    conn.executemany(
        "INSERT INTO transcript (idx, kind, obj, at_ms) VALUES (?,?,?,?)",
        [(first + offset, kind, obj, at_ms) for offset, (kind, obj, at_ms) in enumerate(entries)],
    )
    append_leaves(conn, first, [obj for _, obj, _ in entries])


def root_at(conn: Db, size: int) -> bytes | None:
    """Our transcript's root hash at ``size`` entries, or None if it holds fewer."""
    return None if size > tree_size(conn) else tree_root(conn, size)


def transcript_entries(conn: Db, start: int, limit: int) -> list[tuple[int, bytes]]:
    """Up to ``limit`` entries from index ``start`` on, as (index, signed bytes), in order. An
    index missing from the run (a damaged store) is simply absent: the reader notices."""
    rows = conn.execute("SELECT idx, obj FROM transcript WHERE idx >= ? ORDER BY idx LIMIT ?", (start, limit))
    return [(index, bytes(obj)) for index, obj in rows]


def tree_hashes(conn: Db, level: int, start: int, limit: int) -> list[tuple[int, bytes]]:
    """Up to ``limit`` stored subtree hashes of ``level`` from index ``start`` on, in order."""
    rows = conn.execute(
        "SELECT idx, hash FROM tree_hashes WHERE level=? AND idx >= ? ORDER BY idx LIMIT ?", (level, start, limit)
    )
    return [(index, bytes(value)) for index, value in rows]


def log_positions(
    conn: Db, envelope_id: bytes | None, sent: int | None, received: tuple[str, int] | None
) -> list[int | None]:
    """Where each signed message by that name sits in the transcript, the likeliest first; None
    for one stored before positions were kept (schema 4). A queued message has no envelope yet."""
    queries: list[tuple[str, tuple[Any, ...]]]
    if envelope_id is not None:
        queries = [
            ("SELECT log_index FROM outbox WHERE env_id=?", (envelope_id,)),
            ("SELECT log_index FROM inbox WHERE env_id=?", (envelope_id,)),
        ]
    elif sent is not None:
        queries = [("SELECT log_index FROM outbox WHERE num=? AND seq IS NOT NULL", (sent,))]
    elif received is not None:
        # A store from before serials were unique per peer may hold two: the newest is meant.
        queries = [("SELECT log_index FROM inbox WHERE peer=? AND num=? ORDER BY received_ms DESC", received)]
    else:
        raise ValueError("name the message by envelope id, by our serial number, or by the peer's serial")
    return [index for query, args in queries for (index,) in conn.execute(query, args)]


def check_positions(conn: Db) -> tuple[int, list[tuple[str, int | None]]]:
    """How many messages and receipts have a log position, and which of them (table, position)
    point at an entry that is not exactly their envelope or receipt (position None: a receipt
    that names no entry)."""
    checked, wrong = 0, list[tuple[str, int | None]]()
    for table in ("outbox", "inbox"):
        rows = conn.execute(
            f"SELECT m.log_index, m.envelope = t.obj FROM {table} m LEFT JOIN transcript t ON t.idx = m.log_index "
            "WHERE m.log_index IS NOT NULL"
        )
        for index, same in rows:
            checked += 1
            if not same:
                wrong.append((table, int(index)))
    # Every receipt, sent or received, is its transcript entry: the API serves these copies.
    # One that names no entry (damaged before the migration that gave them one) is wrong too.
    rows = conn.execute(
        "SELECT r.log_index, r.obj = t.obj FROM receipts r LEFT JOIN transcript t ON t.idx = r.log_index"
    )
    for index, same in rows:
        checked += 1
        if not same:
            wrong.append(("receipts", None if index is None else int(index)))
    return checked, wrong
