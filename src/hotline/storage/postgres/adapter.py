"""A psycopg connection seen as the ``Db`` the shared operations take (``hotline.storage.sql``).

The operations are written with SQLite's ``?`` placeholders; psycopg takes ``%s``, and reads a
literal ``%`` as the start of one, so each statement is translated once (and remembered). A
Python ``bool`` is passed as 0 or 1, as SQLite stores it: the schema keeps such flags in
integer columns on both engines.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Any

import psycopg


@lru_cache(maxsize=1024)
def translate(sql: str) -> str:
    """SQLite's placeholders to psycopg's (no statement of ours has ``?`` inside a literal)."""
    return sql.replace("%", "%%").replace("?", "%s")


def _values(parameters: Sequence[Any]) -> tuple[Any, ...]:
    return tuple(int(v) if isinstance(v, bool) else v for v in parameters)


class PgDb:
    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn

    def execute(self, sql: str, parameters: Sequence[Any] = (), /) -> psycopg.Cursor[Any]:
        if not parameters:
            return self.conn.execute(sql)
        return self.conn.execute(translate(sql), _values(parameters))

    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]], /) -> psycopg.Cursor[Any]:
        cursor = self.conn.cursor()
        cursor.executemany(translate(sql), [_values(p) for p in parameters])
        return cursor
