"""The rhythm of declarations: which scheduled ones are due and not sent, or not received.

By agreement with a peer, both parties declare their forces as of fixed dates each year (under
New START, as of 1 March and 1 September, within 45 days). Each node watches both directions: a
declaration of ours due and not sent is an alarm on our side, one of the peer's due and not
received is an alarm on our side too (and the same pair stands on the peer's node). Each calls
for the duty officer when it falls due, the supervisor a week later, the commander after a month.

Pure: the node gives the schedule, what has been declared, and the time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from hotline.watch.alarms import Alarm, Kind
from hotline.watch.escalation import Level

DAY_MS = 86_400_000
# (days after the due date, who is called)
STEPS = ((0, Level.DUTY_OFFICER), (7, Level.SUPERVISOR), (30, Level.COMMANDER))


@dataclass(frozen=True)
class Schedule:
    """A peer's agreed rhythm: the as-of dates of each year (month, day), the days allowed after
    each, and the first as-of date it applies from (None: from when the peer was paired)."""

    as_of: tuple[tuple[int, int], ...]
    due_days: int = 45
    since: date | None = None

    def dates(self, first: date, last: date) -> list[date]:
        """The scheduled as-of dates from ``first`` to ``last``, both included."""
        found = set()
        for year in range(first.year, last.year + 1):
            for month, day in self.as_of:
                when = _date(year, month, day)
                if first <= when <= last:
                    found.add(when)  # (02-28 and 02-29 are one date in a common year)
        return sorted(found)

    def last_day(self, as_of: date) -> date:
        """The last day on which the declaration as of ``as_of`` is in time (UTC)."""
        return as_of + timedelta(days=self.due_days)

    def due_ms(self, as_of: date) -> int:
        """When it is overdue: the end of its last day."""
        return _ms(self.last_day(as_of) + timedelta(days=1))


@dataclass(frozen=True)
class Expected:
    """A scheduled declaration not (yet) made: by us to ``peer`` (``ours``), or by ``peer``."""

    peer: str
    ours: bool
    as_of: date
    due_ms: int


def expected(
    peer: str, schedule: Schedule, paired: date, declared: Mapping[bool, Iterable[date]], now_ms: int
) -> list[Expected]:
    """The declarations the schedule asks for up to now that are not made: ``declared`` gives the
    as-of dates declared, ours (True) and the peer's (False)."""
    today = _day(now_ms)
    # Nothing is owed through the channel that fell due before the peer was paired, whatever
    # the agreement's first date says; one still in time when it was paired is owed.
    first = max(schedule.since or paired, paired - timedelta(days=schedule.due_days))
    found = []
    for ours in (True, False):
        made = set(declared.get(ours, ()))
        found += [Expected(peer, ours, d, schedule.due_ms(d)) for d in schedule.dates(first, today) if d not in made]
    return found


def next_as_of_ms(schedule: Schedule, now_ms: int) -> int:
    """When the next scheduled as-of date begins (the list of what is expected grows then)."""
    today = _day(now_ms)
    upcoming = schedule.dates(today + timedelta(days=1), date(today.year + 1, 12, 31))
    return _ms(upcoming[0]) if upcoming else now_ms + 366 * DAY_MS


def overdue(expectations: Iterable[Expected], now_ms: int) -> list[Alarm]:
    """The alarms standing at ``now_ms``: one per declaration past its due time."""
    found = []
    for e in expectations:
        if now_ms < e.due_ms:
            continue
        level = max(level for days, level in STEPS if now_ms >= e.due_ms + days * DAY_MS)
        kind = Kind.DECLARATION_DUE if e.ours else Kind.DECLARATION_MISSING
        last_day = _day(e.due_ms - 1)
        facts = {"as_of": e.as_of.isoformat(), "due_ms": e.due_ms, "last_day": last_day.isoformat()}
        found.append(Alarm(kind, e.peer, e.as_of.isoformat(), level, e.due_ms, facts))
    return found


def thresholds(expectations: Iterable[Expected]) -> list[int]:
    """When an expectation's alarm rises or calls for someone higher."""
    return [e.due_ms + days * DAY_MS for e in expectations for days, _ in STEPS]


def _date(year: int, month: int, day: int) -> date:
    """The as-of date in ``year``; 29 February is the 28th in a common year."""
    try:
        return date(year, month, day)
    except ValueError:
        return date(year, month, 28)


def _day(ms: int) -> date:
    return datetime.fromtimestamp(ms / 1000, UTC).date()


def _ms(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)
