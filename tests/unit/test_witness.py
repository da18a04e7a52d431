"""When a witness cosigns a peer's checkpoint, and when it calls the log an equivocator."""

from __future__ import annotations

from dataclasses import replace

import pytest

from hotline.crypto import generate_signing_key
from hotline.log import Checkpoint, Ed25519Signer, MemoryTree, leaf_hash, perfect_subtrees, sign_checkpoint
from hotline.log.witness import Held, Offer, Refusal, judge, log_origin, witness_name

KEY = generate_signing_key()
ORIGIN = log_origin("GENSTAB", KEY.verify_key.raw)
SIGNER = Ed25519Signer(ORIGIN, KEY)
FOREIGN = Ed25519Signer(ORIGIN, generate_signing_key())  # the log's name, another key
OURS = {bytes([n]) * 32: f"our envelope {n}".encode() for n in range(1, 6)}  # envelope id -> bytes


class Log:
    """A peer's log: its entries, some of them envelopes of ours, and its signed checkpoints."""

    def __init__(self, entries: list[bytes]) -> None:
        self.entries = entries
        self.tree = MemoryTree([leaf_hash(e) for e in entries])

    def note(self, size: int | None = None, signer: Ed25519Signer = SIGNER) -> str:
        size = self.tree.size if size is None else size
        return sign_checkpoint(Checkpoint(ORIGIN, size, self.tree.root(size)), [signer])

    def offer(self, old: int, size: int | None = None) -> Offer:
        size = self.tree.size if size is None else size
        ours = tuple(
            (i, eid)
            for i, entry in enumerate(self.entries[:size])
            if old <= i
            for eid, mine in OURS.items()
            if mine == entry
        )
        proof = tuple(self.tree.consistency_proof(old, size)) if 0 < old < size else ()
        frontier = tuple(self.tree.hash_at(level, index) for level, index in perfect_subtrees(old))
        leaves = tuple(leaf_hash(e) for e in self.entries[old:size])
        return Offer(self.note(size), old, proof, frontier, leaves, ours)

    def held(self, size: int) -> Held:
        return Held(size, self.tree.root(size), self.note(size))


def entries(*ours: int, others: int = 2) -> list[bytes]:
    return [*(f"their object {i}".encode() for i in range(others)), *(OURS[bytes([n]) * 32] for n in ours)]


def verdict(offer: Offer, held: Held | None, receipted: dict[int, bytes] | None = None) -> Checkpoint:
    return judge(offer, origin=ORIGIN, verifier=SIGNER.verifier(), held=held, sent=OURS.get, receipted=receipted or {})


def test_names_are_unique_per_party_and_key() -> None:
    other = generate_signing_key().verify_key.raw
    assert ORIGIN.startswith("hotline.transcript/GENSTAB/")
    assert log_origin("GENSTAB", other) != ORIGIN
    assert witness_name("GENSTAB", KEY.verify_key.raw).startswith("hotline.witness/GENSTAB/")


def test_a_first_checkpoint_and_a_consistent_extension_are_cosigned() -> None:
    log = Log(entries(1, 2))
    first = verdict(log.offer(0, 3), None, {2: bytes([1]) * 32})
    assert (first.size, first.root_hash) == (3, log.tree.root(3))
    extended = verdict(log.offer(3), log.held(3), {3: bytes([2]) * 32})
    assert extended.size == 4
    assert verdict(log.offer(4), log.held(4)).size == 4, "the same checkpoint again is cosigned again"


@pytest.mark.parametrize(
    ("case", "reason"),
    [("smaller", "rollback"), ("other-root", "fork"), ("rewritten", "rewritten")],
)
def test_a_log_that_goes_back_or_forks_is_an_equivocator(case: str, reason: str) -> None:
    log = Log(entries(1, 2, 3))
    held = log.held(4)
    if case == "smaller":
        offer = replace(log.offer(0, 3), old_size=4)
    elif case == "other-root":
        offer = replace(Log([b"rewritten", *log.entries[1:4]]).offer(0, 4), old_size=4, leaves=())
    else:  # entry 1 changed on disk and the tree recomputed, then the log grew on
        rewritten = Log([log.entries[0], b"changed", *log.entries[2:]])
        offer = rewritten.offer(4)
    with pytest.raises(Refusal) as info:
        verdict(offer, held)
    assert (info.value.reason, info.value.equivocation) == (reason, True)


