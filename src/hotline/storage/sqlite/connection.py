"""Opening a store file: the durability settings, the schema migrations, the tree's first growth.

Durability: with WAL and ``synchronous=FULL`` SQLite fsyncs the WAL at every commit; the store
wakes a caller only after the commit returned (``store.py``), so anything a caller was told is
stored survives ``kill -9`` and power loss.

A reader (``connect_read_only``: the CLI's evidence, audit and export while the node may run)
opens the file read-only and writes nothing: no migration, no pragma that changes the file.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from hotline.errors import StoreError
from hotline.storage.sql.transcript import transcript_size
from hotline.storage.sql.treelog import grow_to_transcript, tree_size
from hotline.storage.sqlite.migrations import MIGRATIONS


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


def connect_read_only(path: Path) -> sqlite3.Connection:
    """Open an existing store file for reading only, as it stands (a running node's included)."""
    try:
        uri = f"{path.resolve().as_uri()}?mode=ro"
        conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open {path} ({exc})") from None
    try:
        conn.execute("PRAGMA user_version").fetchone()  # a file that is no database fails here
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise StoreError(f"{path} is not a hotline store, or it is damaged ({exc})") from None
    return conn


def _grow_tree(conn: sqlite3.Connection) -> None:
    """A store from before the transcript tree (schema 3) gets its tree on first open."""
    if tree_size(conn) == transcript_size(conn):
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
            for statement in statements(MIGRATIONS[number]):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version={number + 1}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise


def statements(script: str) -> list[str]:
    """Split a script into statements the way SQLite itself would (comments may hold ';')."""
    found, current = [], ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            found.append(current)
            current = ""
    if current.strip():
        found.append(current)
    return found
