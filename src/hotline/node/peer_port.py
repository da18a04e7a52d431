"""The peer port: a ``Doorway`` (``doorway.py``) in front of the links, so that a connection is
admitted (``protocol/admission.py``) before its TLS handshake costs anything.

Only a handshake that proves a certificate chaining to a pinned one comes out of this module
(to ``on_link``); every other end is counted by cause in ``Admission.refused`` and logged once
per cause with a count (``OncePerCause``).
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections.abc import Awaitable, Callable

from hotline.node.clock import Clock
from hotline.node.config import Bounds
from hotline.node.doorway import Doorway
from hotline.node.logs import OncePerCause
from hotline.protocol.admission import Admission, Refusal

# What an operator reads for each cause (said once, then counted: ``OncePerCause``).
SAID = {
    Refusal.BUSY: "peer port: connection refused, every handshake slot is taken (peer_handshakes)",
    Refusal.SOURCE: "peer port: connection refused, its address holds its share of handshakes"
    " (peer_handshakes_per_source)",
    Refusal.EVICTED: "peer port: handshake cut short, its slot went to an address that held fewer",
    Refusal.TIMEOUT: "peer port: handshake not finished in time (peer_handshake_timeout)",
    Refusal.ACCEPT: "peer port: cannot accept connections",
}
LinkHandler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class PeerPort:
    def __init__(self, bounds: Bounds, context: ssl.SSLContext, clock: Clock, repeats: OncePerCause) -> None:
        self.admission = Admission(bounds.peer_handshakes, bounds.peer_handshakes_per_source)
        self.repeats = repeats
        self.doorway = Doorway(self.admission, bounds.peer_handshake_timeout, context, clock, self._say)

    def listen(self, host: str, port: int, on_link: LinkHandler) -> None:
        """Bind every address ``host`` names (as ``asyncio.start_server`` does) and start
        accepting; ``OSError`` if one cannot be bound."""
        infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        bound = []
        try:
            for family, kind, proto, _, address in dict.fromkeys(infos):
                sock = socket.socket(family, kind, proto)
                bound.append(sock)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                if family == socket.AF_INET6:  # one socket per family, as asyncio binds them
                    sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                sock.bind(address)
        except OSError:
            for sock in bound:
                sock.close()
            raise

        async def opened(transport: asyncio.BaseTransport, protocol: asyncio.BaseProtocol) -> None:
            assert isinstance(protocol, _LinkProtocol)
            assert isinstance(transport, asyncio.Transport)
            writer = asyncio.StreamWriter(transport, protocol, protocol.reader, asyncio.get_running_loop())
            await on_link(protocol.reader, writer)

        for sock in bound:
            self.doorway.serve(sock, _LinkProtocol, opened)

    @property
    def handshakes(self) -> int:
        """Connections whose handshake is under way now."""
        return self.admission.under_way

    async def close(self) -> None:
        """No new connection, and no handshake goes on (the links are the caller's to close)."""
        await self.doorway.close()

    def _say(self, refusal: Refusal, why: str) -> None:
        if refusal is Refusal.HANDSHAKE:  # a scanner is not news
            self.repeats.note(f"peer port: handshake failed: {why}", "info")
        elif refusal is Refusal.TIMEOUT:
            self.repeats.note(SAID[refusal], "info")
        elif refusal is Refusal.ACCEPT:
            self.repeats.note(SAID[refusal], "error", error=why)
        else:
            self.repeats.note(SAID[refusal])

    def unpinned(self) -> None:
        """A handshake passed with a certificate whose key no channel is pinned to (the links
        say so, once per cause): counted here with the port's other refusals."""
        self.admission.count(Refusal.UNPINNED)


class _LinkProtocol(asyncio.StreamReaderProtocol):
    """A link's stream protocol, keeping its reader for the link's ``StreamWriter``."""

    def __init__(self) -> None:
        self.reader = asyncio.StreamReader()
        super().__init__(self.reader)
