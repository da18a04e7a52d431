"""What the node keeps: the outbox, the co-signed transcript, and the console's audit trail."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from hotline.console import pages
from hotline.console.guards import SignedIn, permitted
from hotline.console.rendering import page
from hotline.console.roles import Action
from hotline.console.sessions import Session
from hotline.console.state import Console

router = APIRouter()
AuditReader = Annotated[Session, Depends(permitted(Action.READ_AUDIT, "read the audit trail"))]


@router.get("/outbox")
async def outbox_page(request: Request, state: Console, session: SignedIn, sent: str | None = None) -> Response:
    rows = await pages.outbox(state.desk, session.lang)
    return page(state, request, session, "outbox.html", {"rows": rows, "sent": sent, "now_ms": state.desk.now_ms()})


@router.get("/outbox/live")
async def outbox_live(request: Request, state: Console, session: SignedIn) -> Response:
    rows = await pages.outbox(state.desk, session.lang)
    return page(state, request, session, "outbox_live.html", {"rows": rows, "now_ms": state.desk.now_ms()})


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


@router.get("/audit")
async def audit_page(request: Request, state: Console, session: AuditReader) -> Response:
    return page(state, request, session, "audit.html", {"entries": await state.desk.audit_trail(500)})
