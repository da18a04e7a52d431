"""Messages read back for operators and the API: outbox and inbox rows, found by number or id."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from hotline.envelope import Precedence, serial
from hotline.errors import NotFoundError
from hotline.storage.records import (
    MACHINE_KINDS,
    Acknowledgement,
    AwaitingAck,
    InboxRow,
    LoggedMessage,
    MessageFilter,
    OutboxRow,
    Page,
    ReplyTarget,
    SignedMessage,
)
from hotline.storage.sql.db import Db

# A receipt is read with its transcript entry, which the Merkle tree protects: a stored copy
# that differs from it (or has none) is damaged, and is not served as proof of anything.
_RECEIPT_DAMAGED = "(r.obj IS NOT NULL AND (rt.obj IS NULL OR rt.obj != r.obj))"
_OUTBOX_COLUMNS = (
    "num, o.peer, ref, precedence, marking, o.kind, body, created_ms, seq, env_id, state, sent_ms, "
    "delivered_ms, rejected_ms, envelope, r.obj, rejection, kind_version, reply_to, due_ms, "
    f"acked_by, acked_ms, ack_remark, ack_auto, ack_received_ms, {_RECEIPT_DAMAGED}, o.ack_rank, o.broadcast"
)
_OUTBOX_FROM = "outbox o LEFT JOIN receipts r ON r.id = o.receipt_id LEFT JOIN transcript rt ON rt.idx = r.log_index"
_INBOX_COLUMNS = (
    "i.peer, seq, num, env_id, precedence, marking, i.kind, body, sent_ms, received_ms, envelope, r.obj, "
    f"kind_version, reply_to, due_ms, acked_by, acked_ms, ack_remark, ack_auto, ack_num, {_RECEIPT_DAMAGED}, "
    "i.ack_rank"
)
INBOX_FROM = "inbox i JOIN receipts r ON r.id = i.receipt_id LEFT JOIN transcript rt ON rt.idx = r.log_index"


def _ack(
    by: str | None, at_ms: int | None, remark: str | None, auto: int | None, rank: str | None
) -> Acknowledgement | None:
    return None if by is None or at_ms is None else Acknowledgement(by, at_ms, remark, bool(auto), rank)


def ack_columns(ack: Acknowledgement | None) -> tuple[Any, ...]:
    """The five acknowledgement columns (by, at, remark, auto, rank) as stored."""
    if ack is None:
        return (None, None, None, None, None)
    return (ack.by, ack.at_ms, ack.remark, int(ack.auto), ack.rank)


def _outbox_row(r: tuple[Any, ...]) -> OutboxRow:
    row = OutboxRow(*(*r[:20], _ack(r[20], r[21], r[22], r[23], r[26]), r[24]))
    return replace(row, receipt_damaged=bool(r[25]), broadcast=r[27]) if r[25] or r[27] is not None else row


def _inbox_row(r: tuple[Any, ...]) -> InboxRow:
    row = InboxRow(*(*r[:15], _ack(r[15], r[16], r[17], r[18], r[21]), r[19]))
    return replace(row, receipt_damaged=True) if r[20] else row


def outbox(conn: Db, limit: int, where: str = "", args: tuple[Any, ...] = (), offset: int = 0) -> list[OutboxRow]:
    rows = conn.execute(
        f"SELECT {_OUTBOX_COLUMNS} FROM {_OUTBOX_FROM} {where} ORDER BY num DESC LIMIT ? OFFSET ?",
        (*args, limit, offset),
    ).fetchall()
    return [_outbox_row(r) for r in rows]


def inbox(conn: Db, limit: int) -> list[InboxRow]:
    rows = conn.execute(
        f"SELECT {_INBOX_COLUMNS} FROM {INBOX_FROM} ORDER BY received_ms DESC, i.peer, seq DESC LIMIT ?", (limit,)
    ).fetchall()
    return [_inbox_row(r) for r in rows]


def find_outbox(conn: Db, numbers: list[int]) -> list[OutboxRow]:
    found: dict[int, OutboxRow] = {}
    for start in range(0, len(numbers), 500):  # SQLite caps the number of bound parameters
        chunk = numbers[start : start + 500]
        marks = ",".join("?" * len(chunk))
        found |= {row.number: row for row in outbox(conn, len(chunk), f"WHERE num IN ({marks})", tuple(chunk))}
    return [found[n] for n in numbers if n in found]


def find_sent(conn: Db, number: int | None, envelope_id: bytes | None) -> OutboxRow | None:
    where, arg = ("WHERE num=?", number) if envelope_id is None else ("WHERE env_id=?", envelope_id)
    found = outbox(conn, 1, where, (arg,))
    return found[0] if found else None


def find_received(conn: Db, peer: str | None, number: int | None, envelope_id: bytes | None) -> InboxRow | None:
    if envelope_id is not None:
        row = conn.execute(f"SELECT {_INBOX_COLUMNS} FROM {INBOX_FROM} WHERE env_id=?", (envelope_id,)).fetchone()
    else:
        # The peer's message number is its serial. A second message under a serial already
        # held is refused when it arrives, but a store from before that rule may hold two:
        # then the serial names neither, and the error says which ids to use instead.
        rows = conn.execute(
            f"SELECT {_INBOX_COLUMNS} FROM {INBOX_FROM} WHERE i.peer=? AND num=? ORDER BY received_ms, seq",
            (peer, number),
        ).fetchall()
        if len(rows) > 1:
            ids = ", ".join(bytes(r[3]).hex() for r in rows)
            raise NotFoundError(
                f"{serial(peer or '?', number or 0)} names {len(rows)} different messages here; name one by id: {ids}"
            )
        row = rows[0] if rows else None
    return None if row is None else _inbox_row(row)


def replies(conn: Db, envelope_id: bytes) -> tuple[list[OutboxRow], list[InboxRow]]:
    sent = outbox(conn, 100, "WHERE reply_to=?", (envelope_id,))
    received = conn.execute(
        f"SELECT {_INBOX_COLUMNS} FROM {INBOX_FROM} WHERE reply_to=? ORDER BY received_ms LIMIT 100", (envelope_id,)
    ).fetchall()
    return sent, [_inbox_row(r) for r in received]


def last_link_test(conn: Db, peer: str) -> OutboxRow | None:
    found = outbox(conn, 1, "WHERE o.peer=? AND o.kind='link_test'", (peer,))
    return found[0] if found else None


def reply_targets(conn: Db, ids: list[bytes]) -> dict[bytes, ReplyTarget]:
    """The messages, sent or received, that ``ids`` name (those we hold)."""
    found: dict[bytes, ReplyTarget] = {}
    for start in range(0, len(ids), 500):  # SQLite caps the number of bound parameters
        chunk = ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        for sent, table in ((True, "outbox"), (False, "inbox")):
            rows = conn.execute(f"SELECT env_id, peer, kind FROM {table} WHERE env_id IN ({marks})", chunk)
            found |= {bytes(env_id): ReplyTarget(sent, peer, kind) for env_id, peer, kind in rows}
    return found


# -- pages for people: each bounded, with the count of what matched ---------------------------
# These run on the node's reading thread (``hotline.node.reader``), never on the loop that
# carries the links; still, each returns at most ``limit`` rows, so that what a page costs does
# not grow with the backlog beyond SQLite's own counting and sorting.

_PEOPLES = f"kind NOT IN ({','.join(repr(k) for k in MACHINE_KINDS)})"


# A message to several parties is one entry: its first copy, which carries the others.
_ENTRIES = "(o.broadcast IS NULL OR o.broadcast = o.num)"


def outbox_page(conn: Db, offset: int, limit: int) -> Page[OutboxRow]:
    """Our messages people wrote, newest first (acknowledgements and link tests are shown with
    what they answer); a message to several parties is one entry, with every copy."""
    (total,) = conn.execute(f"SELECT count(*) FROM outbox o WHERE o.{_PEOPLES} AND {_ENTRIES}").fetchone()
    return Page(with_copies(conn, outbox(conn, limit, f"WHERE o.{_PEOPLES} AND {_ENTRIES}", (), offset)), total, offset)


def outbox_entries(conn: Db, limit: int) -> list[OutboxRow]:
    """The newest ``limit`` entries of the outbox, a message to several parties as one."""
    return with_copies(conn, outbox(conn, limit, f"WHERE {_ENTRIES}"))


def with_copies(conn: Db, rows: list[OutboxRow]) -> list[OutboxRow]:
    """Each first copy of a message to several parties, with the other copies (party order)."""
    firsts = [row.number for row in rows if row.broadcast == row.number]
    copies: dict[int, list[OutboxRow]] = {}
    for start in range(0, len(firsts), 500):  # SQLite caps the number of bound parameters
        chunk = firsts[start : start + 500]
        marks = ",".join("?" * len(chunk))
        where = f"WHERE o.broadcast IN ({marks}) AND o.num != o.broadcast"
        for copy in outbox(conn, 1_000_000, where, tuple(chunk)):
            copies.setdefault(copy.broadcast or 0, []).append(copy)
    return [
        replace(row, copies=tuple(sorted(copies.get(row.number, []), key=lambda c: c.peer)))
        if row.broadcast == row.number
        else row
        for row in rows
    ]


def broadcast_copies(conn: Db, first: int) -> list[OutboxRow]:
    """Every copy of the message to several parties whose first copy is ``first``, in party order."""
    return sorted(outbox(conn, 1_000_000, "WHERE o.broadcast=?", (first,)), key=lambda c: c.peer)


def _urgency(chased_as_flash: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
    """An SQL expression for a message's effective rank (0: FLASH), and its arguments."""
    ranks = " ".join(f"WHEN '{p.value}' THEN {p.rank}" for p in Precedence)
    marks = ",".join("?" * len(chased_as_flash)) or "NULL"
    return f"CASE WHEN kind IN ({marks}) THEN 0 ELSE CASE precedence {ranks} END END", chased_as_flash


