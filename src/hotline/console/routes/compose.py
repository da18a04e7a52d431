"""Composing a message: the form, its preview in both languages, and sending it."""

from __future__ import annotations

import dataclasses
import hashlib
import re
import secrets
from collections.abc import Sequence
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from hotline.console import pages
from hotline.console.fields import Errors, Submitted, collect, errors_by_field, first, widgets
from hotline.console.guards import CheckedForm, permitted
from hotline.console.i18n import words
from hotline.console.rendering import page
from hotline.console.roles import Action
from hotline.console.sessions import Session
from hotline.console.state import Console, ConsoleState
from hotline.console.timing import past_windows
from hotline.envelope import DEFAULT_MARKING, FieldError, Precedence, cbor, serial
from hotline.forms import FORMS, FormBody, FormSpec, prepare_body
from hotline.node import Desk, SendError, SendRequest

router = APIRouter()
Sender = Annotated[Session, Depends(permitted(Action.SEND, "send messages"))]


@router.get("/compose")
async def compose_page(request: Request, state: Console, session: Sender) -> Response:
    params: dict[str, Sequence[str]] = {k: request.query_params.getlist(k) for k in request.query_params}
    if "to" not in params:  # a new message: the first party, as a single choice would show it
        params["to"] = [peer.party for peer in state.desk.peers() if not peer.witness][:1]
    return compose_form(state, request, session, params, {}, None)


def compose_form(
    state: ConsoleState,
    request: Request,
    session: Session,
    form: Submitted,
    errors: Errors,
    preview: dict[str, Any] | None,
    status: int = 200,
    previewed: str = "",
    confirm: bool = False,
    past: list[str] | None = None,
) -> Response:
    kinds = [(spec.kind, pages.form_title(spec.kind, 1, session.lang)) for spec in FORMS.values() if spec.composable]
    kind = first(form, "kind") or "free_text"
    spec = FORMS.get((kind, 1))
    if spec is None or not spec.composable:
        kind, spec = "free_text", FORMS[("free_text", 1)]
    # Every party that takes messages; "All parties" is what ``*`` reaches (not those removed).
    peers = [peer.party for peer in state.desk.peers() if not peer.witness]
    reachable = [peer.party for peer in state.desk.peers() if not peer.witness and peer.state != "removed"]
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
        "past": past or [],
        "peers": peers,
        "reachable": len(reachable),
        "precedences": [p.value for p in Precedence],
        "default_marking": DEFAULT_MARKING,
    }
    return page(state, request, session, "compose.html", context, status=status)


@router.post("/compose")
async def compose_send(request: Request, state: Console, submitted: CheckedForm, session: Sender) -> Response:
    form: Submitted = {k: [str(v) for v in submitted.getlist(k)] for k in submitted}
    _ = words(session.lang).gettext
    kind = first(form, "kind")
    spec = FORMS.get((kind, 1))
    if spec is None or not spec.composable:
        return compose_form(state, request, session, form, {"kind": _("Choose a form.")}, None, status=422)
    if first(form, "action") == "change":  # another form was chosen: show its fields
        return compose_form(state, request, session, form, {}, None)
    send = _draft(state.desk, spec, form)
    if not isinstance(send, SendRequest):
        return compose_form(state, request, session, form, send, None, status=422)
    # What is sent is what was previewed: a message not yet seen in both languages, or
    # changed since, is shown again to be checked before it goes.
    digest = _digest(send)
    past = _past(spec.schema, send.body, state.desk.now_ms(), session.lang)
    unconfirmed = bool(past) and first(form, "past_ok") != digest  # the box ticked for this very message
    if first(form, "action") != "send" or first(form, "previewed") != digest or unconfirmed:  # not a secret: ==
        confirm = first(form, "action") == "send"
        preview = pages.previews(kind, send.body)
        return compose_form(state, request, session, form, {}, preview, previewed=digest, confirm=confirm, past=past)
    # The preview's ref makes a second press of Send (a double click, a resubmitted page)
    # the same message, not another one: the node queues a ref once.
    ref = first(form, "ref")
    send = dataclasses.replace(send, ref=f"console-{ref}" if re.fullmatch(r"[0-9a-f]{32}", ref) else None)
    try:
        # To several: a copy each, the first copy's serial names the whole (the outbox's entry).
        rows = await state.desk.send([send], wait_dispatch=1.0)
        row = rows[0]
    except SendError as exc:
        every = dict(reversed(((exc.field, exc.detail), *exc.more)))  # the first error wins a field
        return compose_form(state, request, session, form, every, None, status=422)
    name = serial(state.desk.party, row.number)
    detail = f"{send.precedence} {kind} to {', '.join(r.peer for r in rows)}"  # whom '*' reached
    await state.audit(request, session, session.user, "send", target=name, detail=detail)
    return RedirectResponse(f"/outbox?sent={quote(name)}", status_code=303)


def _draft(desk: Desk, spec: FormSpec, form: Submitted) -> SendRequest | Errors:
    """The message the form describes, checked as the node would check it; else what is wrong
    with it, field by field."""
    fields = widgets(spec.schema)
    body = collect(fields, form)
    try:
        spec.schema.model_validate(body)
    except ValidationError as exc:
        return errors_by_field(fields, exc, form)
    if not form.get("to"):
        return {"to": "choose at least one party"}
    try:
        send = SendRequest(
            to=_addressees(form.get("to", [])),
            kind=spec.kind,
            body=prepare_body(spec.kind, 1, body),
            precedence=first(form, "precedence") or "ROUTINE",
            marking=first(form, "marking") or DEFAULT_MARKING,
            reply_to=_reply_to(first(form, "reply_to")),
        )
        desk.check(send)
    except (FieldError, SendError) as exc:
        return {exc.field: exc.detail}
    return send


def _addressees(chosen: Sequence[str]) -> str:
    """The parties chosen, as the node reads ``to``: one, ``A,B,C``, or ``*`` for all (which
    wins over any also chosen one by one)."""
    return "*" if "*" in chosen else ",".join(chosen)


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


def _past(schema: type[FormBody], body: dict[str, Any], now_ms: int, lang: str) -> list[str]:
    """Each window in the message that has already begun, as the officer reads it: its label
    and its start."""
    _ = words(lang).gettext
    shown = []
    for path, start in past_windows(body, now_ms):
        info = schema.model_fields.get(path.split(".")[0])
        label = _(info.title) if info is not None and info.title else path
        shown.append(_("{field}: began {time}").format(field=label, time=pages.utc(start)))
    return shown


def _digest(send: SendRequest) -> str:
    """What a preview showed: the body and the envelope fields an operator chose."""
    chosen = [send.to, send.kind, send.precedence, send.marking, send.reply_to or b"", cbor.encode(send.body)]
    return hashlib.sha256(cbor.encode(chosen)).hexdigest()
