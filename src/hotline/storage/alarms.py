"""Latched alarms in the store: raised with their facts, counted while they stand, closed by a
person with a remark. Nothing is deleted; the evidence an alarm points to stays where it is.

A cause seen again while its alarm stands (a peer repeating the same claim a hundred times)
counts on the open alarm instead of raising another: the board shows one line, "seen 100 times".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class StoredAlarm:
    number: int
    kind: str
    peer: str | None
    subject: str | None
    level: str
    facts: dict[str, Any]
    raised_ms: int
    last_ms: int
    count: int
    closed_ms: int | None = None
    closed_by: str | None = None
    remark: str | None = None
