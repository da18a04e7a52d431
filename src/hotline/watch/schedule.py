"""The watch's own timetable: watch changes (UTC), at each of which a readiness check is sent."""

from __future__ import annotations

import datetime as dt
import re

_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
DAY_MS = 86_400_000


def parse_watch_changes(values: list[str]) -> tuple[int, ...]:
    """'06:00' style UTC times to minutes after midnight, sorted; refuses anything else."""
    minutes = set()
    for value in values:
        match = _HHMM.match(value) if isinstance(value, str) else None
        if match is None:
            raise ValueError(f"watch change {value!r} is not a UTC time HH:MM")
        minutes.add(int(match[1]) * 60 + int(match[2]))
    return tuple(sorted(minutes))


def next_watch_change(after_ms: int, changes: tuple[int, ...]) -> int | None:
    """The first watch change strictly after ``after_ms``, in ms since the epoch."""
    if not changes:
        return None
    midnight = after_ms - after_ms % DAY_MS
    for day in (0, 1):
        for minute in changes:
            at = midnight + day * DAY_MS + minute * 60_000
            if at > after_ms:
                return at
    raise AssertionError("unreachable: a later watch change always exists within a day")


def utc_label(at_ms: int) -> str:
    return dt.datetime.fromtimestamp(at_ms / 1000, dt.UTC).strftime("%Y-%m-%dT%H:%MZ")
