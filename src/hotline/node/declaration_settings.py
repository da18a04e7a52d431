"""``[declarations]`` in config.toml: the rhythm of declarations agreed with each peer.

    [declarations]
    GENSTAB = { as_of = ["03-01", "09-01"], due_days = 45, since = "2027-03-01" }

Both parties declare their forces as of each date (month-day) every year, within ``due_days``
after it; ``since`` is the first as-of date the agreement covers (left out: from when the peer
was paired). The node then watches both directions (``watch/declaring.py``).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from hotline.watch.declaring import Schedule

MONTH_DAY = re.compile(r"^(\d{2})-(\d{2})$")
MAX_DUE_DAYS = 366


def declaration_schedules(raw: dict[str, Any]) -> dict[str, Schedule]:
    schedules = {}
    for party, table in dict(raw.get("declarations", {})).items():
        if not isinstance(table, dict):
            raise TypeError(f'[declarations] {party} must be a table: {{ as_of = ["03-01", "09-01"] }}')
        unknown = set(table) - {"as_of", "due_days", "since"}
        if unknown:
            raise ValueError(f"[declarations] {party} has an unknown setting {min(unknown)!r}")
        schedules[str(party)] = Schedule(_as_of(party, table.get("as_of")), _due(party, table), _since(party, table))
    return schedules


def _as_of(party: str, value: object) -> tuple[tuple[int, int], ...]:
    if not (isinstance(value, list) and value):
        raise ValueError(f'[declarations] {party}: as_of is a list of dates of the year, such as ["03-01", "09-01"]')
    found = []
    for item in value:
        match = MONTH_DAY.match(str(item))
        month, day = (int(match.group(1)), int(match.group(2))) if match else (0, 0)
        try:
            date(2024, month, day)  # a leap year: 02-29 is a date of the year
        except ValueError:
            raise ValueError(f'[declarations] {party}: {item!r} is not a month and day such as "03-01"') from None
        found.append((month, day))
    if len(set(found)) != len(found):
        raise ValueError(f"[declarations] {party}: as_of names a date twice")
    return tuple(sorted(found))


def _due(party: str, table: dict[str, Any]) -> int:
    due = table.get("due_days", 45)
    if not (isinstance(due, int) and not isinstance(due, bool) and 0 <= due <= MAX_DUE_DAYS):
        raise ValueError(f"[declarations] {party}: due_days is a whole number of days from 0 to {MAX_DUE_DAYS}")
    return due


def _since(party: str, table: dict[str, Any]) -> date | None:
    since = table.get("since")
    if since is None:
        return None
    try:
        return since if isinstance(since, date) else date.fromisoformat(str(since))
    except ValueError:
        raise ValueError(f'[declarations] {party}: since is a date such as "2027-03-01", not {since!r}') from None
