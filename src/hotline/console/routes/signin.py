"""Signing in and out, and the language a person reads the console in."""

from __future__ import annotations

import asyncio
import datetime as dt
import math
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from hotline.console.accounts import Account, AccountError, unlocked_ms
from hotline.console.guards import CheckedForm, ForbiddenError, SignedIn, checked_form
from hotline.console.i18n import words
from hotline.console.rendering import page, reader_language
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
from hotline.console.throttle import Key, Refusal
from hotline.errors import StoreError

router = APIRouter()
_EARLY = "a sign-in tried again sooner than its delay after wrong passwords (or beside another)"


@router.get("/", include_in_schema=False)
async def home() -> Response:
    return RedirectResponse("/board", status_code=303)


@router.get("/signin")
async def signin_page(request: Request, state: Console, next: str = "/board") -> Response:
    return await signin_form(state, request, next, None, "")


@router.get("/signin/alarm")
async def signin_alarm(request: Request, state: Console) -> Response:
    """Whether a FLASH awaits acknowledgement, for a board that is signed out (after its session
    ended, or before anyone signed in): how many, from whom, and the nearest deadline; nothing
    of what they say. The sign-in page asks every few seconds and sounds the alarm."""
    lang = reader_language(request, state.desk.language)
    return page(state, request, None, "signin_alarm.html", await state.alarm_strips.get(lang))


async def signin_form(
    state: ConsoleState, request: Request, target: str, error: str | None, name: str, status: int = 200
) -> Response:
    token = new_signin_token()
    lang = reader_language(request, state.desk.language)
    try:
        alarm = await state.alarm_strips.get(lang)
    except StoreError:  # the store failing must not also keep everyone from signing in
        alarm = {}
    context = {**alarm, "token": token, "next": safe_target(target), "error": error, "name": name}
    response = page(state, request, None, "signin.html", context, status=status)
    set_signin_cookie(response, request, state.signin_cookie, token)
    return response


@router.post("/signin")
async def signin(request: Request, state: Console) -> Response:
    """Sign in: the form's token, then the throttle (before any password is hashed), then the
    password. A refused or wrong try answers at once; nothing waits on the server's side."""
    form = await request.form()
    name = str(form.get("name", "")).strip().lower()
    password = str(form.get("password", ""))
    target = safe_target(str(form.get("next", "/board")))
    _ = words(state.desk.language).gettext
    if not signin_token_matches(request, state.signin_cookie, _text(form.get(CSRF_FIELD))):
        error = _("The sign-in form had expired or was not this console's. Sign in again.")
        return await signin_form(state, request, target, error, name, 403)
    keys: tuple[Key, ...] = (("account", name), ("address", request.client.host if request.client else "-"))
    known = await asyncio.to_thread(state.accounts.accounts)
    await _lift_unlocked(state, request, known.get(name))
    if name in known and known[name].locked is not None:
        await state.audit(request, None, name, "sign-in-failed", detail="the account is locked")
        error = _("The account {name} is locked. An administrator can unlock it (hotline user unlock).")
        return await signin_form(state, request, target, error.format(name=name), name, 403)
    refusal = state.throttle.begin(keys, state.desk.now_ms())
    if refusal is not None:
        cause, why = ("signin-locked", "a sign-in during a lockout") if refusal.locked else ("signin-delay", _EARLY)
        state.refusals.note(cause, why)
        return await _throttled(state, request, target, name, refusal)
    try:
        account = await state.hashing.run(state.accounts.verify, name, password)
    except BaseException:
        state.throttle.release(keys)
        raise
    if account is None:
        return await _wrong_password(state, request, target, name, keys, name in known)
    state.throttle.succeeded(keys)
    # A new session, whatever cookie the browser came with: a planted identifier stays
    # signed out (session fixation), and an older session of this browser is closed.
    old = request.cookies.get(state.cookie)
    replaced = state.sessions.close(old) if old else None
    now = state.desk.now_ms()
    evicted = state.sessions.make_room(now)  # and at once, with nothing awaited between, the new one
    session = state.sessions.open(account.name, account.role, account.lang, now, account.changed)
    await state.keep_sessions([session], evicted + ([replaced] if replaced else []))
    for evicted_session in evicted:
        most = state.sessions.most
        state.refusals.note("console-sessions", f"{most} console sessions open: the longest idle was signed out")
        detail = f"signed out: {most} sessions were open, the console's bound, and this one was the longest idle"
        await state.audit(request, evicted_session, evicted_session.user, "sign-out", detail=detail)
    await state.audit(request, session, account.name, "sign-in")
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(response, request, state.cookie, session.id)
    harden(response)
    return response


