"""What every route of the console shares: the desk, the templates, the open sessions, the
accounts, the sign-in throttle, the cookie names, and the board's facts built once for all the
consoles that ask at the same time.

One small record, built once by ``create_console`` and kept on the app's state; a route reaches
it through the ``console`` dependency (``Console`` in a signature), never through a closure.
"""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass, field
from typing import Annotated, Any

import structlog
from fastapi import Depends, Request
from jinja2 import Environment

from hotline.console import pages
from hotline.console.accounts import Account, AccountBook
from hotline.console.hashing import Hashing
from hotline.console.security import session_cookie, signin_cookie
from hotline.console.sessions import Session, Sessions
from hotline.console.shared import Shared
from hotline.console.streams import StreamQuota
from hotline.console.throttle import SigninThrottle
from hotline.errors import StoreError
from hotline.front import Refusals
from hotline.node import Desk
from hotline.storage import AuditEntry

log = structlog.get_logger("hotline.console")


@dataclass
class KnownAccounts:
    """The accounts as last read. Every request checks its session's account, so a change made
    with ``hotline user ...`` takes effect at the very next request: the accounts file is read
    again whenever it changed (one stat a request); a party's shared database, which has no
    cheap stamp, at most ``FRESH_S`` after the last reading."""

    book: AccountBook
    read_at: float = -math.inf
    stamp: tuple[int, int, int] | None = None
    accounts: dict[str, Account] = field(default_factory=dict)

    FRESH_S = 1.0

    async def now(self) -> dict[str, Account]:
        stamp = self.book.stamp()
        fresh = time.monotonic() - self.read_at <= self.FRESH_S
        stale = stamp != self.stamp if stamp is not None else not fresh
        if stale:
            self.accounts = await asyncio.to_thread(self.book.accounts)
            self.read_at, self.stamp = time.monotonic(), stamp
        return self.accounts


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
    known: KnownAccounts  # the accounts as last read, for the check every request makes

    @classmethod
    def of(cls, desk: Desk, templates: Environment, bounds: ConsoleBounds, refusals: Refusals) -> ConsoleState:
        settings = desk.console_settings
        accounts = AccountBook(desk.directory, desk.shared_store)
        state = cls(
            desk=desk,
            templates=templates,
            sessions=Sessions(settings.session_lifetime, settings.session_idle, bounds.sessions),
            accounts=accounts,
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
            known=KnownAccounts(accounts),
        )
        refusals.in_use["console_sessions"] = state.sessions.__len__
        refusals.in_use["event_streams"] = state.streams.__len__
        return state

    async def restore_sessions(self) -> None:
        """Take back the sessions the store kept: a restart (or a takeover) signs nobody out."""
        try:
            stored = await self.desk.stored_sessions()
            ended = self.sessions.restore(stored, self.desk.now_ms())
            await self.desk.save_sessions([], ended, [])
        except StoreError as exc:  # the node itself reports a failing store; here, only who is signed out
            log.warning("could not read the console's sessions: everyone signs in again", error=str(exc))

    async def keep_sessions(self, opened: list[Session], ended: list[Session]) -> None:
        """Tell the store of sessions opened (or changed) and ended, before the console answers."""
        await self.desk.save_sessions([s.stored() for s in opened], [s.key for s in ended], [])

    async def sweep_sessions(self) -> None:
        """End expired sessions every few seconds, for as long as the console runs (a session
        nobody returns to is otherwise kept until it is next asked for), and keep when the
        others were last used: a restart then counts their idle time from there."""
        every = min(60.0, self.desk.console_settings.session_idle / 3)
        while True:
            await asyncio.sleep(every)
            ended = self.sessions.sweep(self.desk.now_ms())
            used = self.sessions.used()
            try:
                await self.desk.save_sessions([], [s.key for s in ended], [stored for _, stored in used])
            except StoreError as exc:  # tried again at the next sweep
                log.warning("could not keep the console's sessions", error=str(exc))
            else:
                self.sessions.saved(used)

    async def account_ended(self, session: Session) -> str | None:
        """Why the session's account no longer lets it act, if it does not: removed, locked, or
        its password or role changed since the sign-in (``hotline user ...``). Checked at every
        request, from the accounts as read at most a second ago."""
        account = (await self.known.now()).get(session.user)
        if account is None:
            return "the account was removed"
        if account.locked is not None:
            return "the account was locked"
        if account.changed != session.changed or account.role is not session.role:
            return "the account's password or role changed"
        return None

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
