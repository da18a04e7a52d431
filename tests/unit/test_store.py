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
