"""What the node keeps: the outbox, the co-signed transcript, the declarations signed into it
(the *Transparency* page), and the console's audit trail."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from hotline.console import pages, transparency
from hotline.console.guards import SignedIn, permitted
from hotline.console.i18n import words
from hotline.console.paging import PageError, Paging, page_number
from hotline.console.rendering import not_understood, page
from hotline.console.roles import Action
from hotline.console.sessions import Session
from hotline.console.state import Console, ConsoleState

router = APIRouter()
AuditReader = Annotated[Session, Depends(permitted(Action.READ_AUDIT, "read the audit trail"))]


@router.get("/outbox")
async def outbox_page(
    request: Request, state: Console, session: SignedIn, sent: str | None = None, page: str | None = None
) -> Response:
    return await show_outbox(state, request, session, "outbox.html", page, sent)


@router.get("/outbox/live")
async def outbox_live(request: Request, state: Console, session: SignedIn, page: str | None = None) -> Response:
    return await show_outbox(state, request, session, "outbox_live.html", page)


async def show_outbox(
    state: ConsoleState, request: Request, session: Session, template: str, number: str | None, sent: str | None = None
) -> Response:
    """Our messages, a page at a time, newest first."""
    try:
        at = page_number(number, words(session.lang).gettext)
    except PageError as exc:
        return not_understood(state, request, session, str(exc))
    rows_per_page = state.desk.page_rows
    rows, total = await pages.outbox(state.desk, session.lang, (at - 1) * rows_per_page)
    context = {"rows": rows, "sent": sent, "paging": Paging(at, rows_per_page, total, "/outbox")}
    return page(state, request, session, template, {**context, "now_ms": state.desk.now_ms()})


@router.get("/transcript")
async def transcript_page(request: Request, state: Console, session: SignedIn) -> Response:
    desk = state.desk
    latest = await desk.latest_checkpoint()
    context = {
        "origin": desk.transcript_origin,
        "latest": latest,
        "equivocations": await desk.equivocations(),
        "peers": [peer.party for peer in desk.peers()],
    }
    return page(state, request, session, "transcript.html", context)


@router.get("/transparency")
async def transparency_page(request: Request, state: Console, session: SignedIn) -> Response:
    declared, unreadable = await state.desk.declarations()
    shown = {**transparency.context(declared, state.desk.party, session.lang), "unreadable": unreadable}
    return page(state, request, session, "transparency.html", shown)


@router.get("/audit")
async def audit_page(request: Request, state: Console, session: AuditReader) -> Response:
    return page(state, request, session, "audit.html", {"entries": await state.desk.audit_trail(500)})