def awaiting_received(
    conn: Db, chased_as_flash: tuple[str, ...], flash_only: bool, offset: int, limit: int
) -> Page[AwaitingAck]:
    """Received messages a person here has yet to acknowledge, most urgent first (effective
    precedence, then the earliest deadline). ``chased_as_flash``: kinds whose deadline is a
    FLASH's whatever their precedence (the watch's rule; readiness checks)."""
    urgency, args = _urgency(chased_as_flash)
    where = "due_ms IS NOT NULL AND acked_ms IS NULL" + (f" AND {urgency} = 0" if flash_only else "")
    (total,) = conn.execute(f"SELECT count(*) FROM inbox WHERE {where}", args if flash_only else ()).fetchone()
    rows = conn.execute(
        f"SELECT peer, peer, num, precedence, kind, received_ms, due_ms FROM inbox WHERE {where} "
        f"ORDER BY {urgency}, due_ms, peer, num LIMIT ? OFFSET ?",
        (*(args if flash_only else ()), *args, limit, offset),
    ).fetchall()
    return Page([AwaitingAck(True, *r) for r in rows], total, offset)


def _log_where(found: MessageFilter, peer: str, at: str) -> tuple[str, list[Any]]:
    clauses: list[str] = ["kind = ?" if found.kind else _PEOPLES]
    args: list[Any] = [found.kind] if found.kind else []
    checks: tuple[tuple[str, str | int | None], ...] = (
        (f"{peer} = ?", found.peer),
        ("precedence = ?", found.precedence),
        (f"{at} >= ?", found.since_ms),
        (f"{at} < ?", found.until_ms),
    )
    for clause, value in checks:
        if value is not None:
            clauses.append(clause)
            args.append(value)
    return "WHERE " + " AND ".join(clauses), args


