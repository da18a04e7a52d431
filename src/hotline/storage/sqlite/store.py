"""The ``Store`` over one SQLite file: WAL, ``synchronous=FULL``, group commit.

Why group commit: an fsync costs the same for one row as for a thousand, so the store runs
every operation called during one turn of the event loop in one transaction, commits once, and
only then wakes their callers. Each operation runs inside its own SAVEPOINT so that one failing
operation does not undo the others.

The operations themselves (``hotline.storage.sql``) are shared with the PostgreSQL store; this
class only runs their groups.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from hotline.envelope import Precedence
from hotline.errors import StoreError
from hotline.storage.sql.store import Batch, SqlStore
from hotline.storage.sqlite.connection import connect, connect_read_only

LOWEST_RANK = len(Precedence) - 1
T = TypeVar("T")


class SqliteStore(SqlStore):
    """The ``Store`` over one SQLite file, committing in groups on the event loop's thread.

    Every operation called during one turn of the event loop joins one transaction, committed
    (and fsync'd) once, at the end of that turn; only then are the callers' futures resolved.
    SQLite runs on the loop's own thread: the loop waits for the fsync (a fraction of a
    millisecond, once per turn), but no operation pays for two thread wake-ups, which on a
    small virtual machine cost more than the fsync itself.

    ``read_only``: the file is opened as it stands and never written (no migration either), for
    reading a running node's store from another process; an operation that writes fails.
    """

    def __init__(self, path: Path, read_only: bool = False) -> None:
        self.path = path
        self.read_only = read_only
        self._conn = connect_read_only(path) if read_only else connect(path)
        # A reader's group is one snapshot; a writer takes the write lock at once, so that the
        # group cannot fail half-way for want of it.
        self._begin = "BEGIN" if read_only else "BEGIN IMMEDIATE"
        self._batch: Batch = []
        self._closed = False
        self.epoch = 0  # one node has the file to itself: no lease to hold
        self.commits = 0  # for the benchmark: how many transactions have been committed
        self.failure: str | None = None  # set once the engine fails; then every call fails
        self.on_failure: Callable[[str], None] | None = None  # told once, when that happens

    def _first_queued(self, loop: asyncio.AbstractEventLoop) -> None:
        loop.call_soon(self._commit)  # at the end of this turn of the loop

    def _commit(self) -> None:
        batch, self._batch = self._batch, []
        if not batch:
            return
        if self.failure is not None:
            self._fail(batch, f"the store failed earlier and accepts nothing more: {self.failure}")
            return
        results: list[tuple[asyncio.Future[Any], Any, BaseException | None]] = []
        try:
            self._conn.execute(self._begin)
            for future, op, args in batch:
                self._conn.execute("SAVEPOINT op")
                try:
                    results.append((future, op(self._conn, *args), None))
                    self._conn.execute("RELEASE op")
                except sqlite3.OperationalError:
                    raise  # the engine failed (disk full, I/O error, locked), not the operation
                except Exception as exc:  # handed to the caller, who knows what it means
                    self._conn.execute("ROLLBACK TO op")
                    self._conn.execute("RELEASE op")
                    results.append((future, None, exc))
            self._conn.execute("COMMIT")
        except Exception as exc:
            # The engine failed, not an operation: nothing of this batch is known to be stored,
            # and the node's counters are ahead of the disk. Every caller, now and later, is
            # told so; the node stops and a restart recovers from what was committed.
            self.failure = f"{type(exc).__name__}: {exc}"
            with contextlib.suppress(sqlite3.Error):
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
            self._fail(batch, f"the store failed: {self.failure}")
            if self.on_failure is not None:
                self.on_failure(self.failure)
            return
        self.commits += 1
        for future, result, error in results:
            if future.done():
                continue  # the caller stopped waiting; the operation is stored all the same
            if error is None:
                future.set_result(result)
            else:
                future.set_exception(error)

    async def close(self) -> None:
        if self._closed:
            return
        self._commit()
        self._closed = True
        self._conn.close()

    def _read_now(self, op: Callable[..., T], *args: Any) -> T:
        # On the loop's thread, between commits: what is committed (a group queued and not yet
        # committed is not seen; the caller accounts for those).
        if self._closed:
            raise StoreError("the store is closed")
        return op(self._conn, *args)
