"""What a request must show before its body is read: a size within the bound, for the operator
API a token, and a body that arrives in time.

FastAPI reads and parses a request's body before it runs any dependency, the bearer check
included: a 100 MB body without a token was read whole, and eight of them in parallel stalled
the event loop that carries the peer links. This ASGI layer sits in front of everything the
node serves and answers before the body is read:

- 413 when the declared length exceeds ``max_body`` (``[bounds] api_body_bytes``), or as soon
  as a body sent in chunks does;
- 401 for a request under ``/v1/`` that carries a body and not the API's bearer token (requests
  without a body reach the routes, whose own check answers them as before);
- 408 when the body has not arrived whole ``body_timeout`` seconds (``[bounds]
  api_body_timeout``) after the request began: a sender trickling a byte a second holds a
  connection no longer than that.

The answers that leave a body unread close the connection: it cannot carry another request.
Each refusal is counted by cause (``hotline.front.Refusals``). The request's head has its own
deadline, in the HTTP protocol (``hotline.front.connection``).
"""

from __future__ import annotations

import asyncio
import hmac
import time

from hotline.front import Refusals
from hotline.front.asgi import App, Message, Receive, Scope, Send, answer


class Gate:
    def __init__(self, app: App, token: str, max_body: int, body_timeout: float, refusals: Refusals) -> None:
        self.app = app
        self.token = token.encode()
        self.max_body = max_body
        self.body_timeout = body_timeout
        self.refusals = refusals

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {name.lower(): value for name, value in scope.get("headers", [])}
        declared = headers.get(b"content-length")
        carries_body = declared not in (None, b"0") or b"transfer-encoding" in headers
        if carries_body and scope["path"].startswith("/v1/") and not self._authorised(headers):
            self.refusals.note("api-token", "a request with a body and without the API token")
            detail = "missing or wrong API token (see api.token in the node directory)"
            await answer(send, 401, detail, as_json=True, close=True)
            return
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_body):
            self.refusals.note("body-size", f"a request body declared over {self.max_body} bytes")
            detail = f"the request body is over {self.max_body} bytes (or its length is not a number)"
            await answer(send, 413, detail, as_json=True, close=True)
            return
        await self._limited(scope, receive, send, carries_body)

    def _authorised(self, headers: dict[bytes, bytes]) -> bool:
        scheme, _, credentials = headers.get(b"authorization", b"").partition(b" ")
        return scheme.lower() == b"bearer" and hmac.compare_digest(credentials.strip(), self.token)

    async def _limited(self, scope: Scope, receive: Receive, send: Send, carries_body: bool) -> None:
        """Count a body as it comes, and time it; past a bound, answer at once and tell the
        route the client has gone (whatever it answers then is dropped)."""
        received = 0
        whole = not carries_body
        answered = False
        started = False
        deadline = time.monotonic() + self.body_timeout

        async def refuse(status: int, cause: str, why: str, detail: str) -> Message:
            nonlocal answered
            self.refusals.note(cause, why)
            if not started and not answered:
                answered = True
                await answer(send, status, detail, as_json=True, close=True)
            return {"type": "http.disconnect"}

        async def counted() -> Message:
            nonlocal received, whole
            if whole:  # after the body, a route waits here only for the client to leave
                return await receive()
            try:
                async with asyncio.timeout(deadline - time.monotonic()):
                    message = await receive()
            except TimeoutError:
                why = f"a request body did not arrive whole within {self.body_timeout:g} s"
                detail = f"the request body did not arrive within {self.body_timeout:g} s"
                return await refuse(408, "body-timeout", why, detail)
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                whole = not message.get("more_body", False)
                if received > self.max_body:
                    why = f"a request body over {self.max_body} bytes"
                    return await refuse(413, "body-size", why, f"the request body is over {self.max_body} bytes")
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            if answered:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        await self.app(scope, counted, watched)
