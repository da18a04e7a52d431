"""Which node of the party is active: a lease held in the shared database, fenced by an epoch.

Two things together, because each alone fails (KAFKA-6082, que-go's double runs):

* **The lease** is a session-level advisory lock, held by the very session that does every
  write. While a node's session lives, no other node can take it. The server ends a session
  that stays idle longer than ``IDLE_LIMIT_MS`` (``idle_session_timeout``, and
  ``idle_in_transaction_session_timeout`` for one frozen inside a transaction), so a node that
  hangs (SIGSTOP, a frozen virtual machine, a cut cable) loses the lease within that bound; a
  node that dies loses it at once, when its connection closes. The active node therefore
  renews, by running a group at least every ``RENEW_EVERY_S`` even when it has nothing to write.
  The timeouts do not apply to a session the server is waiting on in the middle of a
  statement (a node frozen while it sends a pipeline): a standby that asks for the lease ends
  such a session once it has been silent past ``SILENT_HOLDER_MS`` (``end_silent_holder``).
* **The epoch** is a row raised by one at every takeover, and every write transaction first
  reads it ``FOR SHARE`` and checks it is still its own. A node that lost its lease without
  noticing (it was frozen) can therefore write nothing when it wakes: its transaction finds
  another epoch and rolls back. Taking the lease raises the epoch with ``UPDATE``, which waits
  for any transaction still holding the row, so no write of the old epoch commits after the
  new one began. Advisory locks do not survive a database failover; the epoch, a replicated
  row, does, and the nodes take the lease again on the new primary under a higher epoch.

The epoch travels in the session hello, so a peer can refuse a node that speaks for the party
under an epoch older than one it has already seen.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg

from hotline.errors import StoreError
from hotline.storage.postgres.connection import connect

LEASE_LOCK = 0x6C656173  # 'leas': the advisory lock the active node's writing session holds
IDLE_LIMIT_MS = 2000  # a session silent this long is ended by the server: the lease is free
RENEW_EVERY_S = 0.5  # the active node runs a group at least this often (a quarter of the limit)
# A session holding the lease that the server has waited on this long, in the middle of a
# statement (``end_silent_holder``), is ended by the standby that asks for the lease.
SILENT_HOLDER_MS = IDLE_LIMIT_MS + 1000


class LeaseLostError(StoreError):
    """This node's epoch is no longer the lease's: another node took over."""


@dataclass(frozen=True)
class Lease:
    epoch: int
    holder: int | None  # the node number; None before any node was active
    since_ms: int


def limit_idleness(conn: psycopg.Connection[Any], idle_ms: int = IDLE_LIMIT_MS) -> None:
    """Have the server end this session once it is silent for ``idle_ms``: the lease it may
    hold is then free for another node."""
    conn.execute(f"SET idle_session_timeout = {int(idle_ms)}")
    conn.execute(f"SET idle_in_transaction_session_timeout = {int(idle_ms)}")


def current(conn: psycopg.Connection[Any]) -> Lease:
    row = conn.execute("SELECT epoch, holder, since_ms FROM lease").fetchone()
    if row is None:
        raise StoreError("the store's lease row is missing: the database is damaged")
    return Lease(int(row[0]), row[1], int(row[2]))


def try_take(conn: psycopg.Connection[Any], node: int, now_ms: int) -> int | None:
    """Take the lease for ``node`` if no other session holds it; the new epoch, or None.

    The new epoch is one more than the last, or the time in milliseconds if that is more: a
    database restored from an older copy (or a replica that missed a takeover) must not hand
    out an epoch a peer has already seen, or the peer would refuse every link as stale."""
    row = conn.execute("SELECT pg_try_advisory_lock(%s)", (LEASE_LOCK,)).fetchone()
    if row is None or not row[0]:
        end_silent_holder(conn)  # the next try may find it free
        return None
    with conn.transaction():
        taken = conn.execute(
            "UPDATE lease SET epoch = GREATEST(epoch + 1, %s), holder = %s, since_ms = %s RETURNING epoch",
            (now_ms, node, now_ms),
        ).fetchone()
    assert taken is not None
    epoch = int(taken[0])
    conn.execute(f"SET hotline.epoch = '{epoch}'")  # what the transcript's entries record (schema 3)
    return epoch


def end_silent_holder(conn: psycopg.Connection[Any], silent_ms: int = SILENT_HOLDER_MS) -> int | None:
    """End the session holding the lease if the server has been waiting on its client for
    longer than ``silent_ms``; its process id, or None.

    The server's idle timeouts do not always end such a session. A node frozen while it sends
    a pipeline (psycopg's ``executemany``) leaves it "active", reading from the client, where no
    timeout applies; one frozen just after a pipeline inside a transaction was seen "idle in
    transaction" for minutes without its timeout firing (PostgreSQL 15, psycopg 3.3): either
    would hold the lease for as long as the node stays frozen. A healthy active node changes
    its session's state at every statement and renews every ``RENEW_EVERY_S``, so it is never
    this silent; if one ever were, ending it costs a takeover, never a fork: the epoch fences
    whatever it would write afterwards."""
    row = conn.execute(
        "SELECT a.pid FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
        " WHERE l.locktype = 'advisory' AND l.granted AND l.classid = 0 AND l.objid = %s"
        " AND a.pid <> pg_backend_pid() AND a.wait_event = 'ClientRead'"
        " AND a.state_change < clock_timestamp() - make_interval(secs => %s)",
        (LEASE_LOCK, silent_ms / 1000),
    ).fetchone()
    if row is None:
        return None
    conn.execute("SELECT pg_terminate_backend(%s)", (row[0],))
    return int(row[0])


def held_by(conn: psycopg.Connection[Any]) -> Lease | None:
    """The lease, if some node's session holds it now; None if it is free (taken and given back
    at once, to find out)."""
    row = conn.execute("SELECT pg_try_advisory_lock(%s)", (LEASE_LOCK,)).fetchone()
    if row is not None and row[0]:
        conn.execute("SELECT pg_advisory_unlock(%s)", (LEASE_LOCK,))
        return None
    return current(conn)


def check(conn: psycopg.Connection[Any], epoch: int) -> None:
    """Inside a write transaction, first: the lease is still ``epoch``'s, and stays so until
    the transaction ends (``FOR SHARE`` holds off the next takeover's ``UPDATE``)."""
    row = conn.execute("SELECT epoch, holder FROM lease FOR SHARE").fetchone()
    if row is None or int(row[0]) != epoch:
        found = "none" if row is None else f"epoch {row[0]}, node {row[1]}"
        raise LeaseLostError(
            f"this node's lease (epoch {epoch}) has passed to another node ({found}): it writes nothing more"
        )


def active_node(url: str) -> int | None:
    """Which node of the party holds the lease now (None: none does), from a session of its own."""
    conn = connect(url, application="hotline-tool")
    try:
        held = held_by(conn)
    except psycopg.Error as exc:
        raise StoreError(f"cannot read the lease ({exc})") from None
    finally:
        conn.close()
    return None if held is None else held.holder
