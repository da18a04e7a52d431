"""Evidence, export and audit read a node's store through the Store interface, read-only, while
the node's own store stays open on the same file (a real node directory and SQLite file)."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from hotline.envelope import serial
from hotline.errors import NotFoundError, StoreError
from hotline.evidence import audit, export, latest, write_evidence
from hotline.log import Checkpoint, Ed25519Signer, log_origin, sign_checkpoint
from hotline.node.config import NodeConfig, init_node
from hotline.storage import Dispatched, Draft, PeerRecord, SqliteStore, Store
from hotline.testing import Party, sign_envelope
from hotline.verification import parties_known_at, verify_evidence

NOW = 1_795_000_000_000
MESSAGES = 5


@dataclass
class Running:
    config: NodeConfig
    store: Store


async def _fill(config: NodeConfig, store: Store) -> None:
    """What a node leaves: a pinned peer, messages signed and dispatched, a checkpoint."""
    me = Party(config.party, config.signing_key())
    bravo = Party("BRAVO")
    await store.add_peer(PeerRecord("BRAVO", bravo.key.verify_key.raw, b"cert", ("127.0.0.1:1",), "card", NOW))
    draft = Draft("BRAVO", "ROUTINE", "UNCLASSIFIED", "free_text", 1, b"\xa0", None, NOW)
    queued = await store.enqueue([draft] * MESSAGES)
    for index, q in enumerate(queued):
        envelope = sign_envelope(me, "BRAVO", index + 1, number=q.number)
        await store.dispatch(
            [Dispatched(q.number, "BRAVO", index + 1, envelope, bytes([index]) * 32, NOW, 3)], True, index
        )
    signer = Ed25519Signer(log_origin(config.party, config.signing_key().verify_key.raw), config.signing_key())
    await store.make_checkpoint(
        lambda size, root: sign_checkpoint(Checkpoint(signer.name, size, root), [signer]), NOW, 2
    )


@pytest.fixture
async def node(tmp_path: Path) -> AsyncIterator[Running]:
    config = init_node(tmp_path / "alfa", "ALFA", "127.0.0.1:1", "127.0.0.1:2")
    store = SqliteStore(config.store_path)  # stays open: the node is running
    try:
        await _fill(config, store)
        yield Running(config, store)
    finally:
        await store.close()


def _files(config: NodeConfig) -> dict[str, bytes]:
    """The store's data files (the -shm file holds only the readers' locks)."""
    paths = [config.store_path, config.store_path.with_name("store.db-wal")]
    return {path.name: path.read_bytes() for path in paths if path.exists()}


async def test_evidence_of_a_message_verifies_against_the_pinned_keys(node: Running, tmp_path: Path) -> None:
    directory = node.config.directory
    before = _files(node.config)
    checkpoint = latest(directory)
    assert checkpoint.size == MESSAGES
    index, covering = write_evidence(directory, serial("ALFA", 3), tmp_path / "evidence")
    assert (index, covering) == (2, checkpoint)
    trusted = parties_known_at(directory)
    assert set(trusted) == {"ALFA", "BRAVO"}
    verified = verify_evidence(tmp_path / "evidence", trusted)
    assert (verified.index, verified.size, verified.message["serial"]) == (2, MESSAGES, "ALFA-000003")
    assert _files(node.config) == before, "reading wrote nothing"


async def test_a_message_not_in_the_log_has_no_evidence(node: Running, tmp_path: Path) -> None:
    await node.store.enqueue([Draft("BRAVO", "ROUTINE", "UNCLASSIFIED", "free_text", 1, b"\xa0", None, NOW)])
    for message in (serial("ALFA", 6), serial("BRAVO", 1), "ff" * 32):
        with pytest.raises(NotFoundError, match="no signed message"):
            write_evidence(node.config.directory, message, tmp_path / "evidence")
    with pytest.raises(NotFoundError, match="neither a serial"):
        write_evidence(node.config.directory, "nonsense", tmp_path / "evidence")


async def test_the_audit_of_a_sound_log_finds_nothing_and_export_writes_tiles(node: Running, tmp_path: Path) -> None:
    report = audit(node.config.directory)
    assert (report.entries, report.checkpoints, report.positions, report.problems) == (MESSAGES, 3, MESSAGES, [])
    exported = export(node.config.directory, tmp_path / "tiles")
    assert exported.size == MESSAGES
    assert (tmp_path / "tiles" / "checkpoint").read_text() == exported.cosigned_note
    assert (tmp_path / "tiles" / "tile" / "0" / "000.p" / "5").stat().st_size == MESSAGES * 32
    assert (tmp_path / "tiles" / "tile" / "entries" / "000.p" / "5").exists()


async def test_the_audit_sees_a_changed_entry_and_a_wrong_position(node: Running) -> None:
    with sqlite3.connect(node.config.store_path) as conn:
        conn.execute("UPDATE transcript SET obj = x'00' WHERE idx = 1")
        conn.execute("UPDATE outbox SET log_index = 4 WHERE num = 1")
    conn.close()
    problems = audit(node.config.directory).problems
    assert "entry 1: the stored tree does not hold its hash (entry changed?)" in problems
    assert "outbox says entry 1 is its envelope, and it is not" in problems
    assert "outbox says entry 4 is its envelope, and it is not" in problems


def test_a_directory_without_a_store_is_refused_and_left_alone(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="holds no store"):
        latest(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_a_caller_without_an_event_loop_reads_the_same(tmp_path: Path) -> None:
    config = init_node(tmp_path / "alfa", "ALFA", "127.0.0.1:1", "127.0.0.1:2")

    async def stopped_node() -> None:
        store = SqliteStore(config.store_path)
        try:
            await _fill(config, store)
        finally:
            await store.close()

    asyncio.run(stopped_node())
    assert latest(config.directory).size == MESSAGES
    assert audit(config.directory).problems == []
