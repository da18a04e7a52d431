"""The co-signed transcript in the store: our checkpoints and their cosignatures, the peers'
checkpoints we cosigned, and the evidence when a log contradicts itself.

Every function runs inside the store's transaction (``SqliteStore._call``), so a judgement and
what it records are one atomic step.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from hotline.errors import NotFoundError
from hotline.log import (
    Checkpoint,
    Held,
    Offer,
    Refusal,
    Verifier,
    consistency_proof,
    inclusion_proof,
    judge,
    perfect_subtrees,
)
from hotline.storage.sql.alarms import raise_alarm
from hotline.storage.sql.db import Db
from hotline.storage.sql.treelog import subtree_hashes, tree_root, tree_size
from hotline.storage.witnessing import Equivocation, Evidence, StoredCheckpoint


def make_checkpoint(conn: Db, sign: Callable[[int, bytes], str], at_ms: int, step: int) -> StoredCheckpoint | None:
    """Sign checkpoints of the tree as committed so far, if it grew since the last one: one
    every ``step`` entries and one at the end, so that a witness can check each in a bounded
    offer (the tree of any earlier size is in the stored hashes). Returns the newest."""
    size = tree_size(conn)
    latest = latest_checkpoint(conn)
    done = 0 if latest is None else latest.size
    newest = None
    while done < size:
        done = min(size, done + step)
        root = tree_root(conn, done)
        newest = StoredCheckpoint(done, root, sign(done, root), at_ms)
        conn.execute(
            "INSERT INTO checkpoints (size, root, note, at_ms) VALUES (?,?,?,?)", (done, root, newest.note, at_ms)
        )
    return newest


def _checkpoint(conn: Db, row: tuple[int, bytes, str, int] | None) -> StoredCheckpoint | None:
    if row is None:
        return None
    lines = conn.execute("SELECT witness, line FROM cosignatures WHERE size=? ORDER BY witness", (row[0],)).fetchall()
    return StoredCheckpoint(row[0], bytes(row[1]), row[2], row[3], tuple((w, line) for w, line in lines))


def latest_checkpoint(conn: Db) -> StoredCheckpoint | None:
    row = conn.execute("SELECT size, root, note, at_ms FROM checkpoints ORDER BY size DESC LIMIT 1").fetchone()
    return _checkpoint(conn, row)


def checkpoint_at(conn: Db, size: int) -> StoredCheckpoint | None:
    row = conn.execute("SELECT size, root, note, at_ms FROM checkpoints WHERE size=?", (size,)).fetchone()
    return _checkpoint(conn, row)


def checkpoints(conn: Db) -> list[StoredCheckpoint]:
    rows = conn.execute("SELECT size, root, note, at_ms FROM checkpoints ORDER BY size").fetchall()
    return [c for c in (_checkpoint(conn, row) for row in rows) if c is not None]


def next_checkpoint(conn: Db, after: int) -> StoredCheckpoint | None:
    """The first checkpoint larger than ``after``: what a witness that cosigned ``after`` sees next."""
    row = conn.execute(
        "SELECT size, root, note, at_ms FROM checkpoints WHERE size > ? ORDER BY size LIMIT 1", (after,)
    ).fetchone()
    return _checkpoint(conn, row)


def last_cosigned(conn: Db, witness: str) -> int:
    (size,) = conn.execute("SELECT max(size) FROM cosignatures WHERE witness=?", (witness,)).fetchone()
    return size or 0


def offer_for(conn: Db, peer: str, checkpoint: StoredCheckpoint, old_size: int) -> Offer:
    """What we send ``peer`` to witness ``checkpoint``: the consistency proof from what it last
    cosigned, the old tree's top subtree hashes and the new leaf hashes (so that it recomputes
    the new root), and which of the new entries are its envelopes."""
    get_hash = subtree_hashes(conn)
    size = checkpoint.size
    proof = consistency_proof(old_size, size, get_hash) if 0 < old_size < size else []
    frontier = tuple(get_hash(level, index) for level, index in perfect_subtrees(old_size))
    leaves = tuple(
        bytes(h)
        for (h,) in conn.execute(
            "SELECT hash FROM tree_hashes WHERE level=0 AND idx >= ? AND idx < ? ORDER BY idx", (old_size, size)
        )
    )
    ours = tuple(
        (index, bytes(envelope_id))
        for index, envelope_id in conn.execute(
            # Only what the entry really holds: a store damaged or rewritten by hand must not
            # make us send a claim twice, or one the tree does not back.
            "SELECT DISTINCT i.log_index, i.env_id FROM inbox i JOIN transcript t ON t.idx = i.log_index "
            "WHERE i.peer=? AND i.log_index >= ? AND i.log_index < ? AND t.obj = i.envelope ORDER BY i.log_index",
            (peer, old_size, size),
        )
    )
    return Offer(checkpoint.note, old_size, tuple(proof), frontier, leaves, ours)


def add_cosignature(conn: Db, size: int, witness: str, line: str, at_ms: int) -> None:
    conn.execute(
        "INSERT INTO cosignatures (size, witness, line, at_ms) VALUES (?,?,?,?) ON CONFLICT DO NOTHING",
        (size, witness, line, at_ms),
    )


def witness_offer(
    conn: Db, peer: str, offer: Offer, origin: str, verifier: Verifier | Sequence[Verifier], at_ms: int
) -> Checkpoint | Refusal:
    """Judge a peer's checkpoint against what we hold (``log.witness.judge``) and record the
    outcome: the checkpoint as cosigned, or the evidence of equivocation."""
    row = conn.execute(
        "SELECT size, root, note FROM witnessed WHERE peer=? ORDER BY size DESC LIMIT 1", (peer,)
    ).fetchone()
    held = None if row is None else Held(row[0], bytes(row[1]), row[2])
    low = 0 if held is None else held.size
    high = low + len(offer.leaves)  # the new part the offer claims; judge() checks the claim
    receipted = {
        index: bytes(env_id)
        for index, env_id in conn.execute(
            "SELECT peer_log_index, env_id FROM outbox WHERE peer=? AND peer_log_index >= ? AND peer_log_index < ?",
            (peer, low, high),
        )
    }

    # The envelopes of ours the offer claims, read in a few statements rather than one each: a
    # round trip per entry costs nothing in SQLite and a second per offer over a network.
    claimed = [envelope_id for _, envelope_id in offer.ours]
    held_envelopes: dict[bytes, bytes] = {}
    for start in range(0, len(claimed), 500):
        chunk = claimed[start : start + 500]
        marks = ",".join("?" * len(chunk))
        rows = conn.execute(f"SELECT env_id, envelope FROM outbox WHERE peer=? AND env_id IN ({marks})", (peer, *chunk))
        held_envelopes |= {bytes(envelope_id): bytes(envelope) for envelope_id, envelope in rows}
    sent = held_envelopes.get

    try:
        checkpoint = judge(offer, origin=origin, verifier=verifier, held=held, sent=sent, receipted=receipted)
    except Refusal as refusal:
        if refusal.equivocation:
            record_equivocation(
                conn, peer, refusal.reason, refusal.detail, held.note if held else None, offer.note, at_ms, peer
            )
        return refusal
    conn.execute(
        "INSERT INTO witnessed (peer, size, root, note, at_ms) VALUES (?,?,?,?,?) ON CONFLICT DO NOTHING",
        (peer, checkpoint.size, checkpoint.root_hash, offer.note, at_ms),
    )
    # What each position of the peer's log holds, as the root just cosigned commits to it.
    conn.executemany(
        "INSERT INTO witnessed_leaves (peer, idx, hash) VALUES (?,?,?) ON CONFLICT DO NOTHING",
        [(peer, low + offset, leaf) for offset, leaf in enumerate(offer.leaves)],
    )
    return checkpoint


def witnessed_leaves(conn: Db, peer: str, start: int, limit: int) -> list[tuple[int, bytes]]:
    """The leaf hashes of ``peer``'s log we cosigned, from position ``start``, at most ``limit``."""
    rows = conn.execute(
        "SELECT idx, hash FROM witnessed_leaves WHERE peer=? AND idx >= ? ORDER BY idx LIMIT ?", (peer, start, limit)
    )
    return [(int(idx), bytes(leaf)) for idx, leaf in rows]


