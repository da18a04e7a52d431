"""Signed-in sessions: random identifiers, each with its own CSRF token, kept across restarts.

Pure apart from the random numbers: the caller passes the time, and keeps in the store what
``open``, ``close``, ``sweep`` and ``used`` say changed (``state.ConsoleState`` does). A
session ends at the first of its lifetime (a watch and its handover), its idle limit, or
sign-out. A restart does not end it: a watch floor whose node restarts stays signed in.

The store holds only the SHA-256 of each identifier (its ``key``): whoever reads the store, or a
backup of it, cannot sign in with what they find there. The CSRF token is derived from the
identifier the same one-way, so a session brought back from the store has its token again as
soon as its browser shows its cookie.

Bounded: at most ``most`` sessions (``[bounds] console_sessions``) are open; a sign-in beyond
that signs out the longest idle one, and ``sweep`` (run periodically by the console) ends the
expired ones whether or not anyone asks for them again, so that sessions left behind by
browsers that never came back do not pile up.

The identifier is created at sign-in and never before, so a session identifier planted in a
browser before sign-in (session fixation) is never the one that becomes signed in.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from hotline.console.roles import Role
from hotline.storage import StoredSession


def session_key(session_id: str) -> str:
    """What the store keeps of an identifier: its SHA-256."""
    return hashlib.sha256(b"hotline console session\0" + session_id.encode()).hexdigest()


def csrf_token(session_id: str) -> str:
    """The session's CSRF token: tied to the identifier, and telling nothing of it."""
    return hashlib.sha256(b"hotline console csrf\0" + session_id.encode()).hexdigest()


@dataclass
class Session:
    key: str  # session_key(id)
    user: str
    role: Role
    lang: str
    created_ms: int
    seen_ms: int
    changed: str | None = None  # the account's password or role as of the sign-in (its stamp)
    id: str = ""  # the identifier, once its browser has shown it (a session from the store has none before)
    saved_ms: int = 0  # the seen_ms the store holds

    @property
    def csrf(self) -> str:  # sent back with every form; compared in constant time
        return csrf_token(self.id) if self.id else ""

    def csrf_matches(self, token: str | None) -> bool:
        return bool(self.id) and token is not None and hmac.compare_digest(token.encode(), self.csrf.encode())

    def stored(self) -> StoredSession:
        return StoredSession(
            self.key, self.user, self.role.value, self.lang, self.created_ms, self.seen_ms, self.changed
        )

    @classmethod
    def of(cls, stored: StoredSession) -> Session:
        return cls(stored.key, stored.user, Role(stored.role), stored.lang, stored.created_ms, stored.seen_ms,
                   stored.changed, saved_ms=stored.seen_ms)  # fmt: skip


class Sessions:
    def __init__(self, lifetime_s: float, idle_s: float, most: int = 256) -> None:
        self.lifetime_ms = int(lifetime_s * 1000)
        self.idle_ms = int(idle_s * 1000)
        self.most = most
        self._open: dict[str, Session] = {}  # by key

    def restore(self, stored: list[StoredSession], now_ms: int) -> list[str]:
        """Take back the sessions the store kept (at most ``most``, the latest used); the keys
        of those that ended meanwhile, for the store to forget."""
        ended = []
        for record in sorted(stored, key=lambda r: r.seen_ms, reverse=True):
            try:
                session = Session.of(record)
            except ValueError:  # a role this program does not know: not signed in
                ended.append(record.key)
                continue
            if self.expired(session, now_ms) or len(self._open) >= self.most:
                ended.append(record.key)
            else:
                self._open[session.key] = session
        return ended

    def make_room(self, now_ms: int) -> list[Session]:
        """Room for one more session: the expired end, then the longest idle are signed out
        while the bound is reached; those signed out (for the audit trail and the store)."""
        evicted = self.sweep(now_ms) if len(self._open) >= self.most else []
        while len(self._open) >= self.most:
            idlest = min(self._open.values(), key=lambda s: s.seen_ms)
            evicted.append(self._open.pop(idlest.key))
        return evicted

    def open(self, user: str, role: Role, lang: str, now_ms: int, changed: str | None = None) -> Session:
        """A new session. Call ``make_room`` just before, with nothing awaited between, to learn
        whom it signs out: this never signs anyone out itself."""
        session_id = secrets.token_urlsafe(32)
        session = Session(session_key(session_id), user, role, lang, now_ms, now_ms, changed, session_id, now_ms)
        self._open[session.key] = session
        return session

    def sweep(self, now_ms: int) -> list[Session]:
        """End every expired session; those ended."""
        expired = [s for s in self._open.values() if self.expired(s, now_ms)]
        for session in expired:
            del self._open[session.key]
        return expired

    def used(self) -> list[tuple[Session, StoredSession]]:
        """Sessions used since the store last had them, each with what to keep of it now."""
        return [(s, s.stored()) for s in self._open.values() if s.seen_ms != s.saved_ms]

    def saved(self, kept: list[tuple[Session, StoredSession]]) -> None:
        """The store has these, as they were when ``used`` named them."""
        for session, stored in kept:
            session.saved_ms = stored.seen_ms

    def find(self, session_id: str | None, now_ms: int) -> Session | None:
        """The live session with this identifier, marked as seen now; None if there is none."""
        if not session_id:
            return None
        key = session_key(session_id)
        session = self._open.get(key)
        if session is None:
            return None
        if self.expired(session, now_ms):
            return None  # the next sweep ends it, here and in the store
        session.id = session_id
        session.seen_ms = now_ms
        return session

    def expired(self, session: Session, now_ms: int) -> bool:
        return now_ms - session.created_ms >= self.lifetime_ms or now_ms - session.seen_ms >= self.idle_ms

    def close(self, session_id: str) -> Session | None:
        """End the session with this identifier, if it is open; the session ended."""
        return self._open.pop(session_key(session_id), None)

    def __len__(self) -> int:
        return len(self._open)