def message_log(conn: Db, party: str, found: MessageFilter, offset: int, limit: int) -> Page[LoggedMessage]:
    """Every message sent and received that ``found`` asks for, newest first: ours by the time
    they were queued, the peers' by the time they arrived."""
    parts: list[str] = []
    args: list[Any] = []
    if found.sent in (None, True):
        where, more = _log_where(found, "peer", "created_ms")
        parts.append(
            "SELECT 1, peer, ?, num, precedence, kind, kind_version, created_ms, "
            "CASE WHEN acked_ms IS NULL THEN state ELSE 'acknowledged' END, due_ms, acked_by, acked_ms, ack_rank "
            f"FROM outbox {where}"
        )
        args += [party, *more]
    if found.sent in (None, False):
        where, more = _log_where(found, "peer", "received_ms")
        parts.append(
            "SELECT 0, peer, peer, num, precedence, kind, kind_version, received_ms, 'received', due_ms, acked_by, "
            f"acked_ms, ack_rank FROM inbox {where}"
        )
        args += more
    union = " UNION ALL ".join(parts)
    (total,) = conn.execute(f"SELECT count(*) FROM ({union}) AS found", args).fetchone()
    rows = conn.execute(f"{union} ORDER BY 8 DESC, 1 DESC, 4 DESC LIMIT ? OFFSET ?", (*args, limit, offset))
    return Page([LoggedMessage(bool(r[0]), *r[1:]) for r in rows], total, offset)


