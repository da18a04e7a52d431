"""The receiver's sequence rules: every number once, none skipped, out of order within reach."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hotline.protocol import Arrival, InboundSequence


@st.composite
def two_lanes(draw: st.DrawFn) -> tuple[int, list[int]]:
    """Numbers 1..n split between two lanes, each lane in order, the lanes interleaved at random:
    what a receiver sees of one sender."""
    n = draw(st.integers(1, 200))
    urgent = draw(st.sets(st.integers(1, n)))
    ordinary = [seq for seq in range(1, n + 1) if seq not in urgent]
    lanes = [sorted(urgent), ordinary]
    picks = draw(st.lists(st.sampled_from([0, 1]), min_size=2 * n, max_size=2 * n))
    arrived = [lanes[pick].pop(0) for pick in picks + [0] * n + [1] * n if lanes[pick]]
    return n, arrived


@given(two_lanes())
def test_any_interleaving_of_two_lanes_takes_every_number_once(case: tuple[int, list[int]]) -> None:
    n, arrived = case
    inbound = InboundSequence()
    for seq in arrived:
        assert inbound.classify(seq) is Arrival.NEW
        inbound.take(seq)
        assert inbound.classify(seq) is Arrival.DUPLICATE
    assert (inbound.next_seq, inbound.ahead, inbound.missing) == (n + 1, set(), 0)


@given(st.lists(st.integers(1, 60), max_size=120))
def test_the_lowest_missing_number_is_where_the_sender_resumes(seqs: list[int]) -> None:
    inbound = InboundSequence(reach=64)
    taken: set[int] = set()
    for seq in seqs:
        arrival = inbound.classify(seq)
        assert arrival is (Arrival.DUPLICATE if seq in taken else Arrival.NEW)
        if arrival is Arrival.NEW:
            inbound.take(seq)
            taken.add(seq)
    lowest_missing = next(seq for seq in range(1, 100) if seq not in taken)
    assert inbound.next_seq == lowest_missing
    assert inbound.ahead == {seq for seq in taken if seq > lowest_missing}
    assert inbound.missing == (max(taken) - len(taken) if taken else 0)


def test_a_number_beyond_reach_is_a_gap_and_is_not_taken() -> None:
    inbound = InboundSequence(5, ahead=[7], reach=10)
    assert inbound.classify(14) is Arrival.NEW
    assert inbound.classify(15) is Arrival.GAP
    with pytest.raises(ValueError, match="not new"):
        inbound.take(15)
    with pytest.raises(ValueError, match="not new"):
        inbound.take(7)
    inbound.take(5)
    assert inbound.next_seq == 6
    inbound.take(6)
    assert (inbound.next_seq, inbound.ahead) == (8, set()), "filling the hole moves past what came ahead"


def test_recovered_state_must_lie_within_reach() -> None:
    with pytest.raises(ValueError, match="more than 10 beyond"):
        InboundSequence(1, ahead=[11], reach=10)
    with pytest.raises(ValueError, match="start at 1"):
        InboundSequence(0)


@st.composite
def histories(draw: st.DrawFn) -> tuple[int, InboundSequence]:
    """A receiver after any run of arrivals a correct sender over two lanes can cause: each
    number NEW when it came, none further ahead than ``reach`` (small, to reach it often)."""
    reach = draw(st.integers(1, 12))
    inbound = InboundSequence(reach=reach)
    for offset in draw(st.lists(st.integers(0, reach - 1), max_size=150)):
        if inbound.classify(inbound.next_seq + offset) is Arrival.NEW:
            inbound.take(inbound.next_seq + offset)
    return reach, inbound


def _used(inbound: InboundSequence) -> list[int]:
    return [*range(1, inbound.next_seq), *sorted(inbound.ahead)]


@given(histories(), st.integers(0, 20))
def test_the_highest_reach_numbers_used_are_enough_to_resume(case: tuple[int, InboundSequence], extra: int) -> None:
    reach, inbound = case
    used = _used(inbound)
    for tail in (used[-reach:], used[-(reach + extra) :], used):  # what a store reads: reach at least
        resumed = InboundSequence.resume(tail, reach=reach)
        assert (resumed.next_seq, resumed.ahead, resumed.reach) == (inbound.next_seq, inbound.ahead, reach)


@given(histories())
def test_a_resumed_receiver_carries_on_as_the_first_would_have(case: tuple[int, InboundSequence]) -> None:
    reach, inbound = case
    resumed = InboundSequence.resume(reversed(_used(inbound)[-reach:]), reach=reach)  # any order
    for seq in range(1, inbound.next_seq + 2 * reach):
        assert resumed.classify(seq) is inbound.classify(seq)


def test_resuming_from_nothing_or_from_few_numbers() -> None:
    assert InboundSequence.resume([]).next_seq == 1
    fresh = InboundSequence.resume([3, 1, 5], reach=10)  # fewer than reach: all there is
    assert (fresh.next_seq, fresh.ahead) == (2, {3, 5})
    full = InboundSequence.resume([7, 8, 10], reach=3)  # reach of them: everything below 7 is used
    assert (full.next_seq, full.ahead) == (9, {10})


def test_numbers_no_correct_receiver_holds_are_refused() -> None:
    with pytest.raises(ValueError, match="more than 3 beyond"):
        InboundSequence.resume([1, 5], reach=3)