def record_equivocation(
    conn: Db,
    log: str,
    reason: str,
    detail: str,
    held: str | None,
    offered: str,
    at_ms: int,
    reported_by: str,
) -> None:
    """Keep both signed checkpoints, and open the alarm that points to them, in one step.
    ``reported_by`` is the peer whose log it is, or the witness that proved it of ours."""
    number = conn.execute(
        "INSERT INTO equivocations (log, reason, detail, held, offered, at_ms) VALUES (?,?,?,?,?,?) RETURNING id",
        (log, reason, detail, held, offered, at_ms),
    ).fetchone()[0]
    facts = {"reason": reason, "detail": detail, "equivocation": number, "ours": log != reported_by}
    raise_alarm(conn, "equivocation", reported_by, log, "commander", facts, at_ms)


def equivocations(conn: Db) -> list[Equivocation]:
    rows = conn.execute("SELECT id, log, reason, detail, held, offered, at_ms FROM equivocations ORDER BY id")
    return [Equivocation(*row) for row in rows]


def evidence(conn: Db, index: int) -> Evidence:
    """Entry ``index`` with its inclusion proof under the best checkpoint that covers it: the
    newest one a witness cosigned, or else our newest."""
    found = conn.execute("SELECT obj FROM transcript WHERE idx=?", (index,)).fetchone()
    if found is None:
        raise NotFoundError(f"the transcript has no entry {index}")
    row = conn.execute(
        "SELECT size, root, note, at_ms FROM checkpoints c WHERE size > ? "
        "ORDER BY EXISTS (SELECT 1 FROM cosignatures s WHERE s.size = c.size) DESC, size DESC LIMIT 1",
        (index,),
    ).fetchone()
    checkpoint = _checkpoint(conn, row)
    if checkpoint is None:
        raise NotFoundError(f"no checkpoint covers entry {index} yet; one is signed within seconds while the node runs")
    hashes = tuple(inclusion_proof(index, checkpoint.size, subtree_hashes(conn)))
    return Evidence(bytes(found[0]), index, checkpoint, hashes)
