"""A TCP relay on loopback in front of a node's listening port: one path of a cable, which the
test (or the benchmark) can pass, cut silently, reset, or slow down, without root or the kernel.

- ``hold()``: a silent cut, as a cable cut behind a router looks: bytes stop in both directions,
  nothing is closed, no reset is sent, new connections are taken and then hear nothing.
- ``release()``: the cut healed; what was held flows on (TCP would retransmit it).
- ``reset()``: every connection through the relay is aborted (a reset each way).
- ``slow(seconds)``: each chunk waits this long before it is passed on (0: full speed again).
"""

from __future__ import annotations

import asyncio
import contextlib

from hotline.testing.process import free_port

CHUNK = 1 << 16


class Relay:
    def __init__(self, target_port: int, host: str = "127.0.0.1") -> None:
        self.host = host
        self.target_port = target_port
        self.port = free_port()
        self.resets = 0  # times reset() cut live connections
        self.holds = 0  # times hold() cut the path silently
        self.accepted = 0  # connections relayed, for tests that count dial attempts
        self.bytes_passed = 0  # both ways: what the path carried
        self.delay = 0.0
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._writers: set[asyncio.StreamWriter] = set()
        self._sessions: set[asyncio.Task[None]] = set()  # one per relayed connection
        self._server: asyncio.Server | None = None

    @property
    def address(self) -> str:
        """What a node advertises to be reached through this relay."""
        return f"{self.host}:{self.port}"

    @property
    def held(self) -> bool:
        return not self._flowing.is_set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._relay, self.host, self.port)

    def hold(self) -> None:
        if not self.held:
            self.holds += 1
        self._flowing.clear()

    def release(self) -> None:
        self._flowing.set()

    def slow(self, seconds: float) -> None:
        self.delay = seconds

    def reset(self) -> None:
        self.resets += 1
        self._abort()

    def _abort(self) -> None:
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def close(self) -> None:
        self.release()
        if self._server is not None:
            self._server.close()
        self._abort()
        await asyncio.gather(*self._sessions, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        session = asyncio.current_task()
        assert session is not None
        self._sessions.add(session)
        try:
            await self._connect(reader, writer)
        finally:
            self._sessions.discard(session)

    async def _connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(self.host, self.target_port)
        except OSError:
            writer.transport.abort()
            return
        self._writers |= {writer, up_writer}
        await asyncio.gather(self._pump(reader, up_writer), self._pump(up_reader, writer))
        self._writers -= {writer, up_writer}

    async def _pump(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, ConnectionError):
            while data := await source.read(CHUNK):
                # Held: the chunk waits here and the kernel's buffers fill behind it; neither end
                # hears anything from the other, and nothing tells either why (a silent cut).
                await self._flowing.wait()
                if self.delay:
                    await asyncio.sleep(self.delay)
                sink.write(data)
                self.bytes_passed += len(data)
                await sink.drain()
        sink.close()


async def relays_in_front(listen: str, count: int) -> list[Relay]:
    """``count`` relays, started, in front of a node listening on ``listen`` (HOST:PORT): one
    per path, for the node to advertise in that order."""
    relays = [Relay(int(listen.rsplit(":", 1)[1])) for _ in range(count)]
    for relay in relays:
        await relay.start()
    return relays
