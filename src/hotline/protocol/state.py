"""The session state machine, as a table.

Rules every transition obeys:

1. Each side sends ``hello`` first and exactly once; nothing else is accepted before the
   peer's hello, and a second hello is a violation.
2. Envelopes, receipts, rejections, heartbeats and witnessing flow only while OPEN.
3. An ``error`` frame from either side ends the session: CLOSED accepts nothing.
4. Any (state, frame) pair not in the table is a protocol violation by the peer.
"""

from __future__ import annotations

import enum

from hotline.errors import RemoteProtocolError
from hotline.protocol.frames import FrameType


class SessionState(enum.Enum):
    HANDSHAKE = "handshake"  # our hello is sent; waiting for the peer's
    OPEN = "open"  # both hellos exchanged; traffic flows
    CLOSED = "closed"  # an error was sent or received; the connection is to be dropped


_TRAFFIC = (
    FrameType.ENVELOPE,
    FrameType.RECEIPT,
    FrameType.REJECTION,
    FrameType.PING,
    FrameType.PONG,
    FrameType.CHECKPOINT,
    FrameType.COSIGNATURE,
    FrameType.CHECKPOINT_REFUSED,
)

TRANSITIONS: dict[tuple[SessionState, FrameType], SessionState] = {
    (SessionState.HANDSHAKE, FrameType.HELLO): SessionState.OPEN,
    (SessionState.HANDSHAKE, FrameType.ERROR): SessionState.CLOSED,
    (SessionState.HANDSHAKE, FrameType.STANDBY): SessionState.CLOSED,
    (SessionState.OPEN, FrameType.ERROR): SessionState.CLOSED,
    **{(SessionState.OPEN, frame): SessionState.OPEN for frame in _TRAFFIC},
}


def next_state(state: SessionState, frame: FrameType) -> SessionState:
    try:
        return TRANSITIONS[(state, frame)]
    except KeyError:
        raise RemoteProtocolError(
            "unexpected-frame", f"a {frame.value!r} frame is not allowed in state {state.value}"
        ) from None
