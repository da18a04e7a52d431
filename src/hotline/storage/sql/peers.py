"""Pinned peers: each party's signing key, TLS certificate, addresses and identity card."""

from __future__ import annotations

import json

from hotline.storage.records import PeerRecord
from hotline.storage.sql.db import Db


def add_peer(conn: Db, peer: PeerRecord) -> None:
    conn.execute(
        "INSERT INTO peers (party, sign_key, tls_cert, addresses, card, added_ms) VALUES (?,?,?,?,?,?) "
        "ON CONFLICT (party) DO UPDATE SET sign_key=excluded.sign_key, tls_cert=excluded.tls_cert, "
        "addresses=excluded.addresses, card=excluded.card",
        (peer.party, peer.sign_key, peer.tls_cert, json.dumps(list(peer.addresses)), peer.card, peer.added_ms),
    )


def set_peer_state(conn: Db, party: str, state: str, since_ms: int, by: str, remark: str | None) -> bool:
    """Suspend, resume or remove a pinned peer; False if no such peer is pinned."""
    cursor = conn.execute(
        "UPDATE peers SET state = ?, state_since_ms = ?, state_by = ?, state_remark = ? WHERE party = ?",
        (state, since_ms, by, remark, party),
    )
    return bool(cursor.rowcount)


def list_peers(conn: Db) -> list[PeerRecord]:
    # Every column, in the order the migrations made them (party ... added_ms, then the state's
    # four): a store read before it is migrated (``peer list`` beside an older node) has only
    # the first six, and its peers are active.
    rows = conn.execute("SELECT * FROM peers ORDER BY party").fetchall()
    return [PeerRecord(r[0], r[1], r[2], tuple(json.loads(r[3])), *r[4:10]) for r in rows]
