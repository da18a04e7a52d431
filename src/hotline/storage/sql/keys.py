"""Retired signing keys (``RetiredKey``): what rotated keys signed stays verifiable."""

from __future__ import annotations

from hotline.storage.records import RetiredKey
from hotline.storage.sql.db import Db

_COLUMNS = "party, sign_key, tls_cert, card, replaced_ms, retired_ms, retired_size"


def add_retired_key(conn: Db, key: RetiredKey) -> None:
    """Keep a key a rotation moves away from (once: a rotation followed again changes nothing)."""
    conn.execute(
        f"INSERT INTO key_history ({_COLUMNS}) VALUES (?,?,?,?,?,?,?) ON CONFLICT (party, sign_key) DO NOTHING",
        (key.party, key.sign_key, key.tls_cert, key.card, key.replaced_ms, key.retired_ms, key.retired_size),
    )


def retire_key(conn: Db, party: str, sign_key: bytes, at_ms: int, log_size: int) -> bool:
    """The rotation away from ``sign_key`` ended: it is no longer accepted after ``log_size``."""
    cursor = conn.execute(
        "UPDATE key_history SET retired_ms = ?, retired_size = ? WHERE party = ? AND sign_key = ?",
        (at_ms, log_size, party, sign_key),
    )
    return bool(cursor.rowcount)


def close_rotations(conn: Db, party: str, at_ms: int) -> None:
    """The party's keys still accepted beside its pin (a rotation under way) are retired."""
    conn.execute("UPDATE key_history SET retired_ms = ? WHERE party = ? AND retired_ms IS NULL", (at_ms, party))


def rotation_envelopes(conn: Db, peer: str | None) -> list[bytes]:
    """The ``key_rotation`` envelopes a party signed: ours (``peer`` None) as we sent them, or a
    peer's as we received them. They chain a party's first key to its current one."""
    if peer is None:
        rows = conn.execute(
            "SELECT envelope FROM outbox WHERE kind = 'key_rotation' AND envelope IS NOT NULL ORDER BY num"
        )
    else:
        rows = conn.execute("SELECT envelope FROM inbox WHERE peer = ? AND kind = 'key_rotation' ORDER BY seq", (peer,))
    return [bytes(row[0]) for row in rows.fetchall()]


def retired_keys(conn: Db) -> list[RetiredKey]:
    rows = conn.execute(f"SELECT {_COLUMNS} FROM key_history ORDER BY party, replaced_ms").fetchall()
    return [RetiredKey(*row) for row in rows]
