"""The one thing the store's operations need of a database: run a statement, read its rows.

The operations (one module per concern beside this one) are plain functions of a ``Db`` that
run inside the store's transaction. They are written in the SQL that SQLite and PostgreSQL
share (``?`` placeholders, ``RETURNING``, ``ON CONFLICT``, ``IS NOT DISTINCT FROM``, no scalar
``max(a, b)``), so that the sending side, the transcript and the witnessing exist once and
cannot drift between the engines. ``sqlite3.Connection`` is a ``Db`` as it stands; the
PostgreSQL store hands them an adapter (``hotline.storage.postgres.adapter``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Protocol


class Rows(Protocol):
    """A statement's result: its rows, and how many rows it changed."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Db(Protocol):
    def execute(self, sql: str, parameters: Sequence[Any] = ..., /) -> Rows: ...

    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]], /) -> Rows: ...
