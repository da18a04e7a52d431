"""The console's guards, as dependencies, and what a refusal looks like.

A route names what it needs in its signature, and FastAPI checks it before the route runs:

- ``SignedIn``: a live session, else ``SignedOutError`` (a page sends the browser to sign in;
  anything else answers 401).
- ``CheckedForm``: the posted form, carrying the session's CSRF token, else ``ForbiddenError``.
- ``permitted(action, what)``: the session, if its role may do ``action``, else ``ForbiddenError``.

FastAPI resolves a route's dependencies in the order of its parameters, so a route that acts
lists ``CheckedForm`` before its role: a forged form is refused as forged, whoever sent it.
Each guard runs once a request; the session is found once and shared by the others. The guards
run before FastAPI checks the route's own path and query parameters, so a malformed one from a
browser that is signed out, or whose role may not act, is refused as such (not answered 422).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException as StarletteHTTPException

from hotline.console.i18n import words
from hotline.console.rendering import page, reader_language
from hotline.console.roles import Action, may
from hotline.console.security import CSRF_FIELD, clear_session_cookie, harden
from hotline.console.sessions import Session
from hotline.console.state import Console, console
from hotline.errors import NotFoundError
from hotline.front.asgi import for_the_api


class SignedOutError(Exception):
    """No live session: pages send the browser to sign in; the rest answer 401."""


class ForbiddenError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


async def signed_in(request: Request, state: Console) -> Session:
    session = state.session_of(request)
    if session is None:
        raise SignedOutError
    ended = await state.account_ended(session)
    if ended is not None:  # an administrator removed, locked or changed the account: now, not later
        state.sessions.close(session.id)
        await state.keep_sessions([], [session])
        await state.audit(request, session, session.user, "sign-out", detail=f"signed out: {ended}")
        raise SignedOutError
    return session


SignedIn = Annotated[Session, Depends(signed_in)]


async def checked_form(request: Request, session: SignedIn) -> FormData:
    form = await request.form()
    token = form.get(CSRF_FIELD)
    if not session.csrf_matches(token if isinstance(token, str) else None):
        _ = words(session.lang).gettext
        raise ForbiddenError(
            _("The form's security token is missing or wrong, so nothing was done. Reload the page and try again.")
        )
    return form


CheckedForm = Annotated[FormData, Depends(checked_form)]


def permitted(action: Action, what: str) -> Callable[[Session], Awaitable[Session]]:
    """A guard for one action; ``what`` names it in the refusal ("Your role may not ...")."""

    async def allowed(session: SignedIn) -> Session:
        if not may(session.role, action):
            _ = words(session.lang).gettext
            role = _(session.role.value)
            raise ForbiddenError(_("Your role ({role}) may not {what}.").format(role=role, what=_(what)))
        return session

    return allowed


async def _signed_out(request: Request, _: Exception) -> Response:
    state = await console(request)
    if request.method == "GET" and not request.url.path.endswith("/live"):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        response: Response = RedirectResponse(f"/signin?next={quote(target)}", status_code=303)
    else:
        response = Response("Signed out: sign in again.\n", status_code=401, media_type="text/plain")
    clear_session_cookie(response, request, state.cookie)
    harden(response)
    return response


async def _forbidden(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ForbiddenError)
    state = await console(request)
    session = state.session_of(request)
    if session is not None:  # what a role may not do, or a forged form: an auditor looks for these
        detail = f"{request.method} {request.url.path}: {exc.message}"
        await state.audit(request, session, session.user, "refused", detail=detail)
    return page(state, request, session, "error.html", {"message": exc.message}, status=403)


async def _not_found(request: Request, exc: Exception) -> Response:
    state = await console(request)
    session = state.session_of(request)
    lang = session.lang if session else state.desk.language
    context = {"message": str(exc), "heading": words(lang).gettext("Not found")}
    return page(state, request, session, "error.html", context, status=404)


async def _no_such_page(request: Request, exc: Exception) -> Response:
    """A path the console does not have (or a method it does not take there): its own page, in
    the reader's language, not the framework's English JSON. Under /v1/, the API's JSON."""
    assert isinstance(exc, StarletteHTTPException)
    if for_the_api(request.url.path):
        return JSONResponse({"error": f"no such API path: {request.method} {request.url.path}"}, exc.status_code)
    state = await console(request)
    session = state.session_of(request)
    _ = words(session.lang if session else reader_language(request, state.desk.language)).gettext
    message = _("There is no page {path} in the console.").format(path=request.url.path)
    if exc.status_code != 404:
        message = _("The console does not take this request ({method} {path}).").format(
            method=request.method, path=request.url.path
        )
    context = {"message": message, "heading": _("Not found") if exc.status_code == 404 else _("Not understood")}
    return page(state, request, session, "error.html", context, status=exc.status_code)


def handle_refusals(app: FastAPI) -> None:
    """Register how the console answers a missing session, a refusal, a missing record, and a
    path it does not have."""
    app.add_exception_handler(SignedOutError, _signed_out)
    app.add_exception_handler(ForbiddenError, _forbidden)
    app.add_exception_handler(NotFoundError, _not_found)
    app.add_exception_handler(StarletteHTTPException, _no_such_page)