def test_a_receipt_position_that_holds_another_leaf_is_equivocation() -> None:
    log = Log(entries(1, 2))
    # Its receipt told us envelope 2 sits at entry 3; the log's leaves have envelope 1 at 2, 2 at 3.
    assert verdict(log.offer(0), None, {3: bytes([2]) * 32}).size == 4
    with pytest.raises(Refusal) as info:
        verdict(log.offer(0), None, {2: bytes([2]) * 32})
    assert (info.value.reason, info.value.equivocation) == ("receipt-position", True)
    # The offer's unsigned list names our envelope where another leaf is: wrong, not perjury.
    with pytest.raises(Refusal) as info:
        verdict(replace(log.offer(0), ours=((0, bytes([1]) * 32),)), None)
    assert (info.value.reason, info.value.equivocation) == ("bad-offer", False)


def test_a_broken_proof_for_a_true_extension_is_no_accusation() -> None:
    log = Log(entries(1, 2, 3))
    with pytest.raises(Refusal) as info:
        verdict(replace(log.offer(3), consistency=()), log.held(3))
    assert (info.value.reason, info.value.equivocation) == ("bad-offer", False)


def test_a_stale_offer_below_what_we_hold_is_a_conflict_not_a_rollback() -> None:
    # Our cosignature of 4 was lost; the log offers 3 again, from what it believes we hold.
    log = Log(entries(1, 2, 3))
    with pytest.raises(Refusal) as info:
        verdict(log.offer(0, 3), log.held(4))
    assert (info.value.reason, info.value.equivocation, info.value.held_size) == ("conflict", False, 4)


def _leaves_changed(log: Log) -> Offer:
    offer = log.offer(0)
    return replace(offer, leaves=(leaf_hash(b"other"), *offer.leaves[1:]))


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda log: replace(log.offer(0), note=log.note(signer=FOREIGN)), "bad-checkpoint"),
        (lambda log: replace(log.offer(0), note=log.note().replace("\n4\n", "\n5\n")), "bad-checkpoint"),
        (lambda log: replace(log.offer(0), old_size=2), "conflict"),
        (lambda log: replace(log.offer(0), ours=()), "missing-position"),
        (lambda log: replace(log.offer(0), ours=((1, b"\x09" * 32),)), "bad-offer"),
        (_leaves_changed, "bad-offer"),
        (lambda log: replace(log.offer(0), leaves=log.offer(0).leaves[:-1]), "bad-offer"),
    ],
    ids=[
        "foreign-key",
        "altered-note",
        "stale-old-size",
        "withheld-position",
        "not-our-envelope",
        "leaves-not-the-root",
        "a-leaf-short",
    ],
)
def test_offers_we_cannot_accept_are_refused_without_accusation(make: object, reason: str) -> None:
    log = Log(entries(1, 2))
    with pytest.raises(Refusal) as info:
        verdict(make(log), None, {2: bytes([1]) * 32})  # type: ignore[operator]
    assert (info.value.reason, info.value.equivocation) == (reason, False)


def test_a_wrong_old_subtree_is_refused() -> None:
    log = Log(entries(1, 2, 3))
    offer = log.offer(3)
    with pytest.raises(Refusal) as info:
        verdict(replace(offer, frontier=(offer.frontier[0], offer.frontier[0])), log.held(3))
    assert (info.value.reason, info.value.equivocation) == ("bad-offer", False)


def test_a_stale_old_size_tells_the_log_where_to_resume() -> None:
    log = Log(entries(1, 2))
    with pytest.raises(Refusal) as info:
        verdict(log.offer(0), log.held(2))
    assert (info.value.reason, info.value.held_size) == ("conflict", 2)
