"""Durable storage behind the narrow ``Store`` interface.

Everything above this package opens a store with ``open_store`` and speaks to it through the
``Store`` protocol only: no caller names the SQLite implementation.
"""

from pathlib import Path

from hotline.storage.alarms import StoredAlarm
from hotline.storage.audit import AuditEntry
from hotline.storage.base import Store
from hotline.storage.postgres import (
    PartyNode,
    PostgresStore,
    active_node,
    card_addresses,
    change_document,
    connected_nodes,
    is_database_url,
    party_nodes,
    read_document,
    register_node,
)
from hotline.storage.postgres import claim as claim_database
from hotline.storage.postgres import describe as describe_database
from hotline.storage.postgres.lease import IDLE_LIMIT_MS
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
    RetiredKey,
    SignedMessage,
    StoredAnswer,
    Undelivered,
)
from hotline.storage.recovery import Recovery, RecoveryBounds, Replay, SentAgain
from hotline.storage.sessions import StoredSession
from hotline.storage.sqlite import SqliteStore
from hotline.storage.witnessing import Equivocation, Evidence, StoredCheckpoint


def open_store(location: Path | str, read_only: bool = False, party: str | None = None) -> Store:
    """The node's store at ``location``, migrated to the current schema: a SQLite file, or a
    PostgreSQL database named by a ``postgresql://`` address (``party``: whose store it is; a
    database of another party is refused). With ``read_only``, the store as it stands, read
    without writing anything (the node may be running). Close it with ``await store.close()``."""
    if is_database_url(location):
        return PostgresStore(str(location), read_only=read_only, party=party)
    return SqliteStore(Path(location), read_only=read_only)


__all__ = [
    "IDLE_LIMIT_MS",
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
    "PartyNode",
    "PeerRecord",
    "PostgresStore",
    "Queued",
    "Recovery",
    "RecoveryBounds",
    "Replay",
    "ReplyTarget",
    "RetiredKey",
    "SentAgain",
    "SignedMessage",
    "SqliteStore",
    "Store",
    "StoredAlarm",
    "StoredAnswer",
    "StoredCheckpoint",
    "StoredSession",
    "Undelivered",
    "active_node",
    "card_addresses",
    "change_document",
    "claim_database",
    "connected_nodes",
    "describe_database",
    "is_database_url",
    "open_store",
    "party_nodes",
    "read_document",
    "register_node",
]
