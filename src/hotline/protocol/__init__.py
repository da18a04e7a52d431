"""The sans-I/O session protocol: bytes in, events out, time passed in."""

from hotline.protocol import events
from hotline.protocol.frames import DEFAULT_MAX_FRAME, FrameReader, FrameType, encode_frame
from hotline.protocol.sequence import Arrival, InboundSequence
from hotline.protocol.session import PROTOCOL_VERSION, PeerSession
from hotline.protocol.state import SessionState

__all__ = [
    "DEFAULT_MAX_FRAME",
    "PROTOCOL_VERSION",
    "Arrival",
    "FrameReader",
    "FrameType",
    "InboundSequence",
    "PeerSession",
    "SessionState",
    "encode_frame",
    "events",
]
