"""Durable storage behind the narrow ``Store`` interface.

Everything above this package opens a store with ``open_store`` and speaks to it through the
``Store`` protocol only: no caller names the SQLite implementation.
"""

from pathlib import Path
from typing import TYPE_CHECKING, Any

from hotline.storage.alarms import StoredAlarm
from hotline.storage.audit import AuditEntry
from hotline.storage.base import Store
from hotline.storage.locations import is_database_url
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

if TYPE_CHECKING:
    from hotline.storage.postgres import (
        PartyNode,
        PostgresStore,
        active_node,
        card_addresses,
        change_document,
        connected_nodes,
        party_nodes,
        read_document,
        register_node,
    )
    from hotline.storage.postgres import claim as claim_database
    from hotline.storage.postgres import describe as describe_database
    from hotline.storage.postgres.lease import IDLE_LIMIT_MS

# The PostgreSQL store's names, loaded when first used: psycopg costs a node that keeps its
# store in SQLite 13 MB of memory, and a machine that runs dozens of nodes (issue 19) pays it
# in each. Name -> (module, its name there).
_POSTGRES = {
    "PartyNode": ("hotline.storage.postgres", "PartyNode"),
    "PostgresStore": ("hotline.storage.postgres", "PostgresStore"),
    "active_node": ("hotline.storage.postgres", "active_node"),
    "card_addresses": ("hotline.storage.postgres", "card_addresses"),
    "change_document": ("hotline.storage.postgres", "change_document"),
    "connected_nodes": ("hotline.storage.postgres", "connected_nodes"),
    "party_nodes": ("hotline.storage.postgres", "party_nodes"),
    "read_document": ("hotline.storage.postgres", "read_document"),
    "register_node": ("hotline.storage.postgres", "register_node"),
    "claim_database": ("hotline.storage.postgres", "claim"),
    "describe_database": ("hotline.storage.postgres", "describe"),
    "IDLE_LIMIT_MS": ("hotline.storage.postgres.lease", "IDLE_LIMIT_MS"),
}


def __getattr__(name: str) -> Any:
    """A PostgreSQL name, imported on first use (PEP 562)."""
    if name not in _POSTGRES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    module, attribute = _POSTGRES[name]
    value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value
    return value


def open_store(location: Path | str, read_only: bool = False, party: str | None = None) -> Store:
    """The node's store at ``location``, migrated to the current schema: a SQLite file, or a
    PostgreSQL database named by a ``postgresql://`` address (``party``: whose store it is; a
    database of another party is refused). With ``read_only``, the store as it stands, read
    without writing anything (the node may be running). Close it with ``await store.close()``."""
    if is_database_url(location):
        from hotline.storage.postgres import PostgresStore

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
