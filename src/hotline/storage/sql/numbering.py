"""Where numbering stands: the sequence numbers of each channel, and our message numbers (serials).

A number given is never given again. Both kinds continue from the highest given, or from where
a person resumed them after a restore from an older copy (``hotline peer catch-up``: the peer
already holds the numbers below), whichever is higher.
"""

from __future__ import annotations

from hotline.storage.records import ChannelState
from hotline.storage.sql.db import Db

# The higher of what is stored and what is offered (SQLite's scalar max() is not PostgreSQL's).
_HIGHER = "CASE WHEN numbering.{0} > excluded.{0} THEN numbering.{0} ELSE excluded.{0} END"


def channel_state(conn: Db, peer: str, tail: int) -> ChannelState:
    (last_out,) = conn.execute("SELECT max(seq) FROM outbox WHERE peer=?", (peer,)).fetchone()
    # A person may have resumed numbering where the peer said it stands (after a restore).
    (floor_out,) = conn.execute("SELECT send_next FROM numbering WHERE peer=?", (peer,)).fetchone() or (1,)
    return ChannelState(send_next=max((last_out or 0) + 1, floor_out), recv_used=used_numbers(conn, peer, tail))


def used_numbers(conn: Db, peer: str, tail: int) -> tuple[int, ...]:
    """The ``tail`` highest sequence numbers the peer has used up, ascending. A number is used
    once it is stored, or refused and used up. The receiver knows how many it needs (it never
    accepts a number too far beyond the lowest it lacks, so every missing one lies near the
    top): only those rows are read, by two index scans from the top."""
    stored = conn.execute("SELECT seq FROM inbox WHERE peer=? ORDER BY seq DESC LIMIT ?", (peer, tail)).fetchall()
    refused = conn.execute(
        "SELECT seq FROM refused WHERE peer=? AND consumed=1 AND seq IS NOT NULL ORDER BY seq DESC LIMIT ?",
        (peer, tail),
    ).fetchall()
    used = sorted({seq for (seq,) in stored} | {seq for (seq,) in refused})
    return tuple(used[max(0, len(used) - tail) :])


def next_number(conn: Db) -> int:
    """The message number (serial) the next message queued gets."""
    (highest,) = conn.execute("SELECT max(num) FROM outbox").fetchone()
    (floor,) = conn.execute("SELECT max(number_next) FROM numbering").fetchone()
    return max((highest or 0) + 1, floor or 1)


def resume_numbering(
    conn: Db, peer: str, send_next: int, number_next: int, at_ms: int, by: str, remark: str | None
) -> None:
    conn.execute(
        "INSERT INTO numbering (peer, send_next, number_next, at_ms, by, remark) VALUES (?,?,?,?,?,?) "
        "ON CONFLICT (peer) DO UPDATE SET send_next=" + _HIGHER.format("send_next") + ", "
        "number_next=" + _HIGHER.format("number_next") + ", at_ms=excluded.at_ms, by=excluded.by, "
        "remark=excluded.remark",
        (peer, send_next, number_next, at_ms, by, remark),
    )


def skip_held_serials(conn: Db, peer: str, held: int, at_ms: int) -> int | None:
    """Give no serial the peer already holds (``held`` and below): after a restore our store
    may not know them. Returns the first serial given from now on if it had to move, else None.
    Unlike sequence numbers, skipped serials lose nothing, so no person need decide it."""
    if held + 1 <= next_number(conn):
        return None
    conn.execute(
        "INSERT INTO numbering (peer, send_next, number_next, at_ms, by, remark) VALUES (?,1,?,?,?,?) "
        "ON CONFLICT (peer) DO UPDATE SET number_next=" + _HIGHER.format("number_next"),
        (peer, held + 1, at_ms, "(node)", "serials the peer already holds are not given again"),
    )
    return held + 1