async def _lift_unlocked(state: ConsoleState, request: Request, account: Account | None) -> None:
    """``hotline user unlock`` writes when it lifted the account's lock into the accounts file;
    the throttle forgets the account's failures before that moment."""
    lifted = unlocked_ms(account) if account else None
    if account and lifted is not None and state.throttle.forget(("account", account.name), lifted):
        await state.audit(request, None, account.name, "sign-in-unlocked", detail="hotline user unlock")


async def _wrong_password(
    state: ConsoleState, request: Request, target: str, name: str, keys: tuple[Key, ...], known: bool
) -> Response:
    _ = words(state.desk.language).gettext
    now = state.desk.now_ms()
    locked = state.throttle.failed(keys, now)
    # Not what was typed under an unknown name: it may be a password typed in the wrong box.
    shown = name if known else "(unknown name)"
    await state.audit(request, None, shown, "sign-in-failed")
    for kind, value in locked:
        limit = state.throttle.lockout_after
        why = f"{limit} wrong passwords in a row for one {kind}: locked for {state.throttle.lockout_ms // 1000} s"
        state.refusals.note("signin-lockout", why)
        detail = f"{limit} wrong passwords in a row {'for this name' if kind == 'account' else 'from ' + value}"
        await state.audit(request, None, shown, "sign-in-locked", detail=detail)
    if locked:
        return await _throttled(state, request, target, name, Refusal(locked[0], now + state.throttle.lockout_ms, True))
    return await signin_form(state, request, target, _("Wrong name or password."), name, 401)


async def _throttled(state: ConsoleState, request: Request, target: str, name: str, refusal: Refusal) -> Response:
    """Refused before the password was checked: how long to wait, or until when it is locked."""
    _ = words(state.desk.language).gettext
    wait_s = max(1, math.ceil((refusal.until_ms - state.desk.now_ms()) / 1000))
    if refusal.locked:
        until = dt.datetime.fromtimestamp(math.ceil(refusal.until_ms / 1000), dt.UTC).strftime("%H:%M:%S")
        # Only an account's lock can be lifted by hand: an address's ends by itself (or with a
        # restart), and saying otherwise would send the administrator to a command that, behind
        # an SSH tunnel where every browser is 127.0.0.1, changes nothing for the watch floor.
        if refusal.key[0] == "account":
            error = _("Too many wrong passwords: signing in under this name is locked until {time} UTC.")
            lift = _("An administrator can lift the lock with “hotline user unlock”.")
        else:
            error = _("Too many wrong passwords: signing in from this address is locked until {time} UTC.")
            lift = _("The lock on an address ends by itself at that time, or when the node is restarted.")
        error = error.format(time=until) + " " + lift
    else:
        error = _("Too many wrong passwords: wait {seconds} s, then try again.").format(seconds=wait_s)
    response = await signin_form(state, request, target, error, name, 429)
    response.headers["Retry-After"] = str(wait_s)
    return response


@router.post("/signout", dependencies=[Depends(checked_form)])
async def signout(request: Request, state: Console, session: SignedIn) -> Response:
    state.sessions.close(session.id)
    await state.keep_sessions([], [session])
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
    await state.keep_sessions([session], [])
    await state.audit(request, session, session.user, "language", detail=lang)
    return RedirectResponse(safe_target(str(form.get("next", "/board"))), status_code=303)


def safe_target(target: str) -> str:
    """Where to go after signing in: a path of this console only, never another site."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/board"
    return target


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None
