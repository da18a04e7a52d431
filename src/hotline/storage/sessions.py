"""The console's signed-in sessions, as the store keeps them across a restart.

Only what is needed to recognise a returning browser: the SHA-256 of its session identifier
(whoever reads the store cannot sign in with it), whose session it is, and when it began and
was last seen. Written when a session opens, ends, and (at most once a sweep) when it was used.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StoredSession:
    key: str  # hex SHA-256 of the session identifier
    user: str
    role: str
    lang: str
    created_ms: int
    seen_ms: int
    changed: str | None  # the account's stamp as of the sign-in (a later change ends the session)
