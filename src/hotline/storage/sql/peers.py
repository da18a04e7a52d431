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


def list_peers(conn: Db) -> list[PeerRecord]:
    rows = conn.execute(
        "SELECT party, sign_key, tls_cert, addresses, card, added_ms FROM peers ORDER BY party"
    ).fetchall()
    return [PeerRecord(r[0], r[1], r[2], tuple(json.loads(r[3])), r[4], r[5]) for r in rows]
