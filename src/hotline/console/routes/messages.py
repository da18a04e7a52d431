"""The message log and its search; one message: its page, acknowledging it, and its evidence
to download."""

from __future__ import annotations

import asyncio
import io
import tempfile
import zipfile
from pathlib import Path
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from hotline.console import pages
from hotline.console.guards import CheckedForm, SignedIn, permitted, signed_in
from hotline.console.i18n import words
from hotline.console.paging import Paging
from hotline.console.rendering import page
from hotline.console.roles import Action
from hotline.console.search import FIELDS, read_search
from hotline.console.sessions import Session
from hotline.console.state import Console, ConsoleState
from hotline.envelope import Precedence, serial
from hotline.errors import AcknowledgeError, HotlineError, NotFoundError
from hotline.forms import FORMS
from hotline.node import SendError
from hotline.views import message_view

router = APIRouter()
Acknowledger = Annotated[Session, Depends(permitted(Action.ACKNOWLEDGE, "acknowledge messages"))]
Watcher = Annotated[Session, Depends(permitted(Action.WATCH, "download evidence"))]


@router.get("/messages")
async def message_log(request: Request, state: Console, session: SignedIn) -> Response:
    """Every message sent and received, newest first, a page at a time; searched by peer, form,
    precedence, direction and dates, all kept in the address. A search that asks for something
    that is none (an unknown peer, a date that is not one) is answered 400 with what was wrong."""
    desk = state.desk
    _ = words(session.lang).gettext
    peers = [peer.party for peer in desk.peers()]
    search, errors = read_search(request.query_params, peers, _)
    rows: list[dict[str, object]] = []
    total = 0
    if not errors:
        rows, total = await pages.message_log(desk, session.lang, search.found, (search.page - 1) * desk.page_rows)
    context = {
        "rows": rows,
        "values": search.values,
        "errors": errors,
        "paging": Paging(search.page, desk.page_rows, total, "/messages", {k: search.values[k] for k in FIELDS}),
        "peers": peers,
        "forms": sorted({(kind, pages.form_title(kind, v, session.lang)) for kind, v in FORMS}, key=_second),
        "precedences": [p.value for p in Precedence],
    }
    return page(state, request, session, "messages.html", context, status=400 if errors else 200)


def _second(pair: tuple[str, str]) -> str:
    return pair[1]


@router.get("/messages/{key}")
async def message_page(
    request: Request, key: str, state: Console, session: SignedIn, lang: str | None = None
) -> Response:
    return await show_message(state, request, session, key, lang)


async def show_message(
    state: ConsoleState,
    request: Request,
    session: Session,
    key: str,
    lang: str | None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    desk = state.desk
    reading = lang if lang in ("en", "ru") else session.lang
    found = await desk.find_message(key)
    view = message_view(found, desk.party, reading, desk.now_ms())
    context = {"m": view, "reading": reading, "other": "ru" if reading == "en" else "en", "error": error}
    return page(state, request, session, "message.html", context, status=status)


@router.post("/messages/{key}/ack")
async def acknowledge(request: Request, key: str, state: Console, form: CheckedForm, session: Acknowledger) -> Response:
    remark = str(form.get("remark", "")).strip() or None
    # Signed with the person's name and rank as the account gives them, not the login name.
    account = (await state.known.now()).get(session.user)
    by, rank = (account.signs_as, account.rank) if account else (session.user, None)
    try:
        row = await state.desk.acknowledge(key, by, remark, rank)
    except (AcknowledgeError, SendError) as exc:
        return await show_message(state, request, session, key, None, str(exc), status=409)
    name = serial(row.peer, row.number)
    await state.audit(request, session, session.user, "acknowledge", target=name, detail=remark)
    return RedirectResponse(f"/messages/{quote(name)}", status_code=303)


@router.get("/messages/{key}/evidence")
async def evidence(request: Request, key: str, state: Console, session: Watcher) -> Response:
    desk = state.desk
    found = await desk.find_message(key)
    row = found.sent or found.received
    assert row is not None
    name = serial(desk.party, found.sent.number) if found.sent else serial(row.peer, row.number)
    try:
        data = await asyncio.to_thread(_evidence_zip, desk.directory, name)
    except HotlineError as exc:
        raise NotFoundError(f"no evidence for {name} yet: {exc}") from None
    await state.audit(request, session, session.user, "evidence", target=name)
    headers = {"Content-Disposition": f'attachment; filename="evidence-{name}.zip"'}
    return Response(data, media_type="application/zip", headers=headers)


@router.get("/evidence", dependencies=[Depends(signed_in)])
async def evidence_for(message: str = "") -> Response:
    return RedirectResponse(f"/messages/{quote(message.strip(), safe='')}/evidence", status_code=303)


def _evidence_zip(directory: Path, name: str) -> bytes:
    from hotline.evidence import write_evidence

    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / f"evidence-{name}"
        write_evidence(directory, name, folder)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(folder.iterdir()):
                archive.write(path, f"evidence-{name}/{path.name}")
    return buffer.getvalue()
