"""Serials after a restore: no serial the peer already holds is given again (a real SQLite file)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hotline.storage import Draft, PeerRecord, SqliteStore

NOW = 1_795_000_000_000


def _draft(text: bytes = b"\xa0") -> Draft:
    return Draft("GENSTAB", "ROUTINE", "UNCLASSIFIED", "free_text", 1, text, None, NOW)


async def _opened(path: Path) -> SqliteStore:
    store = SqliteStore(path)
    await store.add_peer(PeerRecord("GENSTAB", b"k" * 32, b"cert", ("127.0.0.1:1",), "card", NOW))
    return store


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    store = await _opened(tmp_path / "store.db")
    try:
        yield store
    finally:
        await store.close()


async def test_serials_held_by_the_peer_are_skipped(store: SqliteStore) -> None:
    [first, second] = await store.enqueue([_draft(), _draft()])
    assert (first.number, second.number) == (1, 2)
    assert await store.skip_held_serials("GENSTAB", 9, NOW) == 10  # the peer holds up to 9: a restore lost them
    [third] = await store.enqueue([_draft()])
    assert third.number == 10


async def test_nothing_moves_when_the_peer_holds_fewer(store: SqliteStore) -> None:
    await store.enqueue([_draft(), _draft(), _draft()])
    assert await store.skip_held_serials("GENSTAB", 2, NOW) is None
    assert await store.skip_held_serials("GENSTAB", 3, NOW) is None
    [next_one] = await store.enqueue([_draft()])
    assert next_one.number == 4


async def test_a_floor_never_goes_down_and_survives_a_restart(tmp_path: Path) -> None:
    store = await _opened(tmp_path / "store.db")
    assert await store.skip_held_serials("GENSTAB", 20, NOW) == 21
    assert await store.skip_held_serials("GENSTAB", 5, NOW) is None
    await store.close()
    store = SqliteStore(tmp_path / "store.db")
    try:
        [queued] = await store.enqueue([_draft()])
        assert queued.number == 21
    finally:
        await store.close()
