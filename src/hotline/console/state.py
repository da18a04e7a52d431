"""What every route of the console shares: the desk, the templates, the open sessions, the
accounts, the sign-in throttle, the cookie names, and the board's facts built once for all the
consoles that ask at the same time.

One small record, built once by ``create_console`` and kept on the app's state; a route reaches
it through the ``console`` dependency (``Console`` in a signature), never through a closure.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from jinja2 import Environment

from hotline.console import pages
from hotline.console.accounts import AccountBook
from hotline.console.hashing import Hashing
from hotline.console.security import session_cookie, signin_cookie
from hotline.console.sessions import Session, Sessions
from hotline.console.shared import Shared
from hotline.console.streams import StreamQuota
from hotline.console.throttle import SigninThrottle
from hotline.front import Refusals
from hotline.node import Desk
from hotline.storage import AuditEntry


@dataclass(frozen=True)
class ConsoleBounds:
    """The console's share of ``[bounds]``."""

    sessions: int = 256
    event_streams: int = 64
    event_streams_per_session: int = 4


@dataclass(frozen=True)
class ConsoleState:
    desk: Desk
    templates: Environment
    sessions: Sessions
    accounts: AccountBook
    hashing: Hashing  # Argon2id, one try at a time at the lowest priority (hashing.py says why)
    cookie: str  # the session cookie's name (per node: see ``security.session_cookie``)
    signin_cookie: str
    throttle: SigninThrottle  # wrong passwords, per account and per address
    streams: StreamQuota  # open event streams, per session and in all
    refusals: Refusals  # what was refused at a bound, for /metrics and the log
    boards: Shared[tuple[str, int], dict[str, Any]]  # the board's facts, by language and first row
    alarm_strips: Shared[str, dict[str, Any]]  # the alarm every other page shows, by language

    @classmethod
    def of(cls, desk: Desk, templates: Environment, bounds: ConsoleBounds, refusals: Refusals) -> ConsoleState:
        settings = desk.console_settings
        state = cls(
            desk=desk,
            templates=templates,
            sessions=Sessions(settings.session_lifetime, settings.session_idle, bounds.sessions),
            accounts=AccountBook(desk.directory, desk.shared_store),
            hashing=Hashing(),
            cookie=session_cookie(desk.party),
            signin_cookie=signin_cookie(desk.party),
            throttle=SigninThrottle(
                settings.signin_free_failures, settings.signin_lockout_after, settings.signin_lockout
            ),
            streams=StreamQuota(bounds.event_streams, bounds.event_streams_per_session),
            refusals=refusals,
            boards=Shared(lambda key: pages.board(desk, *key)),
            alarm_strips=Shared(lambda lang: pages.alarm(desk, lang)),
        )
        refusals.in_use["console_sessions"] = state.sessions.__len__
        refusals.in_use["event_streams"] = state.streams.__len__
        return state

    async def sweep_sessions(self) -> None:
        """End expired sessions every few seconds, for as long as the console runs: a session
        nobody returns to is otherwise kept until the node stops."""
        every = min(60.0, self.desk.console_settings.session_idle / 3)
        while True:
            await asyncio.sleep(every)
            self.sessions.sweep(self.desk.now_ms())

    def session_of(self, request: Request) -> Session | None:
        """The live session the request's cookie names, if any (marked as seen now)."""
        return self.sessions.find(request.cookies.get(self.cookie), self.desk.now_ms())

    async def audit(
        self, request: Request, session: Session | None, user: str, action: str, **what: str | None
    ) -> None:
        address = request.client.host if request.client else None
        role = session.role.value if session else None
        await self.desk.record_audit(AuditEntry(self.desk.now_ms(), user, role, action, address=address, **what))


# Every dependency of the console is a coroutine: FastAPI runs a plain function in a worker
# thread, and the sessions, the desk and the clock belong to the event loop.
async def console(request: Request) -> ConsoleState:
    state: ConsoleState = request.app.state.console
    return state


Console = Annotated[ConsoleState, Depends(console)]
