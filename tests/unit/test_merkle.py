"""The Merkle core against other people's vectors (transparency-dev/merkle) and against itself.

The vectors live outside the repository, in ``../shared/testdata/merkle``; their absence is a
failure, not a skip, because a verifier that was never checked against tampered proofs is not done.
"""

from __future__ import annotations

import ast
import base64
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import hotline.log
from hotline.errors import EncodingError
from hotline.log import (
    EMPTY_ROOT,
    MemoryTree,
    ProofError,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    merkle_root,
    node_hash,
    verify_consistency,
    verify_inclusion,
)

VECTORS = Path(__file__).parents[3] / "shared" / "testdata" / "merkle"
KINDS = ("inclusion", "consistency")

# Vectors that a correct verifier may accept but ours refuses, each with the reason we are stricter.
STRICTER = {
    "consistency/additional/sizes-are-equal-one-and-proof-is-empty.json": (
        "its two equal 'roots' are 12 bytes; every hash must be 32 bytes (README of the vectors)"
    ),
}

# The leaves of the RFC 6962 reference tests, from which the vectors' trees (sizes <= 8) are built.
RFC6962_LEAVES = [
    bytes.fromhex(h)
    for h in ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"]
]


# The vectors are shared data beside the repository, never copied into it (their README says so).
# Where a checkout has no ../shared folder, the tests that read them say plainly why they skipped;
# everything else here (property tests, reasons) runs everywhere.
MISSING = f"the RFC 6962 test vectors are not at {VECTORS} (../shared/testdata/merkle beside the repository)"
needs_vectors = pytest.mark.skipif(not VECTORS.is_dir(), reason=MISSING)


def vector_files() -> list[str]:
    files = [p for kind in KINDS for p in sorted((VECTORS / kind).rglob("*.json"))]
    # Where the folder exists but holds nothing, a sentinel makes the test fail rather than vanish.
    return [p.relative_to(VECTORS).as_posix() for p in files] or ["<missing>"]


def load(name: str) -> dict[str, Any]:
    assert name != "<missing>", f"no Merkle test vectors under {VECTORS}"
    data: dict[str, Any] = json.loads((VECTORS / name).read_text())
    return data


def b64(value: str) -> bytes:
    return base64.b64decode(value, validate=True)


def proof_of(vector: dict[str, Any]) -> list[bytes]:
    return [b64(h) for h in vector["proof"] or []]


def check(name: str, vector: dict[str, Any]) -> None:
    if name.startswith("inclusion/"):
        verify_inclusion(
            b64(vector["leafHash"]), vector["leafIdx"], vector["treeSize"], proof_of(vector), b64(vector["root"])
        )
    else:
        verify_consistency(
            vector["size1"], vector["size2"], b64(vector["root1"]), b64(vector["root2"]), proof_of(vector)
        )


@needs_vectors
def test_vectors_are_present() -> None:
    assert VECTORS.is_dir(), f"Merkle test vectors not found: {VECTORS} (expected ../shared/testdata/merkle)"
    for kind in KINDS:
        assert len(list((VECTORS / kind).rglob("*.json"))) >= 90, f"too few {kind} vectors in {VECTORS}"


@needs_vectors
@pytest.mark.parametrize("name", vector_files())
def test_vector(name: str) -> None:
    vector = load(name)
    if name in STRICTER:
        assert not vector["wantErr"], "a STRICTER entry should only list vectors the reference accepts"
        with pytest.raises(ProofError, match="bytes"):
            check(name, vector)
    elif vector["wantErr"]:
        with pytest.raises(ProofError):
            check(name, vector)
    else:
        check(name, vector)


