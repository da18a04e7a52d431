"""The local operator API: HTTP + JSON on loopback, bearer token from the node directory.

The CLI uses only this API. It speaks to the node through the desk (``hotline.node.Desk``) alone;
the console is mounted beside it by ``hotline.server``, not inside it. FastAPI publishes its OpenAPI document at
``/openapi.json`` and an interactive page at ``/docs``.
"""

from __future__ import annotations

import dataclasses
import hmac
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from hotline import __version__
from hotline.api.metrics import CONTENT_TYPE, exposition
from hotline.envelope import DEFAULT_MARKING, serial
from hotline.errors import (
    AcknowledgeError,
    AlarmError,
    HotlineError,
    NotFoundError,
    NumberingError,
    PairingError,
    RefConflictError,
)
from hotline.forms import FORMS, describe, translations
from hotline.node import Desk, IdentityCard, Message, SendError, SendRequest, check_fingerprint
from hotline.views import alarm_item, health_view, inbox_item, iso, message_view, outbox_item, stored_alarm_item
from hotline.watch import Alert


class MessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to: str = Field(description="the pinned peer party to send to", examples=["GENSTAB"])
    kind: str = Field("free_text", description="form id")
    kind_version: int = Field(1, ge=1)
    body: dict[str, Any] = Field(description="the form's fields", examples=[{"text": "Link check.", "lang": "en"}])
    precedence: str = Field("ROUTINE", examples=["FLASH"])
    marking: str = DEFAULT_MARKING
    reply_to: str | None = Field(None, pattern="^[0-9a-f]{64}$", description="id of the message this answers")
    ref: str | None = Field(None, max_length=128, description="idempotency key: the same ref never queues twice")


class BatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    messages: list[MessageIn] = Field(min_length=1, max_length=10_000)


class AckIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    by: str = Field(min_length=1, max_length=64, description="who acknowledges: the officer's name")
    remark: str | None = Field(None, description="checked by the ack form, as every form field is")


class CloseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    by: str = Field(min_length=1, max_length=64, description="who closes it: the officer's name")
    remark: str = Field(min_length=1, max_length=2000, description="what was found and what was done")


class CatchUpIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    by: str = Field(min_length=1, max_length=64, description="who decided it: the officer's name")
    remark: str = Field(min_length=1, max_length=2000, description="why: which copy was restored, what was lost")


class CardIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    card: str
    fingerprint: str = Field(description="the fingerprint confirmed by voice; must match the card's")


_bearer = HTTPBearer(auto_error=False)
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
# Capped: rows are read and rendered on the event loop that also carries the peer links.
Limit = Annotated[int, Query(ge=1, le=10_000, description="at most this many, newest first")]
Lang = Annotated[str | None, Query(pattern="^(en|ru)$", description="en or ru (default: the node's language)")]


