"""The PostgreSQL store: the shared operations (``hotline.storage.sql``) committed in groups by
a thread of its own (``store.py``), its own schema (``schema.py``), and the checks made before
anything is written (``connection.py``). Nothing above ``hotline.storage`` names this package
(``open_store`` opens it, given a ``postgresql://`` address).
"""

from hotline.storage.locations import is_database_url
from hotline.storage.postgres.connection import claim, describe
from hotline.storage.postgres.documents import change_document, read_document
from hotline.storage.postgres.lease import active_node
from hotline.storage.postgres.nodes import PartyNode, card_addresses, connected_nodes, party_nodes, register_node
from hotline.storage.postgres.store import PostgresStore

__all__ = [
    "PartyNode",
    "PostgresStore",
    "active_node",
    "card_addresses",
    "change_document",
    "claim",
    "connected_nodes",
    "describe",
    "is_database_url",
    "party_nodes",
    "read_document",
    "register_node",
]
