"""One TLS connection to one peer: the thin asyncio shell around ``PeerSession``.

It reads bytes, hands them to the session core, passes events to the node, and writes what
the core wants written. Every decision lives in the core or in the node.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import structlog

from hotline.errors import RemoteProtocolError
from hotline.protocol import PeerSession
from hotline.protocol.events import Event

log = structlog.get_logger("hotline.link")
READ_SIZE = 1 << 16


class Link:
    def __init__(
        self,
        session: PeerSession,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        dialed_by: str,
        on_event: Callable[[Link, Event], Awaitable[None] | None],
    ) -> None:
        self.session = session
        self.reader = reader
        self.writer = writer
        self.dialed_by = dialed_by
        self.on_event = on_event
        self.closed = asyncio.Event()
        self.opened_at = time.monotonic()

    @property
    def peer(self) -> str:
        return self.session.peer

    def flush(self) -> None:
        data = self.session.data_to_send()
        if data and not self.writer.is_closing():
            self.writer.write(data)

    async def run(self) -> None:
        """Serve the connection until it closes, fails, or the peer falls silent."""
        try:
            self.session.hello(time.monotonic())
            self.flush()
            while not self.closed.is_set():
                timeout = max(0.0, self.session.get_timer() - time.monotonic())
                try:
                    data = await asyncio.wait_for(self.reader.read(READ_SIZE), timeout)
                except TimeoutError:
                    self.session.handle_timer(time.monotonic())
                    self.flush()
                    continue
                if not data:
                    dropped = self.session.connection_lost()
                    if dropped:
                        log.warning("truncated frame dropped", peer=self.peer, bytes=dropped)
                    break
                now = time.monotonic()
                self.session.receive_data(data, now)
                while (event := self.session.next_event(now)) is not None:
                    result = self.on_event(self, event)
                    if result is not None:
                        await result
                self.flush()
        except RemoteProtocolError as exc:
            log.warning("peer broke the protocol; closing", peer=self.peer, code=exc.code, detail=exc.detail)
            if not self.writer.is_closing():
                self.writer.write(self.session.error_frame(exc))
        except (ConnectionError, OSError) as exc:
            log.info("connection lost", peer=self.peer, error=str(exc))
        finally:
            await self.close()

    async def close(self) -> None:
        if self.closed.is_set():
            return
        self.closed.set()
        self.session.connection_lost()
        try:
            self.writer.close()
            await asyncio.wait_for(self.writer.wait_closed(), 2.0)
        except (ConnectionError, OSError, TimeoutError):
            pass
