"""A TLS listener that decides who may start a handshake before the handshake costs anything:
the peer port's (``peer_port.py``) and the console's HTTPS listener's (``server.py``).

``asyncio.start_server(ssl=...)`` gives each accepted connection its TLS buffers at once (about
0.3 MB), whoever it is from, and offers no hook before that: a thousand idle TCP connections
took 300 MB, and at the file-handle limit asyncio stopped accepting for a second at a time and
logged a traceback for each refusal. Here the listening socket is a plain one; each connection
it accepts is admitted (``protocol/admission.py``) or closed at once with a reset, and an
admitted one is handed to asyncio's TLS with ``connect_accepted_socket``, bounded by the
handshake timeout, and cut short if its slot is taken. Its slot is given back when the handshake
ends, either way: what the connection is worth after that is its protocol's to judge (the peer
port's links check the pin; the console's HTTP protocol counts its connections).
(``StreamWriter.start_tls`` was not used: on Python 3.11 a server-side handshake that fails
verification through it hangs until its timeout instead of failing.)

Every refusal is counted by the admission and told to ``refused`` (cause and, for a failed
handshake, its reason): the owner decides how it is logged and shown.
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
from hotline.node.logs import reason
from hotline.protocol.admission import Admission, Refusal, source_of

BACKLOG = 128  # connections the kernel holds until they are accepted
ACCEPT_PAUSE = 0.1  # seconds between tries while accept() finds no file handle free
# An accept that finds a connection waiting does not give the loop back: a flood could hold it
# for the whole backlog. The links share that loop; they get their turn every so many accepts.
ACCEPTS_IN_A_ROW = 16
# accept() failures that go away once something closes; anything else is the socket's end.
OUT_OF_RESOURCE = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}
LINGER_RESET = struct.pack("ii", 1, 0)  # struct linger: on, 0 seconds

ProtocolFactory = Callable[[], asyncio.BaseProtocol]
# What follows a finished handshake (the transport and the protocol ``ProtocolFactory`` made).
Opened = Callable[[asyncio.BaseTransport, asyncio.BaseProtocol], Awaitable[None]]
Refused = Callable[[Refusal, str], None]  # a refusal's cause and, for a failed handshake, why


class Doorway:
    def __init__(
        self,
        admission: Admission,
        timeout: float,
        context: ssl.SSLContext,
        clock: Clock,
        refused: Refused,
    ) -> None:
        self.admission = admission
        self.timeout = timeout
        self.context = context
        self.clock = clock
        self.refused = refused
        self._sockets: list[socket.socket] = []
        self._accepting: list[asyncio.Task[None]] = []
        self._tasks: set[asyncio.Task[None]] = set()  # accepting, handshakes and what follows them
        self._handshakes: dict[int, socket.socket] = {}  # ticket: its connection
        self._started: set[int] = set()  # tickets whose connection asyncio's transport has taken
        self._evicted: set[int] = set()  # tickets cut short, counted when cut

    def serve(self, sock: socket.socket, factory: ProtocolFactory, opened: Opened | None = None) -> None:
        """Accept on ``sock`` (bound; listened on here) from now on, until ``close``; each
        admitted connection that finishes its handshake gets a protocol from ``factory``, then
        ``opened`` is awaited with it."""
        sock.listen(BACKLOG)
        sock.setblocking(False)
        self._sockets.append(sock)
        self._accepting.append(self._spawn(self._accept_forever(sock, factory, opened)))

    def stop_accepting(self) -> None:
        """No new connection, and every handshake under way is cut (``wait_closed`` waits for
        them to end); what followed a finished handshake goes on."""
        for task in self._accepting:
            task.cancel()
        for sock in self._sockets:
            sock.close()
        for ticket, conn in self._handshakes.items():
            _cut(conn)
            if ticket not in self._started:
                conn.close()

    async def wait_closed(self) -> None:
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def close(self) -> None:
        """No new connection, no handshake goes on, and what followed them is cancelled."""
        self.stop_accepting()
        for task in self._tasks:
            task.cancel()
        await self.wait_closed()

    def _spawn(self, work: Awaitable[None]) -> asyncio.Task[None]:
        task: asyncio.Task[None] = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _accept_forever(self, sock: socket.socket, factory: ProtocolFactory, opened: Opened | None) -> None:
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
                self.refused(Refusal.ACCEPT, reason(exc))
                await self.clock.sleep(ACCEPT_PAUSE)
                continue
            self._admit(conn, address, factory, opened)

    def _admit(
        self, conn: socket.socket, address: tuple[str, int] | str, factory: ProtocolFactory, opened: Opened | None
    ) -> None:
        host = address[0] if isinstance(address, tuple) else address
        decision = self.admission.admit(source_of(host))
        if isinstance(decision, Refusal):
            # Closed before any TLS byte, with a reset: no closing state kept for it either.
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER_RESET)
            conn.close()
            self.refused(decision, "")
            return
        if decision.evicted is not None:  # counted by ``admit``; its handshake now fails at once
            self._evicted.add(decision.evicted)
            _cut(self._handshakes[decision.evicted])
            self.refused(Refusal.EVICTED, "")
        self._handshakes[decision.ticket] = conn
        self._spawn(self._handshake(conn, decision.ticket, factory, opened))

    async def _handshake(
        self, conn: socket.socket, ticket: int, factory: ProtocolFactory, opened: Opened | None
    ) -> None:
        loop = asyncio.get_running_loop()
        # From here the socket is asyncio's transport's: it closes it, whatever happens.
        self._started.add(ticket)
        try:
            async with self.clock.timeout(self.timeout):
                transport, protocol = await loop.connect_accepted_socket(factory, conn, ssl=self.context)
        except TimeoutError:
            self._refused(ticket, Refusal.TIMEOUT)
            return
        except (OSError, EOFError) as exc:  # ssl.SSLError is an OSError
            self._refused(ticket, Refusal.HANDSHAKE, reason(exc))
            return
        finally:
            self.admission.release(ticket)  # a finished handshake, or the end: the slot is free
            self._handshakes.pop(ticket, None)
            self._started.discard(ticket)
            self._evicted.discard(ticket)
        if opened is not None:
            await opened(transport, protocol)

    def _refused(self, ticket: int, refusal: Refusal, why: str = "") -> None:
        if ticket in self._evicted:  # its end is the cut: counted then
            self._evicted.discard(ticket)
            return
        self.admission.count(refusal)
        self.refused(refusal, why)


def _cut(conn: socket.socket) -> None:
    """End a connection whose handshake is under way: its transport reads the end at once and
    closes it (closing the socket under the transport would not be safe)."""
    with contextlib.suppress(OSError):
        conn.shutdown(socket.SHUT_RDWR)