@needs_vectors
@pytest.mark.parametrize("name", [n for n in vector_files() if n.endswith("happy-path.json")] or ["<missing>"])
def test_generated_proofs_equal_the_happy_path_vectors(name: str) -> None:
    vector = load(name)
    tree = MemoryTree([leaf_hash(leaf) for leaf in RFC6962_LEAVES])
    if name.startswith("inclusion/"):
        size = vector["treeSize"]
        assert tree.root(size) == b64(vector["root"])
        assert tree.inclusion_proof(vector["leafIdx"], size) == proof_of(vector)
    else:
        size1, size2 = vector["size1"], vector["size2"]
        assert (tree.root(size1), tree.root(size2)) == (b64(vector["root1"]), b64(vector["root2"]))
        assert tree.consistency_proof(size1, size2) == proof_of(vector)


# -- examples that name the reason ----------------------------------------------------------------


def test_hashes_are_domain_separated() -> None:
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert leaf_hash(b"").hex() == "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    assert node_hash(b"a", b"b") != leaf_hash(b"ab")
    assert merkle_root([]) == EMPTY_ROOT == MemoryTree().root()


def test_proof_error_is_an_encoding_error_with_a_reason() -> None:
    tree = MemoryTree([leaf_hash(b"%d" % i) for i in range(5)])
    with pytest.raises(EncodingError) as info:
        verify_consistency(5, 3, tree.root(5), tree.root(3), [])
    assert isinstance(info.value, ProofError)
    assert "shrank" in info.value.reason


@pytest.mark.parametrize(
    ("index", "size", "proof_change", "reason"),
    [
        (2, 5, lambda p: p[:-1], "too short"),
        (2, 5, lambda p: [*p, p[0]], "too long"),
        (5, 5, lambda p: p, "not inside"),
        (-1, 5, lambda p: p, "unsigned 64-bit"),
        (2, 5, lambda p: [p[0][:-1], *p[1:]], "31 bytes"),
        (2, 5, lambda p: [p[1], p[0], *p[2:]], "different root"),
    ],
)
def test_inclusion_failures_name_their_reason(index: int, size: int, proof_change: Any, reason: str) -> None:
    tree = MemoryTree([leaf_hash(b"%d" % i) for i in range(5)])
    proof = proof_change(tree.inclusion_proof(2))
    with pytest.raises(ProofError, match=reason):
        verify_inclusion(tree.hash_at(0, 2), index, size, proof, tree.root())


@pytest.mark.parametrize(
    ("old", "new", "proof_change", "reason"),
    [
        (3, 7, lambda p: p[:-1], "too short"),
        (3, 7, lambda p: [*p, p[0]], "too long"),
        (3, 7, lambda _: [], "empty"),
        (0, 7, lambda _: [], "empty tree"),
        (7, 3, lambda _: [], "shrank"),
        (7, 7, lambda p: p, "empty consistency proof"),
        (3, 3, lambda _: [EMPTY_ROOT], "empty consistency proof"),
    ],
)
def test_consistency_failures_name_their_reason(old: int, new: int, proof_change: Any, reason: str) -> None:
    tree = MemoryTree([leaf_hash(b"%d" % i) for i in range(7)])
    proof = proof_change(tree.consistency_proof(3, 7))
    with pytest.raises(ProofError, match=reason):
        verify_consistency(old, new, tree.root(max(old, 0)), tree.root(min(new, 7)), proof)


def test_two_roots_for_one_size_is_refused() -> None:
    a = MemoryTree([leaf_hash(b"a")])
    b = MemoryTree([leaf_hash(b"b")])
    with pytest.raises(ProofError, match="two different roots"):
        verify_consistency(1, 1, a.root(), b.root(), [])
    with pytest.raises(ProofError, match="empty tree"):
        verify_consistency(0, 0, a.root(), a.root(), [])
    verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])


def test_generation_refuses_sizes_it_cannot_prove() -> None:
    tree = MemoryTree([leaf_hash(b"x")] * 4)
    for call in (
        lambda: inclusion_proof(4, 4, tree.hash_at),
        lambda: consistency_proof(0, 4, tree.hash_at),
        lambda: consistency_proof(3, 2, tree.hash_at),
        lambda: tree.consistency_proof(1, 5),
        lambda: tree.hash_at(2, 1),
        lambda: tree.root(5),
        lambda: tree.append(b"short"),
    ):
        with pytest.raises(ValueError):  # each call has its own message
            call()


