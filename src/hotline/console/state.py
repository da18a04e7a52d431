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
from hotline.console.security import session_cookie, signin_cookie
from hotline.console.sessions import Session, Sessions
from hotline.console.shared import Shared
from hotline.node import Desk
from hotline.storage import AuditEntry


@dataclass(frozen=True)
class ConsoleState:
    desk: Desk
    templates: Environment
    sessions: Sessions
    accounts: AccountBook
    hashing: asyncio.Semaphore  # Argon2id takes 64 MiB and ~50 ms: a flood of sign-ins waits here
    cookie: str  # the session cookie's name (per node: see ``security.session_cookie``)
    signin_cookie: str
    boards: Shared[tuple[str, int], dict[str, Any]]  # the board's facts, by language and first row
    alarm_strips: Shared[str, dict[str, Any]]  # the alarm every other page shows, by language

    @classmethod
    def of(cls, desk: Desk, templates: Environment) -> ConsoleState:
        settings = desk.console_settings
        return cls(
            desk=desk,
            templates=templates,
            sessions=Sessions(settings.session_lifetime, settings.session_idle),
            accounts=AccountBook(desk.directory),
            hashing=asyncio.Semaphore(2),
            cookie=session_cookie(desk.party),
            signin_cookie=signin_cookie(desk.party),
            boards=Shared(lambda key: pages.board(desk, *key)),
            alarm_strips=Shared(lambda lang: pages.alarm(desk, lang)),
        )

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