def create_app(desk: Desk, token: str) -> FastAPI:
    # No /docs or /redoc: they load their scripts from a CDN, which an isolated network cannot
    # reach and which would learn the page was opened. The OpenAPI document is /openapi.json.
    app = FastAPI(title=f"hotline node {desk.party}", version=__version__, docs_url=None, redoc_url=None)

    def authorised(credentials: Credentials) -> None:
        if credentials is None or not hmac.compare_digest(credentials.credentials.encode(), token.encode()):
            raise HTTPException(401, "missing or wrong API token (see api.token in the node directory)")

    auth = [Depends(authorised)]

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        first = errors[0] if errors else {"loc": (), "msg": "invalid request"}
        loc = list(first["loc"])
        if loc and loc[0] in ("body", "query", "path", "header"):
            loc = loc[1:]  # where in the request is implied; the field name is what helps
        where = ".".join(str(p) for p in loc) or "request"
        return JSONResponse({"error": f"{where}: {first['msg']}", "field": where}, status_code=422)

    @app.exception_handler(HTTPException)
    @app.exception_handler(StarletteHTTPException)  # routing's own 404 and 405, in the same shape
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse({"error": exc.detail}, status_code=exc.status_code)

    @app.exception_handler(SendError)
    async def send_error(_: Request, exc: SendError) -> JSONResponse:
        return JSONResponse({"error": str(exc), "field": exc.field}, status_code=422)

    @app.exception_handler(RefConflictError)
    async def ref_conflict(_: Request, exc: RefConflictError) -> JSONResponse:
        detail = f"ref {exc.ref!r} was already used for {serial(desk.party, exc.number)}, with other content"
        return JSONResponse({"error": f"{detail}; nothing was queued", "field": "ref"}, status_code=409)

    @app.exception_handler(NotFoundError)
    async def not_found(_: Request, exc: NotFoundError) -> JSONResponse:
        return JSONResponse({"error": str(exc)}, status_code=404)

    @app.exception_handler(AcknowledgeError)
    async def cannot_acknowledge(_: Request, exc: AcknowledgeError) -> JSONResponse:
        return JSONResponse({"error": str(exc)}, status_code=409)

    @app.exception_handler(AlarmError)
    @app.exception_handler(NumberingError)
    async def conflict(_: Request, exc: HotlineError) -> JSONResponse:
        return JSONResponse({"error": str(exc)}, status_code=409)

    @app.exception_handler(HotlineError)
    async def hotline_error(_: Request, exc: HotlineError) -> JSONResponse:
        kind = "pairing" if isinstance(exc, PairingError) else "refused"
        return JSONResponse({"error": str(exc), "kind": kind}, status_code=400)

    @app.get("/v1/health")
    async def health() -> JSONResponse:
        """200 when nothing calls for anyone; 503 with the reasons otherwise (for monitors)."""
        now = desk.now_ms()
        view = health_view(desk.party, desk.alarms(now), desk.alerts(now), desk.stopping, desk.unlinked())
        return JSONResponse(view, status_code=200 if view["ok"] else 503)

    @app.get("/v1/identity", dependencies=auth)
    async def identity() -> dict[str, Any]:
        card = desk.identity()
        return {"party": card.party, "card": card.line(), "fingerprint": card.fingerprint, "tls_pin": card.tls_pin}

    @app.get("/v1/peers", dependencies=auth)
    async def peers() -> list[dict[str, Any]]:
        return [peer_view(IdentityCard.parse(peer.card)) for peer in desk.peers()]

    @app.post("/v1/peers", dependencies=auth, status_code=201)
    async def add_peer(request: CardIn) -> dict[str, Any]:
        card = IdentityCard.parse(request.card)
        check_fingerprint(card, request.fingerprint)
        await desk.add_peer(card)
        return peer_view(card)

    @app.post("/v1/messages", dependencies=auth, status_code=201)
    async def send(message: MessageIn) -> dict[str, Any]:
        rows = await desk.send([to_request(message)], wait_dispatch=1.0)
        return outbox_item(rows[0], desk.party)

    @app.post("/v1/messages/batch", dependencies=auth, status_code=201)
    async def send_batch(batch: BatchIn) -> list[dict[str, Any]]:
        """Queue many messages at once; answers with each one's number, serial and ref (the
        full records are in the outbox)."""
        queued = await desk.enqueue([to_request(m) for m in batch.messages])
        return [{"number": q.number, "serial": serial(desk.party, q.number), "ref": q.draft.ref} for q in queued]

    @app.get("/v1/forms", dependencies=auth)
    async def forms(lang: Lang = None) -> list[dict[str, Any]]:
        return forms_view(lang or desk.language)

    @app.get("/v1/messages/{key}", dependencies=auth)
    async def message(key: str, lang: Lang = None) -> dict[str, Any]:
        """One message by serial or id, rendered in ``lang``, with its delivery and
        acknowledgement history."""
        found = await desk.find_message(key)
        item = message_view(found, desk.party, lang or desk.language, desk.now_ms())
        item["in_reply_to"] = await reply_target(found)
        return item

    async def reply_target(found: Message) -> dict[str, str] | None:
        """Which message this one answers, as people name it."""
        row = found.sent or found.received
        if row is None or row.reply_to is None:
            return None
        try:
            target = await desk.find_message(row.reply_to.hex())
        except NotFoundError:
            return {"serial": row.reply_to.hex(), "kind": "unknown"}
        if target.sent is not None:
            return {"serial": serial(desk.party, target.sent.number), "kind": target.sent.kind}
        assert target.received is not None
        return {"serial": serial(target.received.peer, target.received.number), "kind": target.received.kind}

    @app.post("/v1/messages/{key}/ack", dependencies=auth)
    async def acknowledge(key: str, ack: AckIn, lang: Lang = None) -> dict[str, Any]:
        """A person acknowledges a received message; the acknowledgement is sent to its sender."""
        row = await desk.acknowledge(key, ack.by, ack.remark)
        found = await desk.find_message(row.envelope_id.hex())
        return message_view(found, desk.party, lang or desk.language, desk.now_ms())

    @app.get("/v1/alerts", dependencies=auth)
    async def alerts() -> list[dict[str, Any]]:
        """Open escalations, most urgent first."""
        return [alert_item(a) for a in desk.alerts()]

    @app.get("/v1/alarms", dependencies=auth)
    async def alarms(lang: Lang = None) -> list[dict[str, Any]]:
        """Standing alarms about the channel itself, loudest first."""
        now = desk.now_ms()
        return [alarm_item(a, lang or desk.language, now) for a in desk.alarms(now)]

    @app.get("/v1/alarms/history", dependencies=auth)
    async def alarm_history(limit: Limit = 1000) -> list[dict[str, Any]]:
        """Latched alarms, open and closed, newest first, with who closed them and why."""
        return [stored_alarm_item(row) for row in await desk.alarm_history(limit)]

    @app.post("/v1/alarms/{number}/close", dependencies=auth)
    async def close_alarm(number: int, close: CloseIn) -> dict[str, Any]:
        """A person closes a latched alarm after looking into it; the remark is kept and audited."""
        return stored_alarm_item(await desk.close_alarm(number, close.by, close.remark))

    @app.post("/v1/peers/{party}/catch-up", dependencies=auth)
    async def catch_up(party: str, decision: CatchUpIn) -> dict[str, Any]:
        """Resume numbering to a peer where it stands, after our store went back in time."""
        send_next = await desk.catch_up(party, decision.by, decision.remark)
        return {"peer": party, "send_next": send_next}

    @app.get("/metrics", dependencies=auth, include_in_schema=False)
    async def metrics() -> Response:
        """The node's health for Prometheus (scrape with the API token as bearer credentials)."""
        return Response(exposition(await desk.readings()), media_type=CONTENT_TYPE)

    @app.get("/v1/transcript", dependencies=auth)
    async def transcript() -> dict[str, Any]:
        """Our log's latest checkpoint and who cosigned it; every equivocation on record."""
        latest = await desk.latest_checkpoint()
        checkpoint = None
        if latest is not None:
            checkpoint = {
                "origin": desk.transcript_origin,
                "size": latest.size,
                "signed_at": iso(latest.at_ms),
                "cosigned_by": [witness for witness, _ in latest.cosignatures],
                "note": latest.cosigned_note,
            }
        equivocations = [
            {
                "log": e.log,
                "ours": e.log == desk.party,
                "reason": e.reason,
                "detail": e.detail,
                "at": iso(e.at_ms),
                "held": e.held,
                "offered": e.offered,
            }
            for e in await desk.equivocations()
        ]
        return {"checkpoint": checkpoint, "equivocations": equivocations}

    @app.get("/v1/outbox", dependencies=auth)
    async def outbox(limit: Limit = 1000) -> list[dict[str, Any]]:
        return [outbox_item(r, desk.party) for r in await desk.outbox(limit)]

    @app.get("/v1/inbox", dependencies=auth)
    async def inbox(limit: Limit = 1000) -> list[dict[str, Any]]:
        return [inbox_item(r) for r in await desk.inbox(limit)]

    @app.get("/v1/status", dependencies=auth)
    async def status() -> dict[str, Any]:
        return {"party": desk.party, "peers": await desk.status()}

    return app


