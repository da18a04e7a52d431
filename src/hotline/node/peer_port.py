"""The peer port: accepting connections ourselves, so that a connection is admitted
(``protocol/admission.py``) before its TLS handshake costs anything.

``asyncio.start_server(ssl=...)`` gives each accepted connection its TLS buffers at once (about
0.3 MB), whoever it is from, and offers no hook before that: a thousand idle TCP connections
took 300 MB, and at the file-handle limit asyncio stopped accepting for a second at a time and
logged a traceback for each refusal. Here the listening socket is a plain one; each connection
it accepts is admitted or closed at once, and an admitted one is handed to asyncio's TLS with
``connect_accepted_socket``, bounded by the handshake timeout, and cut short if its slot is taken.
(``StreamWriter.start_tls`` was not used: on Python 3.11 a server-side handshake that fails
verification through it hangs until its timeout instead of failing.)

Only a handshake that proves a certificate chaining to a pinned one comes out of this module
(to ``on_link``); every other end is counted by cause in ``Admission.refused`` and logged once
per cause with a count (``OncePerCause``).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import socket
import ssl
import struct
from collections.abc import Awaitable, Callable

from hotline.node.clock import Clock
from hotline.node.config import Bounds
from hotline.node.logs import OncePerCause, reason
from hotline.protocol.admission import Admission, Refusal, source_of

BACKLOG = 128  # connections the kernel holds until they are accepted
ACCEPT_PAUSE = 0.1  # seconds between tries while accept() finds no file handle free
# An accept that finds a connection waiting does not give the loop back: a flood could hold it
# for the whole backlog. The links share that loop; they get their turn every so many accepts.
ACCEPTS_IN_A_ROW = 16
# accept() failures that go away once something closes; anything else is the socket's end.
OUT_OF_RESOURCE = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}

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
        self.timeout = bounds.peer_handshake_timeout
        self.context = context
        self.clock = clock
        self.repeats = repeats
        self._sockets: list[socket.socket] = []
        self._tasks: set[asyncio.Task[None]] = set()  # accepting, handshakes and the links after them
        self._handshakes: dict[int, socket.socket] = {}  # ticket: its connection
        self._started: set[int] = set()  # tickets whose connection asyncio's transport has taken
        self._evicted: set[int] = set()  # tickets cut short, counted when cut

    def listen(self, host: str, port: int, on_link: LinkHandler) -> None:
        """Bind every address ``host`` names (as ``asyncio.start_server`` does) and start
        accepting; ``OSError`` if one cannot be bound."""
        infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        for family, kind, proto, _, address in dict.fromkeys(infos):
            sock = socket.socket(family, kind, proto)
            self._sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:  # one socket per family, as asyncio binds them
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind(address)
            sock.listen(BACKLOG)
            sock.setblocking(False)
        for sock in self._sockets:
            self._spawn(self._accept_forever(sock, on_link))

    @property
    def handshakes(self) -> int:
        """Connections whose handshake is under way now."""
        return self.admission.under_way

    async def close(self) -> None:
        """No new connection, and no handshake goes on (the links are the caller's to close)."""
        for sock in self._sockets:
            sock.close()
        for ticket, conn in self._handshakes.items():
            _cut(conn)
            if ticket not in self._started:
                conn.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _spawn(self, work: Awaitable[None]) -> None:
        task: asyncio.Task[None] = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _accept_forever(self, sock: socket.socket, on_link: LinkHandler) -> None:
        loop = asyncio.get_running_loop()
        accepted = 0
        while True:
            accepted += 1
            if accepted % ACCEPTS_IN_A_ROW == 0:
                await asyncio.sleep(0)
            try:
                conn, address = await loop.sock_accept(sock)
            except OSError as exc:
                if exc.errno not in OUT_OF_RESOURCE:
                    raise
                # Linux reports the socket readable again at once: wait a little, briefly, so
                # that a pinned peer gets in as soon as a handle is free (asyncio waits 1 s).
                self.admission.count(Refusal.ACCEPT)
                self.repeats.note(SAID[Refusal.ACCEPT], "error", error=reason(exc))
                await self.clock.sleep(ACCEPT_PAUSE)
                continue
            self._admit(conn, address, on_link)

    def _admit(self, conn: socket.socket, address: tuple[str, int] | str, on_link: LinkHandler) -> None:
        host = address[0] if isinstance(address, tuple) else address
        decision = self.admission.admit(source_of(host))
        if isinstance(decision, Refusal):
            # Closed before any TLS byte, with a reset: no closing state kept for it either.
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER_RESET)
            conn.close()
            self.repeats.note(SAID[decision])
            return
        if decision.evicted is not None:  # counted by ``admit``; its handshake now fails at once
            self._evicted.add(decision.evicted)
            _cut(self._handshakes[decision.evicted])
            self.repeats.note(SAID[Refusal.EVICTED])
        self._handshakes[decision.ticket] = conn
        self._spawn(self._handshake(conn, decision.ticket, on_link))

    async def _handshake(self, conn: socket.socket, ticket: int, on_link: LinkHandler) -> None:
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader()
        # From here the socket is asyncio's transport's: it closes it, whatever happens.
        self._started.add(ticket)
        try:
            async with self.clock.timeout(self.timeout):
                transport, protocol = await loop.connect_accepted_socket(
                    lambda: asyncio.StreamReaderProtocol(reader), conn, ssl=self.context
                )
        except TimeoutError:
            self._refused(ticket, Refusal.TIMEOUT)
            return
        except (OSError, EOFError) as exc:  # ssl.SSLError is an OSError
            self._refused(ticket, Refusal.HANDSHAKE, reason(exc))
            return
        finally:
            self.admission.release(ticket)  # a pinned certificate, or the end: the slot is free
            self._handshakes.pop(ticket, None)
            self._started.discard(ticket)
            self._evicted.discard(ticket)
        await on_link(reader, asyncio.StreamWriter(transport, protocol, reader, loop))

    def _refused(self, ticket: int, refusal: Refusal, why: str = "") -> None:
        if ticket in self._evicted:  # its end is the cut: counted then
            self._evicted.discard(ticket)
            return
        self.admission.count(refusal)
        said = f"peer port: handshake failed: {why}" if refusal is Refusal.HANDSHAKE else SAID[refusal]
        self.repeats.note(said, "info")

    def unpinned(self) -> None:
        """A handshake passed with a certificate whose key no channel is pinned to (the links
        say so, once per cause): counted here with the port's other refusals."""
        self.admission.count(Refusal.UNPINNED)


LINGER_RESET = struct.pack("ii", 1, 0)  # struct linger: on, 0 seconds


def _cut(conn: socket.socket) -> None:
    """End a connection whose handshake is under way: its transport reads the end at once and
    closes it (closing the socket under the transport would not be safe)."""
    with contextlib.suppress(OSError):
        conn.shutdown(socket.SHUT_RDWR)
