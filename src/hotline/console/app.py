"""The console: server-rendered pages, one live stream, and the forms that act.

Mounted beside the operator API (``hotline.server``), under ``/``: the same process, the same
event loop as the peer links, so nothing here may block; the slow parts (Argon2id, writing
evidence) run in threads. Every page is rendered on the server and works without script; the
script (``static/console.js``) only redraws the live parts when the event stream says they
changed, counts deadlines down and sounds the alarm.

This module only assembles the console: what the routes share is ``state.ConsoleState``, how
they are guarded is ``guards``, and the routes themselves are in ``routes/``, one router for
each part of the work.
"""

from __future__ import annotations

from importlib import resources

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from hotline.console.guards import handle_refusals
from hotline.console.rendering import template_environment
from hotline.console.routes import accounts, alarms, board, compose, messages, records, signin
from hotline.console.state import ConsoleBounds, ConsoleState
from hotline.front import Refusals
from hotline.node import Desk


def create_console(desk: Desk, bounds: ConsoleBounds, refusals: Refusals) -> FastAPI:
    """The console; its state (``ConsoleState``) is ``.state.console``, whose ``sweep_sessions``
    the caller runs beside it."""
    console = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    console.state.console = ConsoleState.of(desk, template_environment(), bounds, refusals)
    static = resources.files("hotline.console").joinpath("static")
    console.mount("/static", StaticFiles(directory=str(static)), name="static")
    handle_refusals(console)
    for part in (signin, board, alarms, messages, compose, records, accounts):
        console.include_router(part.router)

    @console.get("/favicon.ico")
    async def favicon() -> RedirectResponse:  # what a browser asks for before it reads the page
        return RedirectResponse("/static/favicon.svg", status_code=301)

    return console
