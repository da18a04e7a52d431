"""The plan that puts a restored log back in order from its peers' copies (pure)."""

from __future__ import annotations

import hashlib

from hotline.log.recovery import Piece, PieceKind, StepKind, plan

US, PEER = "ALPHA", "BRAVO"


def _id(name: str) -> bytes:
    return hashlib.sha256(name.encode()).digest()


def envelope(sender: str, name: str, at: int) -> Piece:
    recipient = PEER if sender == US else US
    return Piece(f"env:{name}".encode(), PieceKind.ENVELOPE, sender, recipient, at, _id(name))


def receipt(sender: str, name: str, at: int, names: list[tuple[Piece, int]]) -> Piece:
    recipient = PEER if sender == US else US
    entries = tuple((n + 1, p.object_id, index) for n, (p, index) in enumerate(names))
    return Piece(f"rcpt:{name}".encode(), PieceKind.RECEIPT, sender, recipient, at, _id(name), entries)


def rejection(sender: str, name: str, at: int, of: Piece) -> Piece:
    recipient = PEER if sender == US else US
    return Piece(
        f"rej:{name}".encode(), PieceKind.REJECTION, sender, recipient, at, _id(name), ((0, of.object_id, -1),)
    )


def test_the_cosigned_part_is_rebuilt_position_by_position_into_its_store_steps() -> None:
    ours = envelope(US, "a1", 100)
    theirs = receipt(PEER, "r1", 110, [(ours, 7)])
    b1, b2 = envelope(PEER, "b1", 120), envelope(PEER, "b2", 121)
    our_receipt = receipt(US, "r2", 130, [(b1, 12), (b2, 13)])
    log = [ours, theirs, b1, b2, our_receipt]
    start = 10
    cosigned = {start + n: p.leaf for n, p in enumerate(log)}
    # Given in any order, with more than the log held (a peer's envelope we never stored).
    stray = envelope(PEER, "b3", 140)
    result = plan(US, start, cosigned, reversed([*log, stray]))
    assert [(s.kind, s.index, s.size) for s in result.steps] == [
        (StepKind.SENT, 10, 1),
        (StepKind.RECEIPTED, 11, 1),
        (StepKind.STORED, 12, 3),
    ]
    assert result.exact_to == 15
    assert result.positions_kept
    assert not result.problems
    assert result.unplaced == [stray]  # no answer of ours: the peer sends it again


def test_a_position_no_peer_holds_is_said_plainly_and_nothing_after_it_claims_its_place() -> None:
    lost, later = envelope(US, "a1", 100), envelope(US, "a2", 200)
    cosigned = {0: lost.leaf, 1: later.leaf}
    result = plan(US, 0, cosigned, [later])
    assert result.exact_to == 0
    assert not result.positions_kept
    assert "position 0" in result.problems[0]
    assert [(s.kind, s.index) for s in result.steps] == [(StepKind.SENT, 0)]  # appended, not placed


def test_past_the_cosigned_size_our_receipts_pin_their_groups_and_the_rest_fills_the_gaps_by_time() -> None:
    a1 = envelope(US, "a1", 100)  # position 5
    r1 = receipt(PEER, "r1", 105, [(a1, 40)])  # position 6
    b1 = envelope(PEER, "b1", 101)
    mine = receipt(US, "m1", 108, [(b1, 7)])  # b1 at 7, our receipt at 8 (pinned)
    a2 = envelope(US, "a2", 200)  # position 9
    result = plan(US, 5, {}, [a2, mine, r1, b1, a1])
    assert [(s.kind, s.index) for s in result.steps] == [
        (StepKind.SENT, 5),
        (StepKind.RECEIPTED, 6),
        (StepKind.STORED, 7),
        (StepKind.SENT, 9),
    ]
    assert result.positions_kept
    assert not any(s.receipt_moved for s in result.steps)


def test_a_gap_that_cannot_be_filled_moves_the_receipts_and_says_a_witness_will_object() -> None:
    b1 = envelope(PEER, "b1", 101)
    mine = receipt(US, "m1", 108, [(b1, 9)])  # named position 9, but only one entry can precede it
    a1 = envelope(US, "a1", 100)
    result = plan(US, 5, {}, [mine, b1, a1])
    assert not result.positions_kept
    assert any("cannot be kept" in p for p in result.problems)
    stored = [s for s in result.steps if s.kind is StepKind.STORED]
    assert stored
    assert stored[0].receipt_moved
    assert stored[0].index == 6


def test_an_envelope_we_refused_comes_back_with_our_rejection_as_one_step() -> None:
    b1 = envelope(PEER, "b1", 101)
    no = rejection(US, "n1", 102, b1)
    result = plan(US, 0, {0: b1.leaf, 1: no.leaf}, [no, b1])
    assert [(s.kind, s.index, s.size) for s in result.steps] == [(StepKind.REFUSED, 0, 2)]
    assert result.exact_to == 2
    assert not result.unplaced


def test_an_answer_goes_after_what_it_answers_whatever_the_peer_s_clock_says() -> None:
    a1 = envelope(US, "a1", 100)
    # The peer's clock runs behind: its receipt of a1 says 90.
    r1 = Piece(b"rcpt:r1", PieceKind.RECEIPT, PEER, US, 90, _id("r1"), ((1, a1.object_id, 40),), (a1.object_id,))
    ack = Piece(b"env:ack", PieceKind.ENVELOPE, US, PEER, 95, _id("ack"), (), (_id("b1"),))  # replies to b1
    b1 = envelope(PEER, "b1", 97)
    mine = receipt(US, "m1", 99, [(b1, 7)])  # pinned: b1 at 7, our receipt at 8
    result = plan(US, 5, {}, [ack, r1, mine, b1, a1])
    assert [(s.kind, s.index, s.pieces[0].raw) for s in result.steps] == [
        (StepKind.SENT, 5, a1.raw),
        (StepKind.RECEIPTED, 6, r1.raw),
        (StepKind.STORED, 7, b1.raw),
        (StepKind.SENT, 9, ack.raw),  # our acknowledgement after the message it acknowledges
    ]
    assert result.positions_kept


def test_a_gap_is_filled_exactly_even_when_the_earliest_answer_belongs_after_the_pin() -> None:
    b1, b2 = envelope(PEER, "b1", 100), envelope(PEER, "b2", 101)
    refused = rejection(US, "n1", 102, b1)  # b1 and our rejection: two entries, at 5 and 6
    early = receipt(PEER, "r1", 90, [])  # one entry, its time the earliest: it came after the pin
    mine = receipt(US, "m1", 110, [(b2, 7)])  # pinned at 7..8
    result = plan(US, 5, {}, [early, refused, mine, b1, b2])
    assert [(s.kind, s.index) for s in result.steps] == [
        (StepKind.REFUSED, 5),
        (StepKind.STORED, 7),
        (StepKind.RECEIPTED, 9),
    ]
    assert result.positions_kept
