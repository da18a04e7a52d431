"""One TLS connection to one peer: the thin asyncio shell around ``PeerSession``.

It reads bytes, hands them to the session core, passes events to the node, and writes what
the core wants written. Every decision lives in the core or in the node.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

import structlog

from hotline.errors import LocalProtocolError, RemoteProtocolError
from hotline.node.clock import Clock
from hotline.protocol import Lane, PeerSession, SessionState
from hotline.protocol.events import Event

log = structlog.get_logger("hotline.link")
READ_SIZE = 1 << 16
MAX_UNREAD = 64 << 20  # bytes written but not yet taken by the peer; past this, drop the link
# Envelopes handled between two turns of the event loop. One read can hold hundreds, and each
# costs about 0.3 ms to verify and check; without a pause, a FLASH that reached the other lane
# would wait for all of them. Pausing does not commit: the store commits once per turn only
# when something was written, and the node stores a read's envelopes when the read is done.
ENVELOPES_PER_TURN = 8
LINK_CLOSE_WAIT = 2.0  # seconds a closing link waits for the peer's side of the TLS close


class Link:
    def __init__(
        self,
        session: PeerSession,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        dialed_by: str,
        key: tuple[int, Lane],
        on_event: Callable[[Link, Event], None],
        on_drained: Callable[[Link], None],
        clock: Clock,
    ) -> None:
        self.session = session
        # Monotonic time for the session's timers; wall time, which the hello and the heartbeats
        # carry so that each side can check the other's clock.
        self.clock = clock
        # The grid the session's pings fall due on (``Session.get_timer``): the node sets it.
        self.tick = 0.0
        self.reader = reader
        self.writer = writer
        self.dialed_by = dialed_by
        self.key = key
        self.path, self.lane = key
        self.on_event = on_event
        self.on_drained = on_drained  # called once everything read so far has become events
        self.closed = asyncio.Event()
        self.answered: set[bytes] = set()  # ids of stored answers already resent on this link

    @property
    def peer(self) -> str:
        return self.session.peer

    @property
    def usable(self) -> bool:
        """Open for traffic: not closing, and the session has not ended."""
        return not self.closed.is_set() and self.session.state is SessionState.OPEN

    def send_envelopes(self, envelopes: list[bytes]) -> bool:
        """Write envelopes if the link can carry them; False if it cannot (they stay unreceipted
        and go out again on the next link)."""
        if not self.usable:
            return False
        now = self.clock.monotonic()
        for envelope in envelopes:
            self.session.send_envelope(envelope, now)
        self.flush()
        return True

    def send_answer(self, answer: bytes, is_receipt: bool) -> bool:
        """Write a receipt or rejection if the link can carry it; the peer resends otherwise."""
        if not self.usable:
            return False
        if is_receipt:
            self.session.send_receipt(answer, self.clock.monotonic())
        else:
            self.session.send_rejection(answer, self.clock.monotonic())
        self.flush()
        return True

    def send_witnessing(self, send: Callable[[PeerSession, float], None]) -> bool:
        """Write a witnessing frame (``send(session, now)``) if the link can carry it."""
        if not self.usable:
            return False
        send(self.session, self.clock.monotonic())
        self.flush()
        return True

    async def drain(self) -> None:
        """Wait while the kernel's send buffer is full (flow control toward a slow peer)."""
        with contextlib.suppress(ConnectionError, OSError):
            await self.writer.drain()

    def flush(self) -> None:
        data = self.session.data_to_send()
        if data and not self.writer.is_closing():
            self.writer.write(data)

    async def run(self) -> None:
        """Serve the connection until it closes, fails, or the peer falls silent."""
        try:
            self.session.hello(self.clock.monotonic(), self.clock.wall_ms())
            self.flush()
            while not self.closed.is_set():
                timeout = max(0.0, self.session.get_timer(self.tick) - self.clock.monotonic())
                try:
                    # A timeout, not wait_for: on Python 3.11 wait_for returns the data and
                    # swallows a cancellation that arrives as the read completes, and a stopping
                    # node then served this link until the peer fell silent.
                    async with self.clock.timeout(timeout):
                        data: bytes | None = await self.reader.read(READ_SIZE)
                except TimeoutError:
                    data = await self._already_here()
                if data is None:
                    self._timer()
                    continue
                if not data:
                    dropped = self.session.connection_lost()
                    if dropped:
                        log.warning("truncated frame dropped", peer=self.peer, bytes=dropped)
                    break
                now = self.clock.monotonic()
                self.session.receive_data(data, now)
                handled = 0
                wall = self.clock.wall_ms()
                while (event := self.session.next_event(now, wall)) is not None:
                    self.on_event(self, event)
                    handled += 1
                    if handled % ENVELOPES_PER_TURN == 0:
                        await asyncio.sleep(0)  # let the other lane's reads in
                self.on_drained(self)
                self.flush()
                # Never wait for the peer to read here: if both sides did, under two-way bulk
                # traffic each would stop reading until the other read, and neither would.
                # A peer that does not read at all is cut off instead, before it costs memory.
                unread = self.writer.transport.get_write_buffer_size()
                if unread > MAX_UNREAD:
                    log.warning("peer is not reading; closing the link", peer=self.peer, unread_bytes=unread)
                    break
        except RemoteProtocolError as exc:
            if exc.code == "peer-silent":  # not misbehaviour: nothing heard (a hung peer, a cut path)
                log.warning("peer silent; closing the link", peer=self.peer, lane=self.lane.value, detail=exc.detail)
            else:
                log.warning("peer broke the protocol; closing", peer=self.peer, code=exc.code, detail=exc.detail)
            if not self.writer.is_closing():
                self.writer.write(self.session.error_frame(exc))
        except (ConnectionError, OSError) as exc:
            log.info("connection lost", peer=self.peer, error=str(exc))
        except LocalProtocolError as exc:  # a bug on our side: drop this link, keep the node
            log.exception("local protocol error; closing the link", peer=self.peer, code=exc.code, detail=exc.detail)
        finally:
            self.on_drained(self)  # before any await: what this link accepted is stored first
            await self.close()

    async def _already_here(self) -> bytes | None:
        """Bytes that arrived while the event loop was busy, if any. When the loop wakes late,
        the data and the timeout are due in the same turn and the timeout wins; the data then
        sits read into the buffer, and must be taken before the link is judged silent (or a
        busy node would see its every path fall silent, and resend everything on the next)."""
        read = asyncio.ensure_future(self.reader.read(READ_SIZE))
        await asyncio.sleep(0)  # one turn: a read of buffered bytes finishes in it
        if read.done():
            return read.result()
        read.cancel()
        # Until the cancelled read has ended, the reader counts it as waiting and refuses another.
        # (``wait``, not ``await read``: the read's cancellation is not ours to raise.)
        await asyncio.wait([read])
        return None

    def _timer(self) -> None:
        event = self.session.handle_timer(self.clock.monotonic(), self.clock.wall_ms())
        self.flush()
        if event is not None:
            self.on_event(self, event)

    def refuse(self, code: str, detail: str) -> None:
        """Tell the peer in a frame it can read why this link is not kept, then close it."""
        if not self.writer.is_closing():
            self.writer.write(self.session.error_frame(RemoteProtocolError(code, detail)))
        self.closed.set()
        self.session.connection_lost()
        self.writer.close()

    async def close(self) -> None:
        if self.closed.is_set():
            return
        self.closed.set()
        self.session.connection_lost()
        try:
            self.writer.close()
            async with asyncio.timeout(LINK_CLOSE_WAIT):
                await self.writer.wait_closed()
        except (ConnectionError, OSError, TimeoutError):
            pass
