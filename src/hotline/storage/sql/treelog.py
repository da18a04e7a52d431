"""The transcript's Merkle tree on disk: every perfect subtree hash, stored as it completes.

Each transcript entry (the exact signed bytes of an envelope, receipt or rejection, in the
order the node numbered them) is a leaf of an RFC 9162 tree. An append stores the leaf hash and
the hash of every perfect subtree the new leaf completes -- at most log2(n) rows, amortised two
-- in the same transaction as the entry itself, so the tree and the transcript can never
disagree after a crash. Proofs and roots are then computed from stored hashes
(``hotline.log.merkle`` takes a ``SubtreeHash``), and the tree is never held in memory whole.
That is the shape C2SP tlog-tiles serves; ``log export`` writes it out as tiles.
"""

from __future__ import annotations

from collections.abc import Sequence

from hotline.errors import StoreError
from hotline.log import EMPTY_ROOT, SubtreeHash, leaf_hash, node_hash, subtree_root
from hotline.storage.sql.db import Db


def append_leaves(conn: Db, first: int, entries: Sequence[bytes]) -> None:
    """Add the leaves ``first``, ``first + 1``, ... and every subtree hash they complete."""
    new: dict[tuple[int, int], bytes] = {}

    def stored(level: int, index: int) -> bytes:
        return new.get((level, index)) or read_hash(conn, level, index)

    for offset, entry in enumerate(entries):
        index, level = first + offset, 0
        value = new[(0, index)] = leaf_hash(entry)
        # A leaf completes a subtree at each level where its index, shifted, is odd: the left
        # sibling is already stored (earlier in this batch, or on disk).
        while index & 1:
            value = node_hash(stored(level, index - 1), value)
            index, level = index >> 1, level + 1
            new[(level, index)] = value
    conn.executemany(
        "INSERT INTO tree_hashes (level, idx, hash) VALUES (?,?,?)", [(lv, ix, h) for (lv, ix), h in new.items()]
    )


def read_hash(conn: Db, level: int, index: int) -> bytes:
    row = conn.execute("SELECT hash FROM tree_hashes WHERE level=? AND idx=?", (level, index)).fetchone()
    if row is None:
        raise StoreError(f"the transcript tree lacks the subtree hash ({level}, {index})")
    return bytes(row[0])


def subtree_hashes(conn: Db) -> SubtreeHash:
    """The stored hashes as the ``SubtreeHash`` that proof generation takes."""
    return lambda level, index: read_hash(conn, level, index)


def tree_size(conn: Db) -> int:
    (last,) = conn.execute("SELECT max(idx) FROM tree_hashes WHERE level=0").fetchone()
    return 0 if last is None else last + 1


def tree_root(conn: Db, size: int) -> bytes:
    return subtree_root(0, size, subtree_hashes(conn)) if size else EMPTY_ROOT


def grow_to_transcript(conn: Db, batch: int = 10_000) -> int:
    """Hash the transcript entries the tree lacks (a store from before the tree existed).
    Returns how many were added. Runs inside the caller's transaction."""
    added = 0
    while True:
        size = tree_size(conn)
        rows = conn.execute("SELECT idx, obj FROM transcript WHERE idx >= ? ORDER BY idx LIMIT ?", (size, batch))
        entries = rows.fetchall()
        if not entries:
            return added
        if entries[0][0] != size or entries[-1][0] != size + len(entries) - 1:
            raise StoreError(f"the transcript has a hole after entry {size}")
        append_leaves(conn, size, [bytes(obj) for _, obj in entries])
        added += len(entries)
