"""What every route of the console shares: the desk, the templates, the open sessions, the
accounts, the sign-in throttle and the cookie names.

One small record, built once by ``create_console`` and kept on the app's state; a route reaches
it through the ``console`` dependency (``Console`` in a signature), never through a closure.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from jinja2 import Environment

from hotline.console.accounts import AccountBook
from hotline.console.security import session_cookie, signin_cookie
from hotline.console.sessions import Session, Sessions
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
