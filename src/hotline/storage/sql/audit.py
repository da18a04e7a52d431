"""The console's audit trail in SQLite (what it promises: ``hotline.storage.audit``)."""

from __future__ import annotations

from hotline.storage.audit import AuditEntry
from hotline.storage.sql.db import Db

_COLUMNS = 'at_ms, "user", role, action, target, detail, address'  # "user": a reserved word in PostgreSQL


def record_audit(conn: Db, entry: AuditEntry) -> None:
    conn.execute(
        f"INSERT INTO console_audit ({_COLUMNS}) VALUES (?,?,?,?,?,?,?)",
        (entry.at_ms, entry.user, entry.role, entry.action, entry.target, entry.detail, entry.address),
    )


def audit_trail(conn: Db, limit: int) -> list[AuditEntry]:
    rows = conn.execute(f"SELECT {_COLUMNS} FROM console_audit ORDER BY id DESC LIMIT ?", (limit,))
    return [AuditEntry(*row) for row in rows]
