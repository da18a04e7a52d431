"""RFC 6962 / RFC 9162 Merkle trees over SHA-256: hashing, proofs, and their verification.

Theory of operation
-------------------

A log of n entries has one root, the Merkle Tree Hash MTH (RFC 9162 §2.1.1). For n > 1 it splits
at k, the largest power of two below n, so the left part is always a *perfect* subtree of k leaves
and only the right border is ragged. Every hash the tree ever needs is therefore either a perfect
subtree -- named ``(level, index)``: the 2**level leaves starting at ``index * 2**level`` -- or is
built from a few of them along the right border. That is the shape C2SP tlog-tiles stores, and it
is why proof *generation* here takes a ``SubtreeHash`` function rather than a list of leaves: the
store can answer from hashes it has on disk and the tree never has to be in memory whole.
``MemoryTree`` is the in-memory answer, for tests and for small logs.

Proof *verification* never sees the tree. It follows the algorithms of RFC 9162 §2.1.3.2
(inclusion) and §2.1.4.2 (consistency) step by step, with bit arithmetic on the last index of each
tree. Anything that does not verify raises ``ProofError`` naming the reason; nothing returns False,
so a caller cannot forget to look.

Stricter than the letter of RFC 9162, on purpose:

* every hash (leaf hash, root, proof element) must be exactly 32 bytes -- a truncated or padded
  hash is malformed input, not a mismatch to be discovered by luck;
* sizes and indexes must fit an unsigned 64-bit integer, as they do on the wire;
* a consistency proof from the empty tree is refused (as the transparency-dev reference verifier
  does): it would prove nothing, and a verifier holding size 0 has nothing to check against;
* two trees of size 0 must both have the empty-tree root.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

from hotline.errors import EncodingError

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "Frontier",
    "MemoryTree",
    "ProofError",
    "SubtreeHash",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "merkle_root",
    "node_hash",
    "perfect_subtrees",
    "subtree_root",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
# RFC 9162 §2.1.1: the hash of an empty list is the hash of an empty string.
EMPTY_ROOT = hashlib.sha256(b"").digest()
# Domain separation (RFC 6962 §2.1): a leaf can never be passed off as an interior node.
_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"
_MAX_UINT64 = (1 << 64) - 1

SubtreeHash = Callable[[int, int], bytes]
"""``get_hash(level, index)``: the hash of the perfect subtree of 2**level leaves starting at leaf
``index * 2**level``. Proof generation only ever asks for subtrees that lie wholly inside the tree."""


class ProofError(EncodingError):
    """A Merkle inclusion or consistency proof does not verify. ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"invalid Merkle proof: {reason}")
        self.reason = reason


# -- hashing -------------------------------------------------------------------------------------


def leaf_hash(data: bytes) -> bytes:
    """SHA-256(0x00 || data): the hash of one log entry (RFC 9162 §2.1.1)."""
    return hashlib.sha256(_LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right): the hash of an interior node (RFC 9162 §2.1.1)."""
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly smaller than n (n >= 2): where MTH splits n leaves."""
    return 1 << ((n - 1).bit_length() - 1)


