"""What a request must show before its body is read: a size within the bound, and for the
operator API a token.

FastAPI reads and parses a request's body before it runs any dependency, the bearer check
included: a 100 MB body without a token was read whole, and eight of them in parallel stalled
the event loop that carries the peer links. This ASGI layer sits in front of everything the
node serves and answers before the body is read:

- 413 when the declared length exceeds ``max_body``, or as soon as a body sent in chunks does;
- 401 for a request under ``/v1/`` that carries a body and not the API's bearer token (requests
  without a body reach the routes, whose own check answers them as before).
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

MAX_BODY = 4 << 20  # a batch of 1,000 messages is about 0.3 MB; a form body, a few kB


class Gate:
    def __init__(self, app: App, token: str, max_body: int = MAX_BODY) -> None:
        self.app = app
        self.token = token.encode()
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {name.lower(): value for name, value in scope.get("headers", [])}
        declared = headers.get(b"content-length")
        carries_body = declared not in (None, b"0") or b"transfer-encoding" in headers
        if carries_body and scope["path"].startswith("/v1/") and not self._authorised(headers):
            await _answer(send, 401, "missing or wrong API token (see api.token in the node directory)")
            return
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_body):
            await _answer(send, 413, f"the request body is over {self.max_body} bytes (or its length is not a number)")
            return
        await self._limited(scope, receive, send)

    def _authorised(self, headers: dict[bytes, bytes]) -> bool:
        scheme, _, credentials = headers.get(b"authorization", b"").partition(b" ")
        return scheme.lower() == b"bearer" and hmac.compare_digest(credentials.strip(), self.token)

    async def _limited(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Count a streamed body as it comes; past the bound, answer 413 at once and tell the
        route the client has gone (whatever it answers then is dropped)."""
        received = 0
        answered = False
        started = False

        async def counted() -> Message:
            nonlocal received, answered
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    if not started and not answered:
                        answered = True
                        await _answer(send, 413, f"the request body is over {self.max_body} bytes")
                    return {"type": "http.disconnect"}
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            if answered:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        await self.app(scope, counted, watched)


async def _answer(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"error": detail}).encode()  # as every refusal of the API reads
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
