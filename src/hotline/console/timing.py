"""Times in a message that have already passed when it is sent: a warning, not an error.

A notification of a launch window that began an hour ago may be a mistake (the wrong day, local
time typed as UTC) or a late notice given on purpose; the officer decides, after being told.
Pure: the body as prepared (canonical: times as RFC 3339 text) and the time now.
"""

from __future__ import annotations

import datetime as dt
from typing import Any


def past_windows(body: dict[str, Any], now_ms: int) -> list[tuple[str, int]]:
    """Each time window (a map with ``start`` and ``end``) that began before ``now_ms``: its
    field's path and its start, in the body's order."""
    found: list[tuple[str, int]] = []

    def walk(value: Any, path: str) -> None:
        if isinstance(value, dict):
            start = _moment(value.get("start")) if "end" in value else None
            if start is not None and start < now_ms:
                found.append((path, start))
            for key, inner in value.items():
                walk(inner, f"{path}.{key}" if path else str(key))
        elif isinstance(value, list):
            for n, inner in enumerate(value):
                walk(inner, f"{path}.{n}")

    walk(body, "")
    return found


def _moment(value: Any) -> int | None:
    if not isinstance(value, str):
        return None
    try:
        return int(dt.datetime.fromisoformat(value).timestamp() * 1000)
    except ValueError:
        return None
