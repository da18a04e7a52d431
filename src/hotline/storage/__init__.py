"""Durable storage behind the narrow ``Store`` interface."""

from hotline.storage.base import Store
from hotline.storage.records import (
    Acknowledgement,
    AwaitingAck,
    ChannelState,
    Dispatched,
    Draft,
    InboundStored,
    InboxRow,
    OutboxRow,
    PeerRecord,
    Queued,
    StoredAnswer,
)
from hotline.storage.sqlite import SqliteStore

__all__ = [
    "Acknowledgement",
    "AwaitingAck",
    "ChannelState",
    "Dispatched",
    "Draft",
    "InboundStored",
    "InboxRow",
    "OutboxRow",
    "PeerRecord",
    "Queued",
    "SqliteStore",
    "Store",
    "StoredAnswer",
]
