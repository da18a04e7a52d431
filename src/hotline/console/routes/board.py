"""The watch board, its live parts, and the event stream that says when to redraw them."""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from hotline.console.guards import SignedIn
from hotline.console.i18n import words
from hotline.console.paging import PageError, Paging, page_number
from hotline.console.rendering import not_understood, page
from hotline.console.sessions import Session
from hotline.console.state import Console, ConsoleState

STREAM_PING = 15.0  # seconds between keep-alive comments on the event stream
REFUSED_RETRY = 30  # seconds before a browser whose stream was refused at the bound tries again

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
    stream for good at an error status, and the page would go on showing a frozen board. Past
    the bound on streams (``[bounds] event_streams_per_session``, ``event_streams``) it answers
    one ``refused`` event that tells the browser to try again in ``REFUSED_RETRY`` seconds: an
    error status would make the page's script try again every 2 s, from every tab."""
    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    session = state.session_of(request)
    if session is None:
        gone = "retry: 2000\nevent: signed-out\ndata: {}\n\n"
        return Response(gone, media_type="text/event-stream", headers=headers)
    bound = state.streams.enter(session.id)
    if bound is not None:
        most = state.streams.per_session if bound == "per-session" else state.streams.total
        where = "for one session" if bound == "per-session" else "in all"
        state.refusals.note(f"event-streams-{bound}", f"more than {most} event streams {where}")
        refused = json.dumps({"bound": bound, "most": most})
        text = f"retry: {REFUSED_RETRY * 1000}\nevent: refused\ndata: {refused}\n\n"
        return Response(text, media_type="text/event-stream", headers=headers)
    return _CountedStream(state, session.id, _stream(state, request, session), headers)


class _CountedStream(StreamingResponse):
    """A stream that gives its place back however it ends (even before its first byte)."""

    def __init__(self, state: ConsoleState, session_id: str, body: AsyncIterator[str], headers: dict[str, str]) -> None:
        super().__init__(body, media_type="text/event-stream", headers=headers)
        self.release = functools.partial(state.streams.leave, session_id)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.release()


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
