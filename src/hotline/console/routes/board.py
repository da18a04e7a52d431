"""The watch board, its live parts, and the event stream that says when to redraw them."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from hotline.console.guards import SignedIn
from hotline.console.i18n import words
from hotline.console.paging import PageError, Paging, page_number
from hotline.console.rendering import not_understood, page
from hotline.console.sessions import Session
from hotline.console.state import Console, ConsoleState

STREAM_PING = 15.0  # seconds between keep-alive comments on the event stream

router = APIRouter()


async def board_as(
    state: ConsoleState, request: Request, session: Session, template: str, number: str | None
) -> Response:
    """The board, its awaiting list a page at a time; its facts are built once for every console
    that asks meanwhile (``ConsoleState.boards``), off the loop that carries the links."""
    try:
        at = page_number(number, words(session.lang).gettext)
    except PageError as exc:
        return not_understood(state, request, session, str(exc))
    rows = state.desk.page_rows
    facts = await state.boards.get((session.lang, (at - 1) * rows))
    paging = Paging(at, rows, facts["awaiting_count"], "/board")
    return page(state, request, session, template, {**facts, "paging": paging})


@router.get("/board")
async def board_page(request: Request, state: Console, session: SignedIn, page: str | None = None) -> Response:
    return await board_as(state, request, session, "board.html", page)


@router.get("/board/live")
async def board_live(request: Request, state: Console, session: SignedIn, page: str | None = None) -> Response:
    return await board_as(state, request, session, "board_live.html", page)


@router.get("/alarm/live")
async def alarm_live(request: Request, state: Console, session: SignedIn) -> Response:
    """The alarm alone, for every page but the board: a FLASH is heard wherever one is."""
    return page(state, request, session, "alarm_live.html", await state.alarm_strips.get(session.lang))


@router.get("/events")
async def events(request: Request, state: Console) -> Response:
    """The live stream: one event per batch of changes, naming the topics that changed.

    Signed out, it answers one ``signed-out`` event rather than 401: a browser gives up on a
    stream for good at an error status, and the page would go on showing a frozen board."""
    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    session = state.session_of(request)
    if session is None:
        gone = "retry: 2000\nevent: signed-out\ndata: {}\n\n"
        return Response(gone, media_type="text/event-stream", headers=headers)
    return StreamingResponse(_stream(state, request, session), media_type="text/event-stream", headers=headers)


async def _stream(state: ConsoleState, request: Request, session: Session) -> AsyncIterator[str]:
    desk = state.desk
    # Often enough to end the stream soon after its session does, and to keep proxies open.
    ping = min(STREAM_PING, desk.console_settings.session_idle / 3)
    with desk.subscribe() as subscription:
        yield "retry: 1000\n\n"
        while True:
            try:
                async with asyncio.timeout(ping):  # not wait_for, which may swallow a stop (3.11)
                    topics = await subscription.next()
            except TimeoutError:
                topics = set()
            if topics is None:
                return  # the node is stopping
            if state.sessions.find(session.id, desk.now_ms()) is None:  # an open board counts as presence
                yield "event: signed-out\ndata: {}\n\n"
                return
            if await request.is_disconnected():
                return
            yield f"data: {json.dumps(sorted(topics))}\n\n" if topics else ": ping\n\n"
