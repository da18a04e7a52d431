"""The Host names the node answers to.

A page on any web site can make a watch-floor browser send requests to 127.0.0.1 under the
site's own name (DNS rebinding: the name resolves to the site first, to 127.0.0.1 next), and the
browser then treats the node's answers as the site's, readable by its script. Answering only
the names the node is reached by (its API address, localhost, 127.0.0.1, [::1], and the names
in ``[console] hosts``) closes that door: a rebound name is refused with 400 before any route.

The port is not compared: a tunnel or a proxy may forward any port to the node's, and a
rebinding page can choose the port but not the name.
"""

from __future__ import annotations

from collections.abc import Iterable

from hotline.front.asgi import App, Receive, Scope, Send, answer, for_the_api
from hotline.front.refusals import Refusals

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")


def host_name(header: str) -> str:
    """``Host``'s name without its port, lower case: ``[::1]:8080`` -> ``[::1]``."""
    name = header.strip().lower()
    if name.startswith("["):
        return name[: name.find("]") + 1] if "]" in name else name
    return name.rsplit(":", 1)[0] if name.count(":") == 1 else name


def answered_names(api_host: str, configured: Iterable[str]) -> frozenset[str]:
    own = f"[{api_host}]" if ":" in api_host else api_host  # an IPv6 address is bracketed in Host
    return frozenset({*LOOPBACK_NAMES, own.lower(), *(name.lower() for name in configured)})


class HostCheck:
    def __init__(self, app: App, names: frozenset[str], refusals: Refusals) -> None:
        self.app = app
        self.names = names
        self.refusals = refusals

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent = next((value for name, value in scope.get("headers", []) if name.lower() == b"host"), b"")
        name = host_name(sent.decode("latin-1"))
        if name in self.names:
            await self.app(scope, receive, send)
            return
        shown = name[:100] or "(none)"
        self.refusals.note("host", f"a request for the host name {shown!r}, which is not in [console] hosts")
        detail = (
            f"This node does not answer to the host name {shown!r}. Use one it answers to, or add the name "
            "to [console] hosts in its config.toml."
        )
        await answer(send, 400, detail, as_json=for_the_api(scope["path"]))
