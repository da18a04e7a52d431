"""The transcript tree on disk agrees with the in-memory reference tree, however it was appended."""

import sqlite3
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.errors import StoreError
from hotline.log import Frontier, MemoryTree, consistency_proof, inclusion_proof, leaf_hash, verify_inclusion
from hotline.storage.sql.treelog import append_leaves, grow_to_transcript, subtree_hashes, tree_root, tree_size
from hotline.storage.sqlite import connect


def fresh(tmp_path: Path) -> sqlite3.Connection:
    return connect(tmp_path / "store.db")


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 40), min_size=1, max_size=8))
def test_batched_appends_give_the_reference_tree(tmp_path_factory: pytest.TempPathFactory, batches: list[int]) -> None:
    conn = fresh(tmp_path_factory.mktemp("tree"))
    reference = MemoryTree()
    size = 0
    for count in batches:
        entries = [f"entry {size + i}".encode() for i in range(count)]
        append_leaves(conn, size, entries)
        for entry in entries:
            reference.append(leaf_hash(entry))
        size += count
        assert tree_size(conn) == size
        assert tree_root(conn, size) == reference.root()
    stored = subtree_hashes(conn)
    for old in range(1, size):
        assert consistency_proof(old, size, stored) == reference.consistency_proof(old, size)
    for index in range(size):
        proof = inclusion_proof(index, size, stored)
        verify_inclusion(leaf_hash(f"entry {index}".encode()), index, size, proof, reference.root())


def test_a_store_without_a_tree_grows_one_from_its_transcript(tmp_path: Path) -> None:
    conn = fresh(tmp_path)
    entries = [f"signed object {i}".encode() for i in range(23)]
    conn.executemany("INSERT INTO transcript (idx, kind, obj, at_ms) VALUES (?, 'envelope', ?, 0)", enumerate(entries))
    assert tree_size(conn) == 0
    assert grow_to_transcript(conn, batch=5) == 23
    assert tree_root(conn, 23) == MemoryTree([leaf_hash(e) for e in entries]).root()
    assert grow_to_transcript(conn) == 0


def test_a_missing_hash_is_an_error_not_a_wrong_answer(tmp_path: Path) -> None:
    conn = fresh(tmp_path)
    append_leaves(conn, 0, [b"a", b"b", b"c"])
    conn.execute("DELETE FROM tree_hashes WHERE level=1")
    with pytest.raises(StoreError, match=r"lacks the subtree hash \(1, 0\)"):
        tree_root(conn, 3)


@given(st.integers(0, 300))
def test_the_frontier_gives_every_root_in_log_space(size: int) -> None:
    frontier, reference = Frontier(), MemoryTree()
    for i in range(size):
        leaf = leaf_hash(i.to_bytes(4, "big"))
        frontier.append(leaf)
        reference.append(leaf)
    assert frontier.root() == reference.root()
    assert frontier.size == size
