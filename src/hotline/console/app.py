"""The console's routes: server-rendered pages, one live stream, and the forms that act.

Mounted beside the operator API (``hotline.server``), under ``/``: the same process, the same
event loop as the peer links, so nothing here may block; the slow parts (Argon2id, writing
evidence) run in threads. Every page is rendered on the server and works without script; the
script (``static/console.js``) only redraws the live parts when the event stream says they
changed, counts deadlines down and sounds the alarm.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import io
import json
import re
import secrets
import tempfile
import zipfile
from collections.abc import AsyncIterator
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote

import structlog
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader, select_autoescape
from pydantic import ValidationError
from starlette.datastructures import FormData

from hotline.console import pages
from hotline.console.accounts import AccountBook, AccountError
from hotline.console.fields import Errors, Submitted, collect, errors_by_field, first, widgets
from hotline.console.i18n import words
from hotline.console.roles import Action, may
from hotline.console.security import (
    CSRF_FIELD,
    clear_session_cookie,
    harden,
    new_signin_token,
    session_cookie,
    set_session_cookie,
    set_signin_cookie,
    signin_cookie,
    signin_token_matches,
)
from hotline.console.sessions import Session, Sessions
from hotline.envelope import DEFAULT_MARKING, FieldError, Precedence, cbor, serial
from hotline.errors import AcknowledgeError, AlarmError, HotlineError, NotFoundError
from hotline.forms import FORMS, precedence_name, prepare_body
from hotline.node import Desk, SendError, SendRequest
from hotline.storage import AuditEntry
from hotline.views import message_view

log = structlog.get_logger("hotline.console")
STREAM_PING = 15.0  # seconds between keep-alive comments on the event stream


class SignedOutError(Exception):
    """No live session: pages send the browser to sign in; the rest answer 401."""


class ForbiddenError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def template_environment() -> Environment:
    env = Environment(
        loader=PackageLoader("hotline.console", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),  # every template, whatever its name
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["utc"] = pages.utc
    env.globals["countdown"] = pages.countdown
    return env


def create_console(desk: Desk) -> FastAPI:
    console = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    env = template_environment()
    sessions = Sessions(desk.console_settings.session_lifetime, desk.console_settings.session_idle)
    accounts = AccountBook(desk.directory)
    cookie, signin_cookie_name = session_cookie(desk.party), signin_cookie(desk.party)
    hashing = asyncio.Semaphore(2)  # Argon2id takes 64 MiB and ~50 ms: a flood of sign-ins waits here
    static = resources.files("hotline.console").joinpath("static")
    console.mount("/static", StaticFiles(directory=str(static)), name="static")

    # -- the guards --------------------------------------------------------------------------

    def current(request: Request) -> Session:
        session = sessions.find(request.cookies.get(cookie), desk.now_ms())
        if session is None:
            raise SignedOutError
        return session

    def allow(session: Session, action: Action, what: str) -> None:
        if not may(session.role, action):
            _ = words(session.lang).gettext
            role = _(session.role.value)
            raise ForbiddenError(_("Your role ({role}) may not {what}.").format(role=role, what=_(what)))

    async def checked_form(request: Request, session: Session) -> FormData:
        form = await request.form()
        token = form.get(CSRF_FIELD)
        if not session.csrf_matches(token if isinstance(token, str) else None):
            _ = words(session.lang).gettext
            raise ForbiddenError(
                _("The form's security token is missing or wrong, so nothing was done. Reload the page and try again.")
            )
        return form

    async def audit(request: Request, session: Session | None, user: str, action: str, **what: str | None) -> None:
        address = request.client.host if request.client else None
        role = session.role.value if session else None
        await desk.record_audit(AuditEntry(desk.now_ms(), user, role, action, address=address, **what))

    @console.exception_handler(SignedOutError)
    async def signed_out(request: Request, _: SignedOutError) -> Response:
        if request.method == "GET" and not request.url.path.endswith("/live"):
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            response: Response = RedirectResponse(f"/signin?next={quote(target)}", status_code=303)
        else:
            response = Response("Signed out: sign in again.\n", status_code=401, media_type="text/plain")
        clear_session_cookie(response, request, cookie)
        harden(response)
        return response

    @console.exception_handler(ForbiddenError)
    async def forbidden(request: Request, exc: ForbiddenError) -> Response:
        session = sessions.find(request.cookies.get(cookie), desk.now_ms())
        if session is not None:  # what a role may not do, or a forged form: an auditor looks for these
            detail = f"{request.method} {request.url.path}: {exc.message}"
            await audit(request, session, session.user, "refused", detail=detail)
        return page(request, session, "error.html", {"message": exc.message}, status=403)

    @console.exception_handler(NotFoundError)
    async def not_found(request: Request, exc: NotFoundError) -> Response:
        session = sessions.find(request.cookies.get(cookie), desk.now_ms())
        lang = session.lang if session else desk.language
        context = {"message": str(exc), "heading": words(lang).gettext("Not found")}
        return page(request, session, "error.html", context, status=404)

    # -- rendering ---------------------------------------------------------------------------

    def page(
        request: Request, session: Session | None, name: str, context: dict[str, Any], status: int = 200
    ) -> HTMLResponse:
        lang = session.lang if session else desk.language
        translations = words(lang)
        values = {
            "_": translations.gettext,
            "lang": lang,
            "party": desk.party,
            "session": session,
            "csrf": session.csrf if session else "",
            "may": (lambda action: may(session.role, Action(action))) if session else (lambda _: False),
            "path": request.url.path,
            "precedence_name": lambda p: precedence_name(p, lang),
            "now_ms": desk.now_ms(),  # the node's clock, for the countdowns of every page
            **context,
        }
        response = HTMLResponse(env.get_template(name).render(values), status_code=status)
        harden(response)
        return response

    # -- sign-in -----------------------------------------------------------------------------

    @console.get("/", include_in_schema=False)
    async def home() -> Response:
        return RedirectResponse("/board", status_code=303)

    @console.get("/signin")
    async def signin_page(request: Request, next: str = "/board") -> Response:
        return signin_form(request, next, None, "")

    def signin_form(request: Request, target: str, error: str | None, name: str, status: int = 200) -> Response:
        token = new_signin_token()
        response = page(
            request,
            None,
            "signin.html",
            {"token": token, "next": safe_target(target), "error": error, "name": name},
            status=status,
        )
        set_signin_cookie(response, request, signin_cookie_name, token)
        return response

    @console.post("/signin")
    async def signin(request: Request) -> Response:
        form = await request.form()
        name = str(form.get("name", "")).strip().lower()
        password = str(form.get("password", ""))
        target = safe_target(str(form.get("next", "/board")))
        _ = words(desk.language).gettext
        if not signin_token_matches(request, signin_cookie_name, _text(form.get(CSRF_FIELD))):
            return signin_form(
                request, target, _("The sign-in form had expired or was not this console's. Sign in again."), name, 403
            )
        async with hashing:
            account = await asyncio.to_thread(accounts.verify, name, password)
        if account is None:
            # Not what was typed under an unknown name: it may be a password typed in the wrong box.
            known = name in await asyncio.to_thread(accounts.accounts)
            await audit(request, None, name if known else "(unknown name)", "sign-in-failed")
            return signin_form(request, target, _("Wrong name or password."), name, 401)
        # A new session, whatever cookie the browser came with: a planted identifier stays
        # signed out (session fixation), and an older session of this browser is closed.
        old = request.cookies.get(cookie)
        if old:
            sessions.close(old)
        session = sessions.open(account.name, account.role, account.lang, desk.now_ms())
        await audit(request, session, account.name, "sign-in")
        response = RedirectResponse(target, status_code=303)
        set_session_cookie(response, request, cookie, session.id)
        harden(response)
        return response

    @console.post("/signout")
    async def signout(request: Request) -> Response:
        session = current(request)
        await checked_form(request, session)
        sessions.close(session.id)
        await audit(request, session, session.user, "sign-out")
        response = RedirectResponse("/signin", status_code=303)
        clear_session_cookie(response, request, cookie)
        harden(response)
        return response

    @console.post("/language")
    async def language(request: Request) -> Response:
        session = current(request)
        form = await checked_form(request, session)
        lang = str(form.get("lang", ""))
        try:
            await asyncio.to_thread(accounts.set_language, session.user, lang)
        except AccountError as exc:
            raise ForbiddenError(str(exc)) from None
        session.lang = lang
        await audit(request, session, session.user, "language", detail=lang)
        return RedirectResponse(safe_target(str(form.get("next", "/board"))), status_code=303)

    # -- the watch board ---------------------------------------------------------------------

    async def board_as(request: Request, template: str) -> Response:
        session = current(request)
        return page(request, session, template, await pages.board(desk, session.lang))

    @console.get("/board")
    async def board_page(request: Request) -> Response:
        return await board_as(request, "board.html")

    @console.get("/board/live")
    async def board_live(request: Request) -> Response:
        return await board_as(request, "board_live.html")

    @console.get("/alarm/live")
    async def alarm_live(request: Request) -> Response:
        """The alarm alone, for every page but the board: a FLASH is heard wherever one is."""
        return await board_as(request, "alarm_live.html")

    @console.get("/events")
    async def events(request: Request) -> Response:
        """The live stream: one event per batch of changes, naming the topics that changed.

        Signed out, it answers one ``signed-out`` event rather than 401: a browser gives up on a
        stream for good at an error status, and the page would go on showing a frozen board."""
        headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
        session = sessions.find(request.cookies.get(cookie), desk.now_ms())
        if session is None:
            gone = "retry: 2000\nevent: signed-out\ndata: {}\n\n"
            return Response(gone, media_type="text/event-stream", headers=headers)
        # Often enough to end the stream soon after its session does, and to keep proxies open.
        ping = min(STREAM_PING, desk.console_settings.session_idle / 3)

        async def stream() -> AsyncIterator[str]:
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
                    if sessions.find(session.id, desk.now_ms()) is None:  # an open board counts as presence
                        yield "event: signed-out\ndata: {}\n\n"
                        return
                    if await request.is_disconnected():
                        return
                    yield f"data: {json.dumps(sorted(topics))}\n\n" if topics else ": ping\n\n"

        return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)

    # -- alarms about the channel itself ---------------------------------------------------

    @console.get("/alarms")
    async def alarms_page(request: Request, error: str | None = None, status: int = 200) -> Response:
        session = current(request)
        context = {**await pages.alarms(desk, session.lang), "error": error}
        return page(request, session, "alarms.html", context, status=status)

    @console.post("/alarms/{number}/close")
    async def close_alarm(request: Request, number: int) -> Response:
        """A supervisor closes a latched alarm after looking into it; the remark is kept."""
        session = current(request)
        form = await checked_form(request, session)
        allow(session, Action.CLOSE_ALARM, "close alarms")
        remark = str(form.get("remark", "")).strip()
        address = request.client.host if request.client else None
        try:
            await desk.close_alarm(number, session.user, remark, session.role.value, address)
        except (AlarmError, NotFoundError) as exc:
            return await alarms_page(request, str(exc), status=409)
        return RedirectResponse("/alarms", status_code=303)

    # -- a message ---------------------------------------------------------------------------

    @console.get("/messages/{key}")
    async def message_page(request: Request, key: str, lang: str | None = None) -> Response:
        session = current(request)
        return await show_message(request, session, key, lang)

    async def show_message(
        request: Request, session: Session, key: str, lang: str | None, error: str | None = None, status: int = 200
    ) -> Response:
        reading = lang if lang in ("en", "ru") else session.lang
        found = await desk.find_message(key)
        view = message_view(found, desk.party, reading, desk.now_ms())
        context = {"m": view, "reading": reading, "other": "ru" if reading == "en" else "en", "error": error}
        return page(request, session, "message.html", context, status=status)

    @console.post("/messages/{key}/ack")
    async def acknowledge(request: Request, key: str) -> Response:
        session = current(request)
        form = await checked_form(request, session)
        allow(session, Action.ACKNOWLEDGE, "acknowledge messages")
        remark = str(form.get("remark", "")).strip() or None
        try:
            row = await desk.acknowledge(key, session.user, remark)
        except (AcknowledgeError, SendError) as exc:
            return await show_message(request, session, key, None, str(exc), status=409)
        name = serial(row.peer, row.number)
        await audit(request, session, session.user, "acknowledge", target=name, detail=remark)
        return RedirectResponse(f"/messages/{quote(name)}", status_code=303)

    @console.get("/messages/{key}/evidence")
    async def evidence(request: Request, key: str) -> Response:
        session = current(request)
        allow(session, Action.WATCH, "download evidence")
        found = await desk.find_message(key)
        row = found.sent or found.received
        assert row is not None
        name = serial(desk.party, found.sent.number) if found.sent else serial(row.peer, row.number)
        try:
            data = await asyncio.to_thread(_evidence_zip, desk.directory, name)
        except HotlineError as exc:
            raise NotFoundError(f"no evidence for {name} yet: {exc}") from None
        await audit(request, session, session.user, "evidence", target=name)
        headers = {"Content-Disposition": f'attachment; filename="evidence-{name}.zip"'}
        return Response(data, media_type="application/zip", headers=headers)

    # -- compose -----------------------------------------------------------------------------

    @console.get("/compose")
    async def compose_page(request: Request) -> Response:
        session = current(request)
        allow(session, Action.SEND, "send messages")
        params: Submitted = {k: request.query_params.getlist(k) for k in request.query_params}
        return compose(request, session, params, {}, None)

    def compose(
        request: Request,
        session: Session,
        form: Submitted,
        errors: Errors,
        preview: dict[str, Any] | None,
        status: int = 200,
        previewed: str = "",
        confirm: bool = False,
    ) -> Response:
        kinds = [
            (spec.kind, pages.form_title(spec.kind, 1, session.lang)) for spec in FORMS.values() if spec.composable
        ]
        kind = first(form, "kind") or "free_text"
        spec = FORMS.get((kind, 1))
        if spec is None or not spec.composable:
            kind, spec = "free_text", FORMS[("free_text", 1)]
        peers = [peer.party for peer in desk.peers() if not peer.witness]
        context = {
            "kinds": kinds,
            "kind": kind,
            "needs_reply": spec.needs_reply_to,
            "fields": widgets(spec.schema),
            "form": form,
            "errors": errors,
            "preview": preview,
            "previewed": previewed,
            "ref": first(form, "ref") if previewed and first(form, "previewed") == previewed else secrets.token_hex(16),
            "confirm": confirm,
            "peers": peers,
            "precedences": [p.value for p in Precedence],
            "default_marking": DEFAULT_MARKING,
        }
        return page(request, session, "compose.html", context, status=status)

    @console.post("/compose")
    async def compose_send(request: Request) -> Response:
        session = current(request)
        submitted = await checked_form(request, session)
        allow(session, Action.SEND, "send messages")
        form: Submitted = {k: [str(v) for v in submitted.getlist(k)] for k in submitted}
        _ = words(session.lang).gettext
        kind = first(form, "kind")
        spec = FORMS.get((kind, 1))
        if spec is None or not spec.composable:
            return compose(request, session, form, {"kind": _("Choose a form.")}, None, status=422)
        if first(form, "action") == "change":  # another form was chosen: show its fields
            return compose(request, session, form, {}, None)
        fields = widgets(spec.schema)
        body = collect(fields, form)
        try:
            spec.schema.model_validate(body)
        except ValidationError as exc:
            return compose(request, session, form, errors_by_field(fields, exc, form), None, status=422)
        try:
            prepared = prepare_body(kind, 1, body)
            reply_to = _reply_to(first(form, "reply_to"))
            send = SendRequest(
                to=first(form, "to"),
                kind=kind,
                body=prepared,
                precedence=first(form, "precedence") or "ROUTINE",
                marking=first(form, "marking") or DEFAULT_MARKING,
                reply_to=reply_to,
            )
            desk.check(send)
        except (FieldError, SendError) as exc:
            return compose(request, session, form, {exc.field: exc.detail}, None, status=422)
        # What is sent is what was previewed: a message not yet seen in both languages, or
        # changed since, is shown again to be checked before it goes.
        digest = _digest(send)
        if first(form, "action") != "send" or first(form, "previewed") != digest:  # not a secret: plain ==
            confirm = first(form, "action") == "send"
            return compose(
                request, session, form, {}, pages.previews(kind, prepared), previewed=digest, confirm=confirm
            )
        # The preview's ref makes a second press of Send (a double click, a resubmitted page)
        # the same message, not another one: the node queues a ref once.
        ref = first(form, "ref")
        send = dataclasses.replace(send, ref=f"console-{ref}" if re.fullmatch(r"[0-9a-f]{32}", ref) else None)
        try:
            (row,) = await desk.send([send], wait_dispatch=1.0)
        except SendError as exc:
            return compose(request, session, form, {exc.field: exc.detail}, None, status=422)
        name = serial(desk.party, row.number)
        await audit(
            request, session, session.user, "send", target=name, detail=f"{send.precedence} {kind} to {send.to}"
        )
        return RedirectResponse(f"/outbox?sent={quote(name)}", status_code=303)

    # -- outbox, transcript, audit -----------------------------------------------------------

    @console.get("/outbox")
    async def outbox_page(request: Request, sent: str | None = None) -> Response:
        session = current(request)
        rows = await pages.outbox(desk, session.lang)
        return page(request, session, "outbox.html", {"rows": rows, "sent": sent, "now_ms": desk.now_ms()})

    @console.get("/outbox/live")
    async def outbox_live(request: Request) -> Response:
        session = current(request)
        rows = await pages.outbox(desk, session.lang)
        return page(request, session, "outbox_live.html", {"rows": rows, "now_ms": desk.now_ms()})

    @console.get("/transcript")
    async def transcript_page(request: Request) -> Response:
        session = current(request)
        latest = await desk.latest_checkpoint()
        context = {
            "origin": desk.transcript_origin,
            "latest": latest,
            "equivocations": await desk.equivocations(),
            "peers": [peer.party for peer in desk.peers()],
        }
        return page(request, session, "transcript.html", context)

    @console.get("/evidence")
    async def evidence_for(request: Request, message: str = "") -> Response:
        current(request)
        return RedirectResponse(f"/messages/{quote(message.strip(), safe='')}/evidence", status_code=303)

    @console.get("/audit")
    async def audit_page(request: Request) -> Response:
        session = current(request)
        allow(session, Action.READ_AUDIT, "read the audit trail")
        return page(request, session, "audit.html", {"entries": await desk.audit_trail(500)})

    return console


def safe_target(target: str) -> str:
    """Where to go after signing in: a path of this console only, never another site."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/board"
    return target


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _reply_to(text: str) -> bytes | None:
    if not text:
        return None
    try:
        found = bytes.fromhex(text)
    except ValueError:
        raise SendError("reply_to", "must be a message id: 64 hex digits") from None
    if len(found) != 32:
        raise SendError("reply_to", "must be a message id: 64 hex digits")
    return found


def _digest(send: SendRequest) -> str:
    """What a preview showed: the body and the envelope fields an operator chose."""
    chosen = [send.to, send.kind, send.precedence, send.marking, send.reply_to or b"", cbor.encode(send.body)]
    return hashlib.sha256(cbor.encode(chosen)).hexdigest()


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
