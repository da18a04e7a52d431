"""The ASGI types the front door's layers share."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

API_PATHS = ("/v1/", "/metrics", "/openapi.json")


def for_the_api(path: str) -> bool:
    return path.startswith(API_PATHS)


async def answer(send: Send, status: int, detail: str, *, as_json: bool, close: bool = False) -> None:
    """A refusal, as the API words one (``{"error": ...}``) or as plain text for a browser."""
    body = json.dumps({"error": detail}).encode() if as_json else (detail + "\n").encode()
    kind = b"application/json" if as_json else b"text/plain; charset=utf-8"
    headers = [(b"content-type", kind), (b"content-length", str(len(body)).encode())]
    if close:  # the rest of the request is not read: the connection cannot carry another
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