def merkle_root(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH over a list of leaf hashes, by the recursive definition of RFC 9162 §2.1.1.

    Meant for small lists and as the reference the other functions are tested against; a log of
    real size computes its root with ``subtree_root`` over stored hashes.
    """
    n = len(leaf_hashes)
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return leaf_hashes[0]
    k = _split(n)
    return node_hash(merkle_root(leaf_hashes[:k]), merkle_root(leaf_hashes[k:]))


def subtree_root(start: int, end: int, get_hash: SubtreeHash) -> bytes:
    """MTH of the leaves ``[start, end)``, built from perfect subtrees.

    Only ranges that the MTH recursion itself produces are valid: ``start`` is 0, or a multiple of
    the largest power of two not exceeding ``end - start``. Such a range is either one perfect
    subtree (one lookup) or a perfect left part and a smaller range of the same kind on its right,
    so a tree of size n costs at most log2(n) + 1 lookups.
    """
    n = end - start
    if n <= 0:
        raise ValueError(f"empty or negative range [{start}, {end})")
    if n & (n - 1) == 0:
        level = n.bit_length() - 1
        if start % n:
            raise ValueError(f"range [{start}, {end}) is not aligned to a subtree")
        return get_hash(level, start >> level)
    mid = start + _split(n)
    return node_hash(subtree_root(start, mid, get_hash), subtree_root(mid, end, get_hash))


# -- proof generation (RFC 9162 §2.1.3.1 PATH and §2.1.4.1 SUBPROOF) ------------------------------


def inclusion_proof(index: int, size: int, get_hash: SubtreeHash) -> list[bytes]:
    """PATH(index, D[size]): the sibling hashes from leaf ``index`` up to the root, lowest first.

    The recursion is walked top-down, keeping the half that holds the leaf and recording the other
    half's hash; PATH lists those siblings bottom-up, hence the final reverse.
    """
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is not inside a tree of size {size}")
    path: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        mid = start + _split(end - start)
        if index < mid:
            path.append(subtree_root(mid, end, get_hash))
            end = mid
        else:
            path.append(subtree_root(start, mid, get_hash))
            start = mid
    path.reverse()
    return path


def consistency_proof(old_size: int, new_size: int, get_hash: SubtreeHash) -> list[bytes]:
    """PROOF(old_size, D[new_size]) = SUBPROOF(old_size, D[new_size], true), lowest first.

    Walks down to the subtree that ends exactly at ``old_size``, recording the hash of each half
    left behind. That last subtree's own hash joins the proof only if the walk ever went right
    (the SUBPROOF flag b turned false): otherwise it is the old root itself, which the verifier has.
    """
    if not 0 < old_size <= new_size:
        raise ValueError(f"no consistency proof from size {old_size} to size {new_size}")
    path: list[bytes] = []
    start, end = 0, new_size
    old_root_is_known = True
    while old_size < end:
        mid = start + _split(end - start)
        if old_size <= mid:
            path.append(subtree_root(mid, end, get_hash))
            end = mid
        else:
            path.append(subtree_root(start, mid, get_hash))
            start = mid
            old_root_is_known = False
    if not old_root_is_known:
        path.append(subtree_root(start, end, get_hash))
    path.reverse()
    return path


# -- verification (RFC 9162 §2.1.3.2 and §2.1.4.2) ------------------------------------------------


def _check_hash(what: str, value: bytes) -> None:
    if len(value) != HASH_SIZE:
        raise ProofError(f"{what} is {len(value)} bytes, not {HASH_SIZE}")


def _check_uint64(what: str, value: int) -> None:
    if not 0 <= value <= _MAX_UINT64:
        raise ProofError(f"{what} {value} is not an unsigned 64-bit integer")


def _check_proof(proof: Sequence[bytes]) -> None:
    for i, element in enumerate(proof):
        _check_hash(f"proof element {i}", element)


def _shift_to_set_bit(fn: int, sn: int) -> tuple[int, int]:
    """Right-shift fn and sn together until the low bit of fn is set or fn is 0.

    This skips the levels where the node on our path is the right border with no sibling: RFC 9162
    promotes such a node unchanged, so no proof element is consumed there.
    """
    while fn and not fn & 1:
        fn >>= 1
        sn >>= 1
    return fn, sn


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> None:
    """Check that ``leaf`` (a leaf hash) is entry ``index`` of the tree of ``size`` with ``root``.

    RFC 9162 §2.1.3.2: fn walks the leaf's index up the tree and sn the last index; a set low bit
    of fn, or fn reaching the right border (fn == sn), means the proof element is a left sibling.
    """
    _check_uint64("leaf index", index)
    _check_uint64("tree size", size)
    _check_hash("leaf hash", leaf)
    _check_hash("root", root)
    _check_proof(proof)
    if index >= size:
        raise ProofError(f"leaf index {index} is not inside a tree of size {size}")
    fn, sn, r = index, size - 1, leaf
    for element in proof:
        if sn == 0:
            raise ProofError("inclusion proof is too long")
        if fn & 1 or fn == sn:
            r = node_hash(element, r)
            fn, sn = _shift_to_set_bit(fn, sn)
        else:
            r = node_hash(r, element)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("inclusion proof is too short")
    if r != root:
        raise ProofError("inclusion proof leads to a different root")


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> None:
    """Check that the tree of ``old_size`` with ``old_root`` is a prefix of ``new_size``/``new_root``.

    RFC 9162 §2.1.4.2: the proof is the inclusion path of the old tree's last full subtree in the
    new tree. Folding in only the left siblings (fr) must rebuild the old root, folding in all of
    them (sr) the new root; one pass checks both, so a proof cannot satisfy one tree and not the other.
    """
    _check_uint64("old size", old_size)
    _check_uint64("new size", new_size)
    _check_hash("old root", old_root)
    _check_hash("new root", new_root)
    _check_proof(proof)
    if old_size > new_size:
        raise ProofError(f"old size {old_size} is larger than new size {new_size}: the log shrank")
    if old_size == new_size:
        _verify_same_tree(old_size, old_root, new_root, proof)
        return
    if old_size == 0:
        raise ProofError("a consistency proof from the empty tree proves nothing")
    if not proof:
        raise ProofError("consistency proof is empty")
    path = list(proof)
    # When the old tree is itself a perfect subtree, its root is the path's starting node and the
    # proof omits it (SUBPROOF with b = true); put it back so both cases walk alike.
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    # Climb to the top of the old tree's last perfect subtree, where path[0] sits.
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for element in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof is too long")
        if fn & 1 or fn == sn:
            fr = node_hash(element, fr)
            sr = node_hash(element, sr)
            fn, sn = _shift_to_set_bit(fn, sn)
        else:
            sr = node_hash(sr, element)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("consistency proof is too short")
    if fr != old_root:
        raise ProofError("consistency proof does not lead to the old root")
    if sr != new_root:
        raise ProofError("consistency proof does not lead to the new root")


def _verify_same_tree(size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]) -> None:
    if proof:
        raise ProofError("trees of equal size need an empty consistency proof")
    if old_root != new_root:
        raise ProofError(f"two different roots for size {size}")
    if size == 0 and old_root != EMPTY_ROOT:
        raise ProofError("the root of the empty tree is not SHA-256 of the empty string")


# -- in-memory tree --------------------------------------------------------------------------------


class MemoryTree:
    """An append-only tree of leaf hashes that keeps every completed perfect subtree hash.

    ``_levels[level][index]`` is the subtree hash ``(level, index)``: level 0 holds the leaf
    hashes, and a level-(l+1) hash is added as soon as its two level-l children exist. An append
    therefore does at most log2(n) hashes, and ``hash_at`` is the ``SubtreeHash`` that proof
    generation needs. This is the layout a tile store keeps on disk; here it is kept in lists.
    """

    def __init__(self, leaf_hashes: Sequence[bytes] = ()) -> None:
        self._levels: list[list[bytes]] = [[]]
        for leaf in leaf_hashes:
            self.append(leaf)

    @property
    def size(self) -> int:
        return len(self._levels[0])

    def append(self, leaf: bytes) -> int:
        """Add a leaf hash; return its index."""
        if len(leaf) != HASH_SIZE:
            raise ValueError(f"a leaf hash is {HASH_SIZE} bytes, not {len(leaf)}")
        index = self.size
        self._levels[0].append(leaf)
        level = 0
        # The new leaf completes a subtree at each level where its index, shifted, is odd.
        while len(self._levels[level]) % 2 == 0:
            below = self._levels[level]
            if level + 1 == len(self._levels):
                self._levels.append([])
            self._levels[level + 1].append(node_hash(below[-2], below[-1]))
            level += 1
        return index

    def hash_at(self, level: int, index: int) -> bytes:
        """The hash of the perfect subtree ``(level, index)``; it must already be complete."""
        if not 0 <= level < len(self._levels) or not 0 <= index < len(self._levels[level]):
            raise ValueError(f"subtree ({level}, {index}) is not complete in a tree of size {self.size}")
        return self._levels[level][index]

    def root(self, size: int | None = None) -> bytes:
        """The root of the tree at ``size`` (default: now); any earlier size is still answerable."""
        size = self.size if size is None else size
        if not 0 <= size <= self.size:
            raise ValueError(f"size {size} is not between 0 and {self.size}")
        return subtree_root(0, size, self.hash_at) if size else EMPTY_ROOT

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        return inclusion_proof(index, self._size_or_now(size), self.hash_at)

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        return consistency_proof(old_size, self._size_or_now(new_size), self.hash_at)

    def _size_or_now(self, size: int | None) -> int:
        if size is None:
            return self.size
        if size > self.size:
            raise ValueError(f"size {size} is beyond the tree's {self.size} leaves")
        return size


class Frontier:
    """The root of a growing tree from O(log n) memory: the hashes of its perfect subtrees,
    largest first. Auditing a million-entry log needs only this, not the tree."""

    def __init__(self) -> None:
        self._stack: list[tuple[int, bytes]] = []  # (leaves, hash), sizes strictly decreasing
        self.size = 0

    @classmethod
    def of(cls, size: int, hashes: Sequence[bytes]) -> Frontier:
        """The frontier of a tree of ``size`` from its perfect subtree hashes, largest first
        (one per set bit of ``size``), as ``perfect_subtrees`` lists them."""
        sizes = [1 << bit for bit in reversed(range(size.bit_length())) if size >> bit & 1]
        if len(hashes) != len(sizes):
            raise ValueError(f"a tree of size {size} has {len(sizes)} perfect subtrees at its top, not {len(hashes)}")
        for value in hashes:
            _check_hash("a subtree hash", value)
        frontier = cls()
        frontier._stack = list(zip(sizes, hashes, strict=True))
        frontier.size = size
        return frontier

    def append(self, leaf: bytes) -> None:
        """Add a leaf hash."""
        if len(leaf) != HASH_SIZE:
            raise ValueError(f"a leaf hash is {HASH_SIZE} bytes, not {len(leaf)}")
        count, value = 1, leaf
        while self._stack and self._stack[-1][0] == count:
            left_count, left = self._stack.pop()
            count, value = left_count + count, node_hash(left, value)
        self._stack.append((count, value))
        self.size += 1

    def root(self) -> bytes:
        if not self._stack:
            return EMPTY_ROOT
        value = self._stack[-1][1]
        for _, left in reversed(self._stack[:-1]):
            value = node_hash(left, value)
        return value


def perfect_subtrees(size: int) -> list[tuple[int, int]]:
    """The ``(level, index)`` of the perfect subtrees a tree of ``size`` splits into at its top,
    largest first: what a ``Frontier`` holds, and what ``Frontier.of`` takes."""
    found, start = [], 0
    for bit in reversed(range(size.bit_length())):
        if size >> bit & 1:
            found.append((bit, start >> bit))
            start += 1 << bit
    return found
