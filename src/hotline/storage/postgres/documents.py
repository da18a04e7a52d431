"""Small documents every node of a party must see alike, kept in the shared database: the
console's accounts (``hotline.console.accounts``) are one. A party on SQLite keeps them as
files in its one node directory instead.

A change is read, changed and written in one transaction, the row locked meanwhile, so that two
nodes changing it at once (``hotline user add`` on each) take turns and neither change is lost.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import psycopg

from hotline.errors import StoreError
from hotline.storage.postgres.connection import connect, describe

SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    name TEXT PRIMARY KEY,
    content TEXT NOT NULL,
    changed_ms BIGINT NOT NULL
)
"""


def read_document(url: str, name: str) -> str | None:
    conn = connect(url, read_only=True, application="hotline-documents")
    try:
        if not _exists(conn):
            return None
        row = conn.execute("SELECT content FROM documents WHERE name = %s", (name,)).fetchone()
    except psycopg.Error as exc:
        raise StoreError(f"cannot read {name} from the database at {describe(url)} ({exc})") from None
    finally:
        conn.close()
    return None if row is None else str(row[0])


def change_document(url: str, name: str, change: Callable[[str | None], str]) -> None:
    """Replace the document with ``change(what it holds now)``, in one locked step."""
    conn = connect(url, application="hotline-documents")
    try:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"document:{name}",))
            if not _exists(conn):
                conn.execute(SCHEMA)
            row = conn.execute("SELECT content FROM documents WHERE name = %s FOR UPDATE", (name,)).fetchone()
            content = change(None if row is None else str(row[0]))
            conn.execute(
                "INSERT INTO documents (name, content, changed_ms) VALUES (%s, %s, %s) "
                "ON CONFLICT (name) DO UPDATE SET content = excluded.content, changed_ms = excluded.changed_ms",
                (name, content, int(time.time() * 1000)),
            )
    except psycopg.Error as exc:
        raise StoreError(f"cannot change {name} in the database at {describe(url)} ({exc})") from None
    finally:
        conn.close()


def _exists(conn: psycopg.Connection[Any]) -> bool:
    row = conn.execute("SELECT to_regclass('documents') IS NOT NULL").fetchone()
    return bool(row and row[0])
