"""How the API answers what went wrong: always JSON, ``{"error": ...}``, with the field to blame
where there is one."""

from __future__ import annotations

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from hotline.envelope import serial
from hotline.errors import (
    AcknowledgeError,
    AlarmError,
    HotlineError,
    NotFoundError,
    NumberingError,
    PairingError,
    RefConflictError,
)
from hotline.node import SendError


def handle_errors(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)  # routing's own 404 and 405, in the same shape
    app.add_exception_handler(SendError, _send_error)
    app.add_exception_handler(RefConflictError, _ref_conflict)
    app.add_exception_handler(NotFoundError, _not_found)
    app.add_exception_handler(AcknowledgeError, _conflict)
    app.add_exception_handler(AlarmError, _conflict)
    app.add_exception_handler(NumberingError, _conflict)
    app.add_exception_handler(HotlineError, _hotline_error)


async def _invalid_request(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    first = errors[0] if errors else {"loc": (), "msg": "invalid request"}
    loc = list(first["loc"])
    if loc and loc[0] in ("body", "query", "path", "header"):
        loc = loc[1:]  # where in the request is implied; the field name is what helps
    where = ".".join(str(p) for p in loc) or "request"
    return JSONResponse({"error": f"{where}: {first['msg']}", "field": where}, status_code=422)


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return JSONResponse({"error": exc.detail}, status_code=exc.status_code)


async def _send_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, SendError)
    every = [{"field": field, "detail": detail} for field, detail in ((exc.field, exc.detail), *exc.more)]
    return JSONResponse({"error": str(exc), "field": exc.field, "errors": every}, status_code=422)


async def _ref_conflict(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RefConflictError)
    detail = (
        f"ref {exc.ref!r} was already used for {serial(request.app.state.desk.party, exc.number)}, with other content"
    )
    return JSONResponse({"error": f"{detail}; nothing was queued", "field": "ref"}, status_code=409)


async def _not_found(_: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"error": str(exc)}, status_code=404)


async def _conflict(_: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"error": str(exc)}, status_code=409)


async def _hotline_error(_: Request, exc: Exception) -> JSONResponse:
    kind = "pairing" if isinstance(exc, PairingError) else "refused"
    return JSONResponse({"error": str(exc), "kind": kind}, status_code=400)
