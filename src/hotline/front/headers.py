"""The security headers every answer of the loopback port and the console's listener carries.

The console's pages set their own (``hotline.console.security.harden``: a script policy, no
caching); this layer adds to every other answer, the API's and the static files' included,
whatever is missing of: no MIME sniffing (a text answer is never run as a script), no framing
(no other site's page can overlay it), no referrer, a same-origin resource policy, and a content
policy that allows nothing. Answers of the API are never cached: they carry the node's state
and, behind a proxy, must not be kept by it.
"""

from __future__ import annotations

from hotline.front.asgi import App, Message, Receive, Scope, Send, for_the_api

EVERY_ANSWER = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
)
API_ANSWER = ((b"cache-control", b"no-store"),)
# Over HTTPS (the console's listener, or a proxy that says so): a browser that has been here
# once never tries plain HTTP for this name again, for a year.
HTTPS_ANSWER = ((b"strict-transport-security", b"max-age=31536000"),)


class SecurityHeaders:
    def __init__(self, app: App) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        wanted = EVERY_ANSWER + (API_ANSWER if for_the_api(scope["path"]) else ())
        wanted += HTTPS_ANSWER if scope.get("scheme") == "https" else ()

        async def hardened(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(name, value) for name, value in wanted if name not in present]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, hardened)
