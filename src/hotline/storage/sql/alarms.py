"""Latched alarms in SQLite (what they promise: ``hotline.storage.alarms``)."""

from __future__ import annotations

import json
from typing import Any

from hotline.errors import AlarmError, NotFoundError
from hotline.storage.alarms import StoredAlarm
from hotline.storage.records import Page
from hotline.storage.sql.db import Db

_COLUMNS = "id, kind, peer, subject, level, facts, raised_ms, last_ms, count, closed_ms, closed_by, remark"


def _alarm(row: tuple[Any, ...]) -> StoredAlarm:
    return StoredAlarm(row[0], row[1], row[2], row[3], row[4], json.loads(row[5]), *row[6:])


def raise_alarm(
    conn: Db,
    kind: str,
    peer: str | None,
    subject: str | None,
    level: str,
    facts: dict[str, Any],
    at_ms: int,
) -> StoredAlarm:
    """Open an alarm, or count one more sighting on the open alarm with the same cause."""
    row = conn.execute(
        "SELECT id FROM alarms WHERE kind=? AND peer IS NOT DISTINCT FROM ? AND subject IS NOT DISTINCT FROM ? "
        "AND closed_ms IS NULL",
        (kind, peer, subject),
    ).fetchone()
    if row is None:
        number = conn.execute(
            "INSERT INTO alarms (kind, peer, subject, level, facts, raised_ms, last_ms, count)"
            " VALUES (?,?,?,?,?,?,?,1) RETURNING id",
            (kind, peer, subject, level, json.dumps(facts, sort_keys=True), at_ms, at_ms),
        ).fetchone()[0]
    else:
        number = row[0]
        conn.execute("UPDATE alarms SET count = count + 1, last_ms=? WHERE id=?", (at_ms, number))
    found = conn.execute(f"SELECT {_COLUMNS} FROM alarms WHERE id=?", (number,)).fetchone()
    return _alarm(found)


def open_alarms(conn: Db) -> list[StoredAlarm]:
    rows = conn.execute(f"SELECT {_COLUMNS} FROM alarms WHERE closed_ms IS NULL ORDER BY id").fetchall()
    return [_alarm(row) for row in rows]


def alarm_history(conn: Db, limit: int) -> list[StoredAlarm]:
    """Every latched alarm, open or closed, newest first."""
    rows = conn.execute(f"SELECT {_COLUMNS} FROM alarms ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
    return [_alarm(row) for row in rows]


def closed_alarms(conn: Db, offset: int, limit: int) -> Page[StoredAlarm]:
    """Latched alarms a supervisor closed, newest first, a page at a time."""
    (total,) = conn.execute("SELECT count(*) FROM alarms WHERE closed_ms IS NOT NULL").fetchone()
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM alarms WHERE closed_ms IS NOT NULL ORDER BY id DESC LIMIT ? OFFSET ?", (limit, offset)
    ).fetchall()
    return Page([_alarm(row) for row in rows], total, offset)


def close_alarm(conn: Db, number: int, by: str, remark: str, at_ms: int) -> StoredAlarm:
    row = conn.execute(f"SELECT {_COLUMNS} FROM alarms WHERE id=?", (number,)).fetchone()
    if row is None:
        raise NotFoundError(f"no alarm number {number} is on record")
    alarm = _alarm(row)
    if alarm.closed_ms is not None:
        raise AlarmError(f"alarm {number} was already closed by {alarm.closed_by}")
    conn.execute("UPDATE alarms SET closed_ms=?, closed_by=?, remark=? WHERE id=?", (at_ms, by, remark, number))
    return _alarm(conn.execute(f"SELECT {_COLUMNS} FROM alarms WHERE id=?", (number,)).fetchone())
