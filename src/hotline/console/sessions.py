"""Signed-in sessions: random identifiers held in memory, each with its own CSRF token.

Pure apart from the random numbers: the caller passes the time. A session ends at the first of
its lifetime (a watch and its handover), its idle limit, or sign-out. A node restart signs
everyone out; the audit trail, which is stored, keeps who was signed in.

Bounded: at most ``most`` sessions (``[bounds] console_sessions``) are open; a sign-in beyond
that signs out the longest idle one, and ``sweep`` (run periodically by the console) ends the
expired ones whether or not anyone asks for them again, so that sessions left behind by
browsers that never came back do not pile up in memory.

The identifier is created at sign-in and never before, so a session identifier planted in a
browser before sign-in (session fixation) is never the one that becomes signed in.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

from hotline.console.roles import Role


@dataclass
class Session:
    id: str
    csrf: str  # sent back with every form; compared in constant time
    user: str
    role: Role
    lang: str
    created_ms: int
    seen_ms: int
    changed: str | None = None  # the account's password or role as of the sign-in (its stamp)

    def csrf_matches(self, token: str | None) -> bool:
        return token is not None and hmac.compare_digest(token.encode(), self.csrf.encode())


class Sessions:
    def __init__(self, lifetime_s: float, idle_s: float, most: int = 256) -> None:
        self.lifetime_ms = int(lifetime_s * 1000)
        self.idle_ms = int(idle_s * 1000)
        self.most = most
        self._open: dict[str, Session] = {}

    def make_room(self, now_ms: int) -> list[Session]:
        """Room for one more session: the expired end, then the longest idle are signed out
        while the bound is reached; those signed out (for the audit trail)."""
        if len(self._open) >= self.most:
            self.sweep(now_ms)
        evicted = []
        while len(self._open) >= self.most:
            idlest = min(self._open.values(), key=lambda s: s.seen_ms)
            evicted.append(self._open.pop(idlest.id))
        return evicted

    def open(self, user: str, role: Role, lang: str, now_ms: int, changed: str | None = None) -> Session:
        """A new session (call ``make_room`` first to learn whom it signs out)."""
        self.make_room(now_ms)
        ids = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        session = Session(*ids, user, role, lang, now_ms, now_ms, changed)
        self._open[session.id] = session
        return session

    def sweep(self, now_ms: int) -> int:
        """End every expired session; how many there were."""
        expired = [s.id for s in self._open.values() if self.expired(s, now_ms)]
        for session_id in expired:
            del self._open[session_id]
        return len(expired)

    def find(self, session_id: str | None, now_ms: int) -> Session | None:
        """The live session with this identifier, marked as seen now; None if there is none."""
        if not session_id:
            return None
        session = self._open.get(session_id)
        if session is None:
            return None
        if self.expired(session, now_ms):
            del self._open[session_id]
            return None
        session.seen_ms = now_ms
        return session

    def expired(self, session: Session, now_ms: int) -> bool:
        return now_ms - session.created_ms >= self.lifetime_ms or now_ms - session.seen_ms >= self.idle_ms

    def close(self, session_id: str) -> None:
        self._open.pop(session_id, None)

    def __len__(self) -> int:
        return len(self._open)
