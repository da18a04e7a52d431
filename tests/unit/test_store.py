"""The SQLite store against the Store conformance check, on a real file."""

import sqlite3
from pathlib import Path

import pytest

from hotline.errors import StoreError
from hotline.storage import SqliteStore
from hotline.storage import sqlite as sqlite_store
from hotline.testing import check_store_conformance


async def test_sqlite_store_conforms(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "store.db")
    try:
        await check_store_conformance(store)
    finally:
        await store.close()


async def test_durability_settings_are_in_force(tmp_path: Path) -> None:
    conn = sqlite_store.connect(tmp_path / "store.db")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    conn.close()


async def test_concurrent_calls_share_commits(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "store.db")
    try:
        await check_store_conformance(store)
        before = store.commits
        futures = [store.queue_depth("BRAVO") for _ in range(200)]
        for future in futures:
            await future
        assert store.commits - before < 200  # group commit: fewer transactions than calls
    finally:
        await store.close()


def test_a_store_from_a_newer_program_is_refused(tmp_path: Path) -> None:
    conn = sqlite_store.connect(tmp_path / "store.db")
    conn.execute("PRAGMA user_version=99")
    conn.close()
    with pytest.raises(StoreError, match="newer than this program"):
        sqlite_store.connect(tmp_path / "store.db")


async def test_an_engine_failure_fails_every_caller_now_and_later(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "store.db")
    try:
        await store.queue_depth("BRAVO")

        def engine_rolls_back(conn: sqlite3.Connection) -> None:
            # What SQLite does by itself on a full disk or an I/O error: the whole transaction goes.
            conn.execute("ROLLBACK")
            raise sqlite3.OperationalError("database or disk is full")

        doomed = store._call(engine_rolls_back)
        alongside = store.queue_depth("BRAVO")
        with pytest.raises(StoreError, match="the store failed"):
            await doomed
        with pytest.raises(StoreError, match="the store failed"):
            await alongside
        with pytest.raises(StoreError, match="failed earlier"):
            await store.queue_depth("BRAVO")
    finally:
        await store.close()


def test_a_store_from_the_channel_core_is_migrated_and_keeps_its_messages(tmp_path: Path) -> None:
    """A node upgraded from schema 1 keeps every stored row; old messages simply have no deadline."""
    from hotline.storage.migrations import MIGRATIONS

    path = tmp_path / "store.db"
    old = sqlite3.connect(path, isolation_level=None)
    for statement in sqlite_store._statements(MIGRATIONS[0]):
        old.execute(statement)
    old.execute("PRAGMA user_version=1")
    old.execute("INSERT INTO peers VALUES ('BRAVO', x'01', x'02', '[]', 'card', 1)")
    old.execute("INSERT INTO receipts (peer, direction, obj, at_ms) VALUES ('BRAVO', 'sent', x'aa', 5)")
    old.execute(
        "INSERT INTO inbox VALUES ('BRAVO', 1, 1, x'0101', 'FLASH', 'UNCLASSIFIED', 'free_text', x'a0', 1, 2, x'ee', 1)"
    )
    old.close()
    conn = sqlite_store.connect(path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        [row] = sqlite_store._inbox(conn, 10)
        assert (row.peer, row.seq, row.envelope, row.receipt) == ("BRAVO", 1, b"\xee", b"\xaa")
        assert (row.kind_version, row.due_ms, row.ack) == (1, None, None)
        assert sqlite_store._awaiting_ack(conn, "ALFA") == []
    finally:
        conn.close()
