"""The SQLite store against the Store conformance check, on a real file."""

import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from hotline.errors import StoreError
from hotline.storage import Draft, PeerRecord, SqliteStore, open_store
from hotline.storage.sql import acknowledgements, inbox, messages, transcript
from hotline.storage.sqlite import connection
from hotline.storage.sqlite.migrations import MIGRATIONS
from hotline.testing import check_store_conformance


async def test_sqlite_store_conforms(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "store.db")
    try:
        await check_store_conformance(store)
    finally:
        await store.close()


async def test_durability_settings_are_in_force(tmp_path: Path) -> None:
    conn = connection.connect(tmp_path / "store.db")
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
    conn = connection.connect(tmp_path / "store.db")
    conn.execute("PRAGMA user_version=99")
    conn.close()
    with pytest.raises(StoreError, match="newer than this program"):
        connection.connect(tmp_path / "store.db")


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
    path = tmp_path / "store.db"
    old = sqlite3.connect(path, isolation_level=None)
    for statement in connection.statements(MIGRATIONS[0]):
        old.execute(statement)
    old.execute("PRAGMA user_version=1")
    old.execute("INSERT INTO peers VALUES ('BRAVO', x'01', x'02', '[]', 'card', 1)")
    old.execute("INSERT INTO receipts (peer, direction, obj, at_ms) VALUES ('BRAVO', 'sent', x'aa', 5)")
    old.execute(
        "INSERT INTO inbox VALUES ('BRAVO', 1, 1, x'0101', 'FLASH', 'UNCLASSIFIED', 'free_text', x'a0', 1, 2, x'ee', 1)"
    )
    old.close()
    conn = connection.connect(path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        [row] = messages.inbox(conn, 10)
        assert (row.peer, row.seq, row.envelope, row.receipt) == ("BRAVO", 1, b"\xee", b"\xaa")
        assert (row.kind_version, row.due_ms, row.ack) == (1, None, None)
        assert acknowledgements.awaiting_ack(conn, "ALFA") == []
    finally:
        conn.close()


PEER = PeerRecord("BRAVO", b"\x01" * 32, b"cert", ("127.0.0.1:1",), "card", 1)


async def test_an_offline_command_pins_and_lists_peers_through_open_store(tmp_path: Path) -> None:
    store = open_store(tmp_path / "store.db")  # as `hotline peer add` does with the node stopped
    try:
        await store.add_peer(PEER)
    finally:
        await store.close()
    store = open_store(tmp_path / "store.db")
    try:
        assert await store.peers() == [PEER]
    finally:
        await store.close()


async def test_a_read_only_store_reads_what_a_running_node_commits_and_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    node = open_store(path)
    try:
        await node.add_peer(PEER)
        reader = open_store(path, read_only=True)
        try:
            assert await reader.peers() == [PEER]
            await node.enqueue([Draft("BRAVO", "FLASH", "UNCLASSIFIED", "free_text", 1, b"\xa0", None, 10)])
            assert [row.number for row in await reader.outbox()] == [1]  # each group reads afresh
            before = path.read_bytes(), path.with_name("store.db-wal").read_bytes()
            with pytest.raises(StoreError, match="readonly"):
                await reader.add_peer(replace(PEER, party="CHARLIE"))
            assert (path.read_bytes(), path.with_name("store.db-wal").read_bytes()) == before
        finally:
            await reader.close()
        assert [peer.party for peer in await node.peers()] == ["BRAVO"]  # the node carries on
    finally:
        await node.close()


async def test_a_read_only_store_migrates_nothing_and_creates_nothing(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="cannot open"):
        SqliteStore(tmp_path / "store.db", read_only=True)
    assert list(tmp_path.iterdir()) == []
    old = sqlite3.connect(tmp_path / "store.db", isolation_level=None)
    for statement in connection.statements(MIGRATIONS[0]):
        old.execute(statement)
    old.execute("PRAGMA user_version=1")
    old.execute("INSERT INTO peers VALUES ('BRAVO', x'01', x'02', '[]', 'card', 1)")
    old.close()
    store = open_store(tmp_path / "store.db", read_only=True)
    try:
        assert [peer.party for peer in await store.peers()] == ["BRAVO"]
    finally:
        await store.close()
    old = sqlite3.connect(tmp_path / "store.db")
    assert old.execute("PRAGMA user_version").fetchone() == (1,)
    old.close()


def test_a_file_that_is_no_store_is_refused_read_only_too(tmp_path: Path) -> None:
    (tmp_path / "store.db").write_bytes(b"not a database, not at all" * 100)
    with pytest.raises(StoreError, match="not a hotline store"):
        open_store(tmp_path / "store.db", read_only=True)


def test_receipts_stored_before_migration_7_find_their_transcript_entries(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    old = sqlite3.connect(path, isolation_level=None)
    for migration in MIGRATIONS[:6]:
        for statement in connection.statements(migration):
            old.execute(statement)
    old.execute("PRAGMA user_version=6")
    old.execute("INSERT INTO transcript VALUES (0, 'envelope', x'ee', 5), (1, 'receipt', x'aa', 5)")
    old.execute("INSERT INTO transcript VALUES (2, 'receipt', x'bb', 9)")
    old.execute("INSERT INTO receipts (peer, direction, obj, at_ms) VALUES ('BRAVO', 'sent', x'aa', 5)")
    old.execute("INSERT INTO receipts (peer, direction, obj, at_ms) VALUES ('BRAVO', 'received', x'bf', 9)")
    old.execute(
        "INSERT INTO refused (peer, seq, consumed, env_id, envelope, reason, detail, rejection, at_ms) "
        "VALUES ('BRAVO', 2, 1, x'02', x'0102030405', 'invalid-field', 'x', x'cc', 7)"
    )
    old.close()
    conn = connection.connect(path)
    try:
        rows = conn.execute("SELECT obj, log_index FROM receipts ORDER BY id").fetchall()
        assert rows == [(b"\xaa", 1), (b"\xbf", None)], "the damaged one finds no entry"
        assert transcript.check_positions(conn) == (2, [("receipts", None)])
        assert inbox.refused_bytes_kept(conn, "BRAVO", 0) == 5
    finally:
        conn.close()
