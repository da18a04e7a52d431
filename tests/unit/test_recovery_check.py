"""What a recovering node takes from a peer's answer: only objects signed by the keys it holds
for that exchange, between it and that peer (the rest is counted and said, never used)."""

from __future__ import annotations

import pytest

from hotline.crypto import KeySet
from hotline.crypto.keys import SigningKey, generate_signing_key
from hotline.envelope import Envelope, Receipt, ReceiptEntry
from hotline.errors import StoreError
from hotline.log import Checkpoint, Ed25519Signer, MemoryTree, leaf_hash, sign_checkpoint
from hotline.log.recovery import PieceKind
from hotline.node.recovery import PeerCopy, _verified, _witnessed

US, PEER, OTHER = "ALPHA", "BRAVO", "CHARLIE"


def test_only_objects_signed_by_the_right_key_between_the_right_parties_are_used() -> None:
    ours, theirs, thief = generate_signing_key(), generate_signing_key(), generate_signing_key()
    keys = {US: KeySet((ours.verify_key,)), PEER: KeySet((theirs.verify_key,))}
    mine = Envelope(US, PEER, 1, 1, 1000, "free_text", {"text": "x"}).seal(ours)
    receipt = Receipt(PEER, US, 1001, (ReceiptEntry(1, b"\x01" * 32, 7),)).seal(theirs)
    forged = Envelope(PEER, US, 2, 2, 1002, "free_text", {"text": "y"}).seal(thief)
    elsewhere = Envelope(US, OTHER, 1, 3, 1003, "free_text", {"text": "z"}).seal(ours)
    problems: list[str] = []
    copy = PeerCopy(PEER, objects=[mine, receipt, forged, elsewhere, b"\x00garbage"])
    pieces = _verified(US, keys, [copy], problems)
    assert sorted(p.kind for p in pieces) == [PieceKind.ENVELOPE, PieceKind.RECEIPT]
    assert {p.raw for p in pieces} == {mine, receipt}
    [named] = [p for p in pieces if p.kind is PieceKind.RECEIPT]
    assert named.names == ((1, b"\x01" * 32, 7),)
    assert problems == ["3 object(s) from BRAVO did not verify and were not used"]


def test_leaf_hashes_count_only_if_they_make_a_checkpoint_we_signed_and_two_that_differ_are_a_fork() -> None:
    ours = generate_signing_key()
    origin = "hotline.transcript/ALPHA/00112233445566778899aabbccddeeff"
    leaves = [leaf_hash(f"entry {n}".encode()) for n in range(4)]
    tree = MemoryTree(leaves)

    def note(size: int, key: SigningKey = ours) -> str:
        return sign_checkpoint(Checkpoint(origin, size, tree.root(size)), [Ed25519Signer(origin, key)])

    frontier = (2, [MemoryTree(leaves[:2]).root()])  # our copy: two entries, one perfect subtree
    honest = PeerCopy(PEER, note=note(4), leaves={2: leaves[2], 3: leaves[3]})
    shorter = PeerCopy(OTHER, note=note(3), leaves={2: leaves[2]})
    liar = PeerCopy("DELTA", note=note(4), leaves={2: leaves[3], 3: leaves[2]})  # our note, its leaves wrong
    forger = PeerCopy("ECHO", note=note(4, generate_signing_key()), leaves={2: leaves[2], 3: leaves[3]})
    problems: list[str] = []
    keys = KeySet((ours.verify_key,))
    merged, notes = _witnessed(origin, keys, [honest, shorter, liar, forger], frontier, problems)
    assert merged == {2: leaves[2], 3: leaves[3]}
    assert sorted(notes) == [PEER, OTHER]
    assert notes[PEER][:2] == (4, tree.root(4))
    assert problems == [
        "the leaf hashes DELTA gave do not make our checkpoint it holds: not used",
        (
            "ECHO holds a checkpoint of our log that does not verify (the note carries no signature from a known key):"
            " not used"
        ),
    ]
    # Two checkpoints both signed by us over different entries: our log forked.
    other_leaves = [*leaves[:2], leaf_hash(b"another entry")]
    other_note = sign_checkpoint(Checkpoint(origin, 3, MemoryTree(other_leaves).root()), [Ed25519Signer(origin, ours)])
    forked = PeerCopy("FOXTROT", note=other_note, leaves={2: other_leaves[2]})
    with pytest.raises(StoreError, match="different entries at position 2"):
        _witnessed(origin, keys, [honest, forked], frontier, [])
