"""How many live event streams the console holds: at most ``per_session`` for one session and
``total`` in all (``[bounds] event_streams_per_session`` and ``event_streams``).

Each open stream holds a connection, a file handle and a subscription the node posts to on every
change; 2,000 were once opened on one session. A board needs one stream; a person with the
board, a message and the compose page open in three tabs needs three.
"""

from __future__ import annotations

from collections import Counter


class StreamQuota:
    def __init__(self, total: int, per_session: int) -> None:
        self.total = total
        self.per_session = per_session
        self._open: Counter[str] = Counter()

    def enter(self, session_id: str) -> str | None:
        """Take a stream for the session; None if taken, else which bound refused it
        (``per-session`` or ``total``)."""
        if self._open[session_id] >= self.per_session:
            return "per-session"
        if sum(self._open.values()) >= self.total:
            return "total"
        self._open[session_id] += 1
        return None

    def leave(self, session_id: str) -> None:
        self._open[session_id] -= 1
        if self._open[session_id] <= 0:
            del self._open[session_id]

    def __len__(self) -> int:
        return sum(self._open.values())