def queue_depths(conn: Db) -> dict[str, int]:
    """Per peer, our messages not yet receipted or rejected (``outbox.queue_depth`` for all)."""
    rows = conn.execute(
        "SELECT peer, count(*) FROM outbox WHERE receipt_id IS NULL AND rejection IS NULL GROUP BY peer"
    ).fetchall()
    return {peer: int(count) for peer, count in rows}


def oldest_awaiting(conn: Db) -> dict[str, int]:
    """When the oldest message still awaiting a person's acknowledgement started, per side:
    ``receiver`` (a peer's, to acknowledge here) and ``sender`` (ours, awaited from the peer)."""
    (received,) = conn.execute("SELECT min(received_ms) FROM inbox WHERE due_ms IS NOT NULL AND acked_ms IS NULL")
    (sent,) = conn.execute(
        "SELECT min(created_ms) FROM outbox WHERE due_ms IS NOT NULL AND acked_ms IS NULL AND rejection IS NULL"
    )
    return {side: int(at[0]) for side, at in (("receiver", received), ("sender", sent)) if at[0] is not None}


# The kinds the record of declarations reads, written as the partial indexes of migration 13
# are (a bound parameter would not let SQLite use them).
_DECLARATION_KINDS = "kind IN ('arsenal_declaration', 'clarification_request')"


def declaration_messages(conn: Db, party: str) -> list[SignedMessage]:
    """Every signed declaration and clarification request, ours (``party``) and the peers'; not
    ours that the peer rejected (it never took them)."""
    rows = conn.execute(
        "SELECT ?, num, env_id, kind, kind_version, body, signed_ms, log_index, reply_to, peer FROM outbox "
        f"WHERE {_DECLARATION_KINDS} AND seq IS NOT NULL AND rejection IS NULL "
        "UNION ALL SELECT peer, num, env_id, kind, kind_version, body, sent_ms, log_index, reply_to, ? FROM inbox "
        f"WHERE {_DECLARATION_KINDS}",
        (party, party),
    ).fetchall()
    found = []
    for r in rows:
        reply_to = None if r[8] is None else bytes(r[8])
        found.append(SignedMessage(r[0], r[1], bytes(r[2]), r[3], r[4], bytes(r[5]), r[6], r[7], reply_to, r[9]))
    return found