def to_request(message: MessageIn) -> SendRequest:
    return SendRequest(
        to=message.to,
        kind=message.kind,
        kind_version=message.kind_version,
        body=message.body,
        precedence=message.precedence,
        marking=message.marking,
        reply_to=bytes.fromhex(message.reply_to) if message.reply_to else None,
        ref=message.ref,
    )


def alert_item(alert: Alert) -> dict[str, Any]:
    return {
        "message": alert.serial,
        "side": alert.side.value,
        "peer": alert.peer,
        "precedence": alert.precedence.value,
        "kind": alert.kind,
        "stage": alert.stage.value,
        "level": alert.level.label,
        "loudest": alert.loudest,
        "since": iso(alert.since_ms),
        "due": iso(alert.due_ms),
    }


def forms_view(lang: str) -> list[dict[str, Any]]:
    return [
        {
            "kind": spec.kind,
            "version": spec.version,
            "title": translations(lang).gettext(spec.title),
            "composable": spec.composable,
            "needs_reply_to": spec.needs_reply_to,
            "fields": [dataclasses.asdict(f) for f in describe(spec, lang)],
            "schema": spec.schema.model_json_schema(),
        }
        for spec in FORMS.values()
    ]


def peer_view(card: IdentityCard) -> dict[str, Any]:
    return {
        "party": card.party,
        "fingerprint": card.fingerprint,
        "tls_pin": card.tls_pin,
        "addresses": list(card.addresses),
    }
