"""Durable storage behind the narrow ``Store`` interface."""

from hotline.storage.alarms import StoredAlarm
from hotline.storage.audit import AuditEntry
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
    Undelivered,
)
from hotline.storage.sqlite import SqliteStore
from hotline.storage.witnessing import Equivocation, Evidence, StoredCheckpoint

__all__ = [
    "Acknowledgement",
    "AuditEntry",
    "AwaitingAck",
    "ChannelState",
    "Dispatched",
    "Draft",
    "Equivocation",
    "Evidence",
    "InboundStored",
    "InboxRow",
    "OutboxRow",
    "PeerRecord",
    "Queued",
    "SqliteStore",
    "Store",
    "StoredAlarm",
    "StoredAnswer",
    "StoredCheckpoint",
    "Undelivered",
]
