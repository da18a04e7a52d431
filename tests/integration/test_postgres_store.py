"""The PostgreSQL store on a real server: the same conformance check as SQLite, its group
commit and durability settings, and every way the database named can be wrong."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator

import psycopg
import pytest

from hotline.errors import StoreError
from hotline.storage import PostgresStore, open_store
from hotline.storage.postgres.schema import MIGRATIONS
from hotline.testing import check_store_conformance
from hotline.testing.postgres import PostgresServer

_names = itertools.count()


def fresh(postgres: PostgresServer) -> str:
    return postgres.create_database(f"store{next(_names)}")


def tables(url: str) -> list[str]:
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1").fetchall()
    return [name for (name,) in rows]


@pytest.fixture
async def store(postgres: PostgresServer) -> AsyncIterator[PostgresStore]:
    opened = open_store(fresh(postgres), party="ALPHA")
    assert isinstance(opened, PostgresStore)
    yield opened
    await opened.close()


async def test_postgres_store_conforms(store: PostgresStore) -> None:
    await check_store_conformance(store)


async def test_concurrent_calls_share_commits_and_commits_are_synchronous(store: PostgresStore) -> None:
    await check_store_conformance(store)
    before = store.commits
    futures = [store.queue_depth("BRAVO") for _ in range(200)]
    for future in futures:
        await future
    assert store.commits - before < 200  # group commit: fewer transactions than calls
    with psycopg.connect(store.url) as conn:
        assert conn.execute("SHOW fsync").fetchone() == ("on",)
    assert store._conn.execute("SHOW synchronous_commit").fetchone() == ("on",)


async def test_a_committed_store_is_read_back_by_a_reader_that_writes_nothing(store: PostgresStore) -> None:
    await check_store_conformance(store)
    reader = open_store(store.url, read_only=True)
    try:
        assert [p.party for p in await reader.peers()] == ["BRAVO"]
        assert await reader.transcript_size() == await store.transcript_size()
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            await reader.raise_alarm("link-down", "BRAVO", None, "watch", {}, 1)
        assert await store.open_alarms() == []
    finally:
        await reader.close()


def test_an_unreachable_database_is_a_clear_error_at_once(postgres: PostgresServer) -> None:
    dead = f"postgresql://hotline@127.0.0.1:{postgres.port + 1}/nothing?connect_timeout=2"
    with pytest.raises(StoreError, match=r"cannot reach the database at postgresql://127\.0\.0\.1:\d+/nothing"):
        open_store(dead, party="ALPHA")


def test_a_database_that_does_not_exist_is_named(postgres: PostgresServer) -> None:
    with pytest.raises(StoreError, match='database "nowhere" does not exist'):
        open_store(postgres.url("nowhere"), party="ALPHA")


def test_an_address_postgresql_cannot_read_is_refused(postgres: PostgresServer) -> None:
    with pytest.raises(StoreError, match="not one PostgreSQL reads"):
        open_store("postgresql://hotline@127.0.0.1:1/x?bogus_option=1", party="ALPHA")


async def test_another_partys_database_is_refused_and_left_as_it_was(postgres: PostgresServer) -> None:
    url = fresh(postgres)
    bravo = open_store(url, party="BRAVO")
    await check_store_conformance(bravo)
    size = await bravo.transcript_size()
    await bravo.close()
    with pytest.raises(StoreError, match="is BRAVO's store, not ALPHA's"):
        open_store(url, party="ALPHA")
    again = open_store(url, party="BRAVO")
    try:
        assert await again.transcript_size() == size
    finally:
        await again.close()


async def test_a_newer_schema_is_refused_and_left_as_it_was(postgres: PostgresServer) -> None:
    url = fresh(postgres)
    await open_store(url, party="ALPHA").close()
    newer = len(MIGRATIONS) + 1
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("UPDATE store_meta SET version = %s", (newer,))
    before = tables(url)
    with pytest.raises(StoreError, match=f"at schema {newer}, newer than this program"):
        open_store(url, party="ALPHA")
    assert tables(url) == before


def test_a_database_holding_something_else_is_refused_untouched(postgres: PostgresServer) -> None:
    url = fresh(postgres)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE payroll (name TEXT)")
    with pytest.raises(StoreError, match="holds 1 tables but is not a hotline store"):
        open_store(url, party="ALPHA")
    assert tables(url) == ["payroll"]
