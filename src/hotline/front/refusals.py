"""What the node turned away at its front door, counted by cause and logged once per cause.

An attack is thousands of refusals a second: a log line (or a traceback) for each would fill the
disk and hide everything else. So the first refusal of a cause is logged at once, and after it
at most one line per cause every ``LOG_EVERY`` seconds, with how many there were since; the
totals are ``hotline_front_refusals_total{cause}`` on ``/metrics``, for whoever is paged.

``in_use`` holds what is taken now (sessions, event streams, connections), read by ``/metrics``
at each scrape, so that an operator sees a bound filling before it refuses anyone.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Mapping

import structlog

log = structlog.get_logger("hotline.front")
LOG_EVERY = 60.0  # seconds between two lines about one cause


class Refusals:
    def __init__(self, clock: Callable[[], float] = time.monotonic, every: float = LOG_EVERY) -> None:
        self._clock = clock
        self._every = every
        self._totals: Counter[str] = Counter()
        self._unlogged: Counter[str] = Counter()
        self._logged_at: dict[str, float] = {}
        self.in_use: dict[str, Callable[[], int]] = {}

    def note(self, cause: str, why: str) -> None:
        """One refusal for ``cause`` (a short name: ``header-timeout``); ``why`` says in words
        what was refused and which bound it met, for the log line."""
        self._totals[cause] += 1
        self._unlogged[cause] += 1
        now = self._clock()
        last = self._logged_at.get(cause)
        if last is None or now - last >= self._every:
            count, self._unlogged[cause] = self._unlogged[cause], 0
            self._logged_at[cause] = now
            log.warning("refused", cause=cause, why=why, count=count, total=self._totals[cause])

    def totals(self) -> Mapping[str, int]:
        return dict(self._totals)

    def taken(self) -> Mapping[str, int]:
        return {name: read() for name, read in self.in_use.items()}
