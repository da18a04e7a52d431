"""Alarms about the channel itself: the list, and a supervisor closing a latched one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from hotline.console import pages
from hotline.console.guards import CheckedForm, SignedIn, permitted
from hotline.console.i18n import words
from hotline.console.paging import PageError, Paging, page_number
from hotline.console.rendering import not_understood, page
from hotline.console.roles import Action
from hotline.console.sessions import Session
from hotline.console.state import Console, ConsoleState
from hotline.errors import AlarmError, NotFoundError

router = APIRouter()
AlarmCloser = Annotated[Session, Depends(permitted(Action.CLOSE_ALARM, "close alarms"))]


@router.get("/alarms")
async def alarms_page(request: Request, state: Console, session: SignedIn, page: str | None = None) -> Response:
    try:
        at = page_number(page, words(session.lang).gettext)
    except PageError as exc:
        return not_understood(state, request, session, str(exc))
    return await show_alarms(state, request, session, None, at=at)


async def show_alarms(
    state: ConsoleState, request: Request, session: Session, error: str | None, status: int = 200, at: int = 1
) -> Response:
    rows = state.desk.page_rows
    facts = await pages.alarms(state.desk, session.lang, (at - 1) * rows)
    paging = Paging(at, rows, facts["history_count"], "/alarms")
    context = {**facts, "error": error, "paging": paging}
    return page(state, request, session, "alarms.html", context, status=status)


@router.post("/alarms/{number}/close")
async def close_alarm(
    request: Request, number: int, state: Console, form: CheckedForm, session: AlarmCloser
) -> Response:
    """A supervisor closes a latched alarm after looking into it; the remark is kept."""
    remark = str(form.get("remark", "")).strip()
    address = request.client.host if request.client else None
    try:
        await state.desk.close_alarm(number, session.user, remark, session.role.value, address)
    except (AlarmError, NotFoundError) as exc:
        return await show_alarms(state, request, session, str(exc), status=409)
    return RedirectResponse("/alarms", status_code=303)
