"""The store's operations, in the SQL that SQLite and PostgreSQL share (``db.py`` says why).

One module per concern, each of plain functions that take the database and run inside the
store's transaction: ``peers``, ``numbering``, ``outbox``, ``inbox``, ``acknowledgements``,
``messages`` (reading rows back), ``transcript`` and ``treelog`` (the log and its Merkle tree),
``witnessing``, ``alarms``, ``audit``. ``store.SqlStore`` queues them; each engine's store
(``hotline.storage.sqlite``, ``hotline.storage.postgres``) commits them in groups.
"""
