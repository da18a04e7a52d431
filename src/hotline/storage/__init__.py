"""Durable storage behind the narrow ``Store`` interface.

Everything above this package opens a store with ``open_store`` and speaks to it through the
``Store`` protocol only: no caller names the SQLite implementation.
"""

from pathlib import Path

from hotline.storage.alarms import StoredAlarm
from hotline.storage.audit import AuditEntry
from hotline.storage.base import Store
from hotline.storage.records import (
    MACHINE_KINDS,
    Acknowledgement,
    AwaitingAck,
    ChannelState,
    Dispatched,
    Draft,
    InboundStored,
    InboxRow,
    LoggedMessage,
    MessageFilter,
    OutboxRow,
    Page,
    PeerRecord,
    Queued,
    ReplyTarget,
    StoredAnswer,
    Undelivered,
)
from hotline.storage.sqlite import SqliteStore
from hotline.storage.witnessing import Equivocation, Evidence, StoredCheckpoint


def open_store(path: Path, read_only: bool = False) -> Store:
    """The node's store at ``path`` (a SQLite file), migrated to the current schema; or, with
    ``read_only``, the existing file as it stands, read without writing anything (the node may
    be running). Close it with ``await store.close()``."""
    return SqliteStore(path, read_only=read_only)


__all__ = [
    "MACHINE_KINDS",
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
    "LoggedMessage",
    "MessageFilter",
    "OutboxRow",
    "Page",
    "PeerRecord",
    "Queued",
    "ReplyTarget",
    "SqliteStore",
    "Store",
    "StoredAlarm",
    "StoredAnswer",
    "StoredCheckpoint",
    "Undelivered",
    "open_store",
]
