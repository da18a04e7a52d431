"""A hand-driven peer for attacking a real node: raw frames over real TLS."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from pathlib import Path
from typing import Any

from hotline.errors import RemoteProtocolError
from hotline.node.config import NodeConfig
from hotline.node.tls import tls_context
from hotline.protocol import PROTOCOL_VERSION, FrameReader, FrameType, Lane, encode_frame


class RawPeer:
    """Speaks to ``target`` as the party whose directory is ``me`` (or with any TLS files)."""

    def __init__(
        self, target: NodeConfig, cert: Path | None, key: Path | None, lane: Lane | None = Lane.ORDINARY
    ) -> None:
        self.target = target
        self.cert, self.key = cert, key
        self.lane = lane  # asked for by ALPN, as a node does; None asks for none
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.frames = FrameReader()

    async def connect(self) -> None:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        if self.cert is not None and self.key is not None:
            ctx = tls_context(False, self.cert, self.key, [self.target.tls_cert_der()])
        else:
            ctx.minimum_version = ssl.TLSVersion.TLSv1_3
            ctx.check_hostname = False
            ctx.load_verify_locations(cadata=ssl.DER_cert_to_PEM_cert(self.target.tls_cert_der()))
        if self.lane is not None:
            ctx.set_alpn_protocols([self.lane.alpn])
        host, port = self.target.listen.rsplit(":", 1)
        self.reader, self.writer = await asyncio.open_connection(host, int(port), ssl=ctx)

    def send(self, data: bytes) -> None:
        assert self.writer is not None
        self.writer.write(data)

    def hello(self, party: str, recv_next: int = 1, send_next: int = 1) -> None:
        self.send(
            encode_frame(
                FrameType.HELLO,
                proto=PROTOCOL_VERSION,
                party=party,
                peer=self.target.party,
                recv_next=recv_next,
                send_next=send_next,
            )
        )

    async def next_frame(self, timeout: float = 10.0) -> tuple[FrameType, dict[str, Any]] | None:
        """The next frame the node sends, skipping heartbeats; None when it closes the link."""
        assert self.reader is not None
        while True:
            try:
                frame = self.frames.next_frame()
            except RemoteProtocolError as exc:
                raise AssertionError(f"the node sent a bad frame: {exc}") from None
            if frame is not None:
                if frame[0] in (FrameType.PING, FrameType.PONG):
                    continue
                return frame
            try:
                data = await asyncio.wait_for(self.reader.read(65536), timeout)
            except (ConnectionError, ssl.SSLError):
                return None
            if not data:
                return None
            self.frames.feed(data)

    async def expect(self, kind: FrameType) -> dict[str, Any]:
        """The next frame, which must be of ``kind``. Checkpoint offers are let by unless one is
        expected: the node makes one whenever a link opens or its log grows, at its own time."""
        passing = () if kind is FrameType.CHECKPOINT else (FrameType.CHECKPOINT,)
        while True:
            frame = await self.next_frame()
            assert frame is not None, f"expected a {kind.value} frame; the node closed the link"
            if frame[0] in passing:
                continue
            assert frame[0] is kind, f"expected a {kind.value} frame, got {frame}"
            return frame[1]

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(ConnectionError, ssl.SSLError):
                await self.writer.wait_closed()
