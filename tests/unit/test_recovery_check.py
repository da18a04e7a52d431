"""What a recovering node takes from a peer's answer: only objects signed by the keys it holds
for that exchange, between it and that peer (the rest is counted and said, never used)."""

from __future__ import annotations

import pytest

from hotline.crypto import KeySet
from hotline.crypto.keys import generate_signing_key
from hotline.envelope import Envelope, Receipt, ReceiptEntry
from hotline.errors import StoreError
from hotline.log.recovery import PieceKind
from hotline.node.recovery import PeerCopy, _merge_leaves, _verified

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


def test_witnesses_that_cosigned_different_entries_at_one_position_stop_the_recovery() -> None:
    agreeing = [PeerCopy(PEER, leaves={5: b"a" * 32, 6: b"b" * 32}), PeerCopy(OTHER, leaves={6: b"b" * 32})]
    assert _merge_leaves(agreeing) == {5: b"a" * 32, 6: b"b" * 32}
    forked = [*agreeing, PeerCopy("DELTA", leaves={5: b"c" * 32})]
    with pytest.raises(StoreError, match="different entries at position 5"):
        _merge_leaves(forked)
