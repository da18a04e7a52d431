"""Framing: each frame is a 4-byte big-endian length, then that many bytes of canonical CBOR.

The frame body is a map whose ``t`` names the frame type. The length is checked against the
limit *before* the body is buffered, so an oversized frame costs the receiver four bytes of
memory, not the frame.
"""

from __future__ import annotations

import enum
from typing import Any

from hotline.envelope import cbor
from hotline.errors import EncodingError, LocalProtocolError, RemoteProtocolError

LENGTH_BYTES = 4
DEFAULT_MAX_FRAME = 1 << 20  # 1 MiB: a maximal form body is a few tens of kilobytes


class FrameType(enum.StrEnum):
    HELLO = "hello"  # who I am, and where each direction resumes
    ENVELOPE = "env"  # a signed envelope
    RECEIPT = "rcpt"  # a signed receipt
    REJECTION = "rej"  # a signed rejection
    PING = "ping"  # heartbeat; also measures the round trip
    PONG = "pong"  # heartbeat answer
    ERROR = "error"  # the sender found a protocol violation and is closing
    CHECKPOINT = "cp"  # our log's new signed checkpoint, offered to a witness (with its proofs)
    COSIGNATURE = "cosig"  # a witness's cosignature on the log's checkpoint
    CHECKPOINT_REFUSED = "cpno"  # a witness will not cosign, and why
    # Instead of a hello: this node of the party is standing by; dial the active node instead
    # (which, by number, and its addresses), and the lease's epoch as this node read it.
    STANDBY = "standby"
    # On a connection that asked for RECOVERY_ALPN instead of a lane: a node restored from an
    # older backup asks what it lacks (``recover``), and the peer answers in parts (``recovery``).
    RECOVER = "recover"
    RECOVERY = "recovery"


# The ALPN protocol id of a recovery connection (``node/recovery.py``): not a lane, no session.
RECOVERY_ALPN = "hotline-recovery/1"


def encode_frame(kind: FrameType, max_frame: int = DEFAULT_MAX_FRAME, **fields: Any) -> bytes:
    body = cbor.encode({"t": kind.value, **fields})
    if len(body) > max_frame:
        raise LocalProtocolError("frame-too-large", f"{len(body)} bytes exceeds {max_frame}")
    return len(body).to_bytes(LENGTH_BYTES, "big") + body


class FrameReader:
    """Splits a byte stream into decoded frames."""

    def __init__(self, max_frame: int = DEFAULT_MAX_FRAME) -> None:
        self.max_frame = max_frame
        self._buffer = bytearray()

    @property
    def pending(self) -> int:
        """Bytes received that do not yet make a whole frame."""
        return len(self._buffer)

    def feed(self, data: bytes) -> None:
        self._buffer += data

    def next_frame(self) -> tuple[FrameType, dict[str, Any]] | None:
        """The next whole frame, or None until more bytes arrive."""
        if len(self._buffer) < LENGTH_BYTES:
            return None
        length = int.from_bytes(self._buffer[:LENGTH_BYTES], "big")
        if length > self.max_frame:
            raise RemoteProtocolError(
                "frame-too-large", f"frame of {length} bytes exceeds the limit of {self.max_frame}"
            )
        if length == 0:
            raise RemoteProtocolError("malformed-frame", "empty frame")
        if len(self._buffer) < LENGTH_BYTES + length:
            return None
        body = bytes(self._buffer[LENGTH_BYTES : LENGTH_BYTES + length])
        del self._buffer[: LENGTH_BYTES + length]
        return decode_frame(body)


def decode_frame(body: bytes) -> tuple[FrameType, dict[str, Any]]:
    # Frames are not signed, so their encoding need not be canonical (and re-encoding a frame
    # to check it would cost a copy of every envelope). Signed objects inside are checked.
    try:
        value = cbor.decode(body, canonical=False)
    except EncodingError as exc:
        raise RemoteProtocolError("malformed-frame", str(exc)) from None
    if not isinstance(value, dict) or not isinstance(value.get("t"), str):
        raise RemoteProtocolError("malformed-frame", "a frame is a CBOR map with a text 't'")
    try:
        kind = FrameType(value["t"])
    except ValueError:
        raise RemoteProtocolError("unknown-frame", f"unknown frame type {value['t'][:32]!r}") from None
    return kind, value