def test_the_package_is_pure_and_exports_what_it_lists() -> None:
    forbidden = ("asyncio", "sqlite3", "time", "socket", "ssl", "hotline.node", "hotline.storage", "hotline.api")
    for path in Path(hotline.log.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            bad = [n for n in names if any(n == f or n.startswith(f + ".") for f in forbidden)]
            assert not bad, f"{path.name} imports {bad}"
    public = {name for name in vars(hotline.log) if not name.startswith("_")} - {"merkle"}
    assert public == set(hotline.log.__all__)


# -- properties -----------------------------------------------------------------------------------


@st.composite
def trees(draw: st.DrawFn, min_size: int = 1) -> MemoryTree:
    size = draw(st.integers(min_size, 300))
    seed = draw(st.binary(max_size=8))
    return MemoryTree([leaf_hash(seed + i.to_bytes(2, "big")) for i in range(size)])


def flip(value: bytes, position: int, bit: int) -> bytes:
    changed = bytearray(value)
    changed[position % len(changed)] ^= 1 << bit
    return bytes(changed)


FAST = settings(max_examples=60, deadline=None)


@FAST
@given(trees(), st.data())
def test_memory_tree_root_equals_the_recursive_mth(tree: MemoryTree, data: st.DataObject) -> None:
    leaves = [tree.hash_at(0, i) for i in range(tree.size)]
    size = data.draw(st.integers(0, tree.size))
    assert tree.root(size) == merkle_root(leaves[:size])


@FAST
@given(trees(), st.data())
def test_inclusion_proofs_verify_and_any_changed_byte_is_refused(tree: MemoryTree, data: st.DataObject) -> None:
    size = data.draw(st.integers(1, tree.size))
    index = data.draw(st.integers(0, size - 1))
    leaf, root, proof = tree.hash_at(0, index), tree.root(size), tree.inclusion_proof(index, size)
    verify_inclusion(leaf, index, size, proof, root)

    position, bit = data.draw(st.integers(0, 10_000)), data.draw(st.integers(0, 7))
    with pytest.raises(ProofError):
        verify_inclusion(leaf, index, size, proof, flip(root, position, bit))
    if proof:
        element = data.draw(st.integers(0, len(proof) - 1))
        changed = [*proof[:element], flip(proof[element], position, bit), *proof[element + 1 :]]
        with pytest.raises(ProofError):
            verify_inclusion(leaf, index, size, changed, root)


@FAST
@given(trees(min_size=2), st.data())
def test_consistency_proofs_verify_and_any_changed_byte_is_refused(tree: MemoryTree, data: st.DataObject) -> None:
    new = data.draw(st.integers(2, tree.size))
    old = data.draw(st.integers(1, new - 1))
    old_root, new_root, proof = tree.root(old), tree.root(new), tree.consistency_proof(old, new)
    verify_consistency(old, new, old_root, new_root, proof)

    position, bit = data.draw(st.integers(0, 10_000)), data.draw(st.integers(0, 7))
    with pytest.raises(ProofError):
        verify_consistency(old, new, flip(old_root, position, bit), new_root, proof)
    with pytest.raises(ProofError):
        verify_consistency(old, new, old_root, flip(new_root, position, bit), proof)
    element = data.draw(st.integers(0, len(proof) - 1))
    changed = [*proof[:element], flip(proof[element], position, bit), *proof[element + 1 :]]
    with pytest.raises(ProofError):
        verify_consistency(old, new, old_root, new_root, changed)


@FAST
@given(trees(), st.data())
def test_a_proof_for_one_leaf_does_not_prove_another(tree: MemoryTree, data: st.DataObject) -> None:
    index = data.draw(st.integers(0, tree.size - 1))
    other = data.draw(st.integers(0, tree.size - 1).filter(lambda i: i != index)) if tree.size > 1 else None
    if other is not None:
        with pytest.raises(ProofError):
            verify_inclusion(tree.hash_at(0, index), other, tree.size, tree.inclusion_proof(index), tree.root())
