"""Signing in and out, and the language a person reads the console in."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from hotline.console.accounts import AccountError
from hotline.console.guards import CheckedForm, ForbiddenError, SignedIn, checked_form
from hotline.console.i18n import words
from hotline.console.rendering import page
from hotline.console.security import (
    CSRF_FIELD,
    clear_session_cookie,
    harden,
    new_signin_token,
    set_session_cookie,
    set_signin_cookie,
    signin_token_matches,
)
from hotline.console.state import Console, ConsoleState

router = APIRouter()


@router.get("/", include_in_schema=False)
async def home() -> Response:
    return RedirectResponse("/board", status_code=303)


@router.get("/signin")
async def signin_page(request: Request, state: Console, next: str = "/board") -> Response:
    return signin_form(state, request, next, None, "")


def signin_form(
    state: ConsoleState, request: Request, target: str, error: str | None, name: str, status: int = 200
) -> Response:
    token = new_signin_token()
    context = {"token": token, "next": safe_target(target), "error": error, "name": name}
    response = page(state, request, None, "signin.html", context, status=status)
    set_signin_cookie(response, request, state.signin_cookie, token)
    return response


@router.post("/signin")
async def signin(request: Request, state: Console) -> Response:
    form = await request.form()
    name = str(form.get("name", "")).strip().lower()
    password = str(form.get("password", ""))
    target = safe_target(str(form.get("next", "/board")))
    _ = words(state.desk.language).gettext
    if not signin_token_matches(request, state.signin_cookie, _text(form.get(CSRF_FIELD))):
        error = _("The sign-in form had expired or was not this console's. Sign in again.")
        return signin_form(state, request, target, error, name, 403)
    async with state.hashing:
        account = await asyncio.to_thread(state.accounts.verify, name, password)
    if account is None:
        # Not what was typed under an unknown name: it may be a password typed in the wrong box.
        known = name in await asyncio.to_thread(state.accounts.accounts)
        await state.audit(request, None, name if known else "(unknown name)", "sign-in-failed")
        return signin_form(state, request, target, _("Wrong name or password."), name, 401)
    # A new session, whatever cookie the browser came with: a planted identifier stays
    # signed out (session fixation), and an older session of this browser is closed.
    old = request.cookies.get(state.cookie)
    if old:
        state.sessions.close(old)
    session = state.sessions.open(account.name, account.role, account.lang, state.desk.now_ms())
    await state.audit(request, session, account.name, "sign-in")
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(response, request, state.cookie, session.id)
    harden(response)
    return response


@router.post("/signout", dependencies=[Depends(checked_form)])
async def signout(request: Request, state: Console, session: SignedIn) -> Response:
    state.sessions.close(session.id)
    await state.audit(request, session, session.user, "sign-out")
    response = RedirectResponse("/signin", status_code=303)
    clear_session_cookie(response, request, state.cookie)
    harden(response)
    return response


@router.post("/language")
async def language(request: Request, state: Console, session: SignedIn, form: CheckedForm) -> Response:
    lang = str(form.get("lang", ""))
    try:
        await asyncio.to_thread(state.accounts.set_language, session.user, lang)
    except AccountError as exc:
        raise ForbiddenError(str(exc)) from None
    session.lang = lang
    await state.audit(request, session, session.user, "language", detail=lang)
    return RedirectResponse(safe_target(str(form.get("next", "/board"))), status_code=303)


def safe_target(target: str) -> str:
    """Where to go after signing in: a path of this console only, never another site."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/board"
    return target


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None
