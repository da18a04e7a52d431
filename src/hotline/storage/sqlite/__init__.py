"""The SQLite store: one file, WAL, ``synchronous=FULL``, group commit (``store.py``).

One module per concern, each of plain functions that take the connection and run inside the
writer's transaction: ``connection`` (open, migrate; ``migrations``), ``peers``, ``numbering``,
``outbox``, ``inbox``, ``acknowledgements``, ``messages`` (reading rows back), ``transcript`` and
``treelog`` (the log and its Merkle tree), ``witnessing``, ``alarms``, ``audit``. ``SqliteStore``
queues them; nothing above ``hotline.storage`` names this package (``open_store`` opens it).
"""

from hotline.storage.sqlite.connection import connect
from hotline.storage.sqlite.peers import add_peer, list_peers
from hotline.storage.sqlite.store import SqliteStore

__all__ = ["SqliteStore", "add_peer", "connect", "list_peers"]
