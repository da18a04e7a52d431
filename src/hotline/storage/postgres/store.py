"""The ``Store`` over PostgreSQL: the shared operations, committed in groups by a thread of its own.

Why a thread and not the event loop: a commit here is a round trip to a server that may be on
another machine, and during a database failover it may hang for seconds. The loop that carries
the links must never wait for that, so one thread holds the writing session and runs the groups
one after another, while the loop keeps queueing. The operations are the SQL shared with SQLite
(``hotline.storage.sql``), so the two engines cannot drift.

Group commit, as in the SQLite store: every operation called while a group is at the server
joins the next one; each runs inside its own savepoint (a failing operation undoes only itself),
the group commits once, and only then are its callers woken. Operations take effect in the
order they were called.

A failure of the engine (the server gone, the session cut, a commit whose outcome is unknown)
fails the group and every call after it: the node stops, and a restart recovers from what the
database committed, exactly as after a crash.

Several nodes of a party share one database; the one that holds the lease writes, and every
group it commits first checks that the lease is still its own (``lease.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import psycopg

from hotline.errors import StoreError
from hotline.storage.postgres import lease
from hotline.storage.postgres.adapter import PgDb
from hotline.storage.postgres.connection import check_readable, connect, describe, migrate
from hotline.storage.postgres.nodes import SESSION_NAME
from hotline.storage.sql.store import Batch, SqlStore

T = TypeVar("T")
Work = list[tuple[Callable[..., Any], tuple[Any, ...]]]
# psycopg's errors that mean the engine failed, not the operation: the session is gone, the
# server is shutting down, or a statement was cancelled.
ENGINE_ERRORS = (psycopg.OperationalError, psycopg.InterfaceError)


class PostgresStore(SqlStore):
    """The ``Store`` in a PostgreSQL database named by a libpq URL (several hosts allowed).

    ``party``: whose store it is; a database claimed by another party is refused, and a new
    one is claimed. ``read_only``: reads only (the CLI's and the console's), nothing written.
    """

    def __init__(self, url: str, read_only: bool = False, party: str | None = None) -> None:
        self.url = url
        self.location = describe(url)
        self.read_only = read_only
        self._conn = connect(url, read_only=read_only)
        try:
            if not read_only:
                lease.limit_idleness(self._conn)
            if read_only:
                check_readable(self._conn, url)
            else:
                migrate(self._conn, url, party)
        except psycopg.Error as exc:
            self._conn.close()
            raise StoreError(f"the database at {self.location} failed while opening the store ({exc})") from None
        except StoreError:
            self._conn.close()
            raise
        self._db = PgDb(self._conn)
        # For _read_now: opened here (off the event loop: a node opens its store on a thread)
        # and, after a failure, again on a thread of its own, never on the loop, where a
        # connect that waits for a dead host would stall renewing the lease past its limit.
        self._reads: psycopg.Connection[Any] | None = None
        self._reopening: asyncio.Future[None] | None = None
        if not read_only:
            self._reads = connect(url, read_only=True, application="hotline-reads")
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="hotline-pg")
        self._batch: Batch = []
        self._running: asyncio.Future[Any] | None = None
        self._closed = False
        self.commits = 0
        self.failure: str | None = None
        self.on_failure: Callable[[str], None] | None = None
        # The lease: the epoch every group checks (0: none taken; such a store is an operator's
        # tool writing with the nodes stopped), and when the last group ran, for renewing it.
        self.epoch = 0
        self.synchronous_standbys = ""  # what the server waits for at each commit, read at takeover
        self._last_group = time.monotonic()
        self._renewal: asyncio.TimerHandle | None = None

    # -- the lease ------------------------------------------------------------------------------

    async def take_lease(self, node: int, now_ms: int) -> int | None:
        """Become the party's active node if no other node's session holds the lease: the new
        epoch, or None. From then on every group checks it, and the store renews it itself."""
        loop = asyncio.get_running_loop()
        try:
            epoch = await loop.run_in_executor(self._thread, lease.try_take, self._conn, node, now_ms)
            if epoch is not None:
                self.synchronous_standbys = await loop.run_in_executor(self._thread, _synchronous_standbys, self._conn)
        except psycopg.Error as exc:  # a session on a read-only server too: not a lease to take
            raise StoreError(f"the database at {self.location} failed: {_first_line(exc)}") from None
        if epoch is not None:
            self.epoch = epoch
            self._renewal = loop.call_later(lease.RENEW_EVERY_S, self._renew)
        return epoch

    async def name_session(self, node: int) -> None:
        """Name the writing session after this node, so that the active node can see which of
        the party's nodes are connected (``nodes.connected_nodes``)."""
        name = SESSION_NAME.format(int(node))
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(self._thread, lambda: self._conn.execute(f"SET application_name = '{name}'"))
        except psycopg.Error as exc:
            raise StoreError(f"the database at {self.location} failed: {_first_line(exc)}") from None

    async def lease(self) -> lease.Lease:
        """Who holds the lease now, as the database says."""
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._thread, lease.current, self._conn)
        except psycopg.Error as exc:
            raise StoreError(f"the database at {self.location} failed: {_first_line(exc)}") from None

    def _renew(self) -> None:
        # A group at least every RENEW_EVERY_S, or the server ends the session as idle and the
        # lease goes to another node. A group already running renews it as well.
        if self._closed or self.failure is not None:
            return
        loop = asyncio.get_running_loop()
        if self._running is None and not self._batch and time.monotonic() - self._last_group >= lease.RENEW_EVERY_S / 2:
            self._call(_nothing)
        self._renewal = loop.call_later(lease.RENEW_EVERY_S / 2, self._renew)

    # -- group commit ---------------------------------------------------------------------------

    def _first_queued(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._running is None:  # else the group at the server sends this batch when it is done
            loop.call_soon(self._send)

    def _send(self) -> None:
        """Hand the waiting operations to the writing thread as one group (one at a time)."""
        if self._running is not None or not self._batch:
            return
        batch, self._batch = self._batch, []
        if self.failure is not None:
            self._fail(batch, f"the store failed earlier and accepts nothing more: {self.failure}")
            return
        loop = asyncio.get_running_loop()
        work: Work = [(op, args) for _, op, args in batch]
        self._running = loop.run_in_executor(self._thread, self._group, work)
        self._running.add_done_callback(lambda done: self._settle(batch, done))

    def _settle(self, batch: list[Any], done: asyncio.Future[list[tuple[Any, BaseException | None]]]) -> None:
        self._running = None
        error = done.exception()
        if error is not None:
            self.failure = f"{type(error).__name__}: {error}".strip()
            self._fail(batch, f"the store failed: {self.failure}")
            if self.on_failure is not None:
                self.on_failure(self.failure)
        else:
            self.commits += 1
            for (future, _, _), (result, exc) in zip(batch, done.result(), strict=True):
                if future.done():
                    continue  # the caller stopped waiting; the operation is stored all the same
                if exc is None:
                    future.set_result(result)
                else:
                    future.set_exception(exc)
        self._send()

    def _group(self, work: Work) -> list[tuple[Any, BaseException | None]]:
        """On the writing thread: one transaction, one commit.

        Each operation must fail alone, as in a savepoint; but a savepoint costs two round
        trips to the server, which under load cost more than the operations. So the group runs
        first without them; only if an operation fails (rare: a conflicting ref, an
        acknowledgement given twice) is it rolled back whole and run again with a savepoint per
        operation. The operations are plain functions of what is stored, so the second run
        finds what the first did."""
        self._last_group = time.monotonic()
        try:
            try:
                with self._conn.transaction():
                    self._check_lease()
                    return [(op(self._db, *args), None) for op, args in work]
            except (*ENGINE_ERRORS, lease.LeaseLostError):
                raise
            except Exception:  # noqa: S110 - an operation failed: run again, each in a savepoint
                pass
            results: list[tuple[Any, BaseException | None]] = []
            with self._conn.transaction():
                self._check_lease()
                for op, args in work:
                    try:
                        with self._conn.transaction():  # a savepoint: a failure undoes this one only
                            results.append((op(self._db, *args), None))
                    except ENGINE_ERRORS:
                        raise
                    except Exception as exc:  # handed to the caller, who knows what it means
                        results.append((None, exc))
        except ENGINE_ERRORS as exc:
            raise StoreError(f"the database at {self.location} failed: {_first_line(exc)}") from None
        return results

    def _check_lease(self) -> None:
        if self.epoch:
            lease.check(self._conn, self.epoch)  # raises LeaseLostError: nothing of this group is written

    def _read_now(self, op: Callable[..., T], *args: Any) -> T:
        # On the caller's thread, from what is committed: a round trip to the server, which
        # the receiver pays once per batch instead of waiting for the next commit.
        if self._closed:
            raise StoreError("the store is closed")
        reads = self._reads
        if reads is None or reads.closed:
            self._reopen_reads()
            raise StoreError(f"the read connection to {self.location} is being opened again")
        try:
            return op(PgDb(reads), *args)
        except ENGINE_ERRORS as exc:
            reads.close()
            self._reopen_reads()
            raise StoreError(f"the database at {self.location} failed: {_first_line(exc)}") from None

    def _reopen_reads(self) -> None:
        if self._reopening is not None and not self._reopening.done():
            return

        def reopen() -> None:
            self._reads = connect(self.url, read_only=True, application="hotline-reads")

        self._reopening = asyncio.get_running_loop().run_in_executor(None, reopen)
        self._reopening.add_done_callback(lambda done: done.exception())  # a failure shows at the next read

    async def close(self) -> None:
        if self._closed:
            return
        while self._running is not None or self._batch:
            if self._running is None:
                self._send()
            if self._running is not None:
                with contextlib.suppress(Exception):
                    await asyncio.shield(self._running)
                await asyncio.sleep(0)  # let the done callback settle the group
        self._closed = True
        if self._renewal is not None:
            self._renewal.cancel()
        self._thread.shutdown(wait=True)
        self._conn.close()
        if self._reads is not None:
            self._reads.close()


def _synchronous_standbys(conn: psycopg.Connection[Any]) -> str:
    row = conn.execute("SELECT current_setting('synchronous_standby_names')").fetchone()
    return str(row[0]) if row else ""


def _nothing(_db: Any) -> None:
    """A group with nothing to write: it checks the lease, and keeps the session from idling."""


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
