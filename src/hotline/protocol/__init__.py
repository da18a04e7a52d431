"""The sans-I/O session protocol: bytes in, events out, time passed in."""

from hotline.protocol import events
from hotline.protocol.frames import DEFAULT_MAX_FRAME, RECOVERY_ALPN, FrameReader, FrameType, encode_frame
from hotline.protocol.lanes import URGENT_RANK, Lane, lane_of
from hotline.protocol.sequence import REACH, Arrival, InboundSequence
from hotline.protocol.session import PROTOCOL_VERSION, PeerSession
from hotline.protocol.state import SessionState

__all__ = [
    "DEFAULT_MAX_FRAME",
    "PROTOCOL_VERSION",
    "REACH",
    "RECOVERY_ALPN",
    "URGENT_RANK",
    "Arrival",
    "FrameReader",
    "FrameType",
    "InboundSequence",
    "Lane",
    "PeerSession",
    "SessionState",
    "encode_frame",
    "events",
    "lane_of",
]
