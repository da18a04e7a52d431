"""The console's sessions in SQL (what they are: ``hotline.storage.sessions``)."""

from __future__ import annotations

from hotline.storage.sessions import StoredSession
from hotline.storage.sql.db import Db

_COLUMNS = 'key, "user", role, lang, created_ms, seen_ms, changed'


def save_sessions(conn: Db, sessions: list[StoredSession], touch: bool = False) -> None:
    """Keep new sessions (or a language changed); with ``touch``, only when each was last used,
    and only for a session still kept: one ended meanwhile is not brought back."""
    for s in sessions:
        if touch:
            conn.execute("UPDATE console_sessions SET seen_ms = ? WHERE key = ?", (s.seen_ms, s.key))
            continue
        conn.execute(
            f"INSERT INTO console_sessions ({_COLUMNS}) VALUES (?,?,?,?,?,?,?) "
            "ON CONFLICT (key) DO UPDATE SET seen_ms = excluded.seen_ms, lang = excluded.lang",
            (s.key, s.user, s.role, s.lang, s.created_ms, s.seen_ms, s.changed),
        )


def end_sessions(conn: Db, keys: list[str]) -> None:
    for key in keys:
        conn.execute("DELETE FROM console_sessions WHERE key = ?", (key,))


def stored_sessions(conn: Db) -> list[StoredSession]:
    rows = conn.execute(f"SELECT {_COLUMNS} FROM console_sessions ORDER BY created_ms")
    return [StoredSession(*row) for row in rows]
