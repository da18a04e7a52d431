"""The SQLite store: one file, WAL, ``synchronous=FULL``, group commit (``store.py``).

``connection`` opens and migrates a file (``migrations``); the operations it runs are the
shared ones in ``hotline.storage.sql``. Nothing above ``hotline.storage`` names this package
(``open_store`` opens it).
"""

from hotline.storage.sqlite.connection import connect
from hotline.storage.sqlite.store import SqliteStore

__all__ = ["SqliteStore", "connect"]
