"""The peer port's handshake slots (``protocol/admission.py``): bounded in all and per source,
and a source that holds fewer slots than the busiest one is never kept out by it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hotline.protocol.admission import Admission, Admitted, Refusal, source_of


def admitted(decision: Admitted | Refusal) -> Admitted:
    assert isinstance(decision, Admitted), f"refused: {decision}"
    return decision


def test_a_source_is_refused_beyond_its_share_and_counted() -> None:
    slots = Admission(limit=10, per_source=2)
    first = admitted(slots.admit("192.0.2.1"))
    admitted(slots.admit("192.0.2.1"))
    assert slots.admit("192.0.2.1") is Refusal.SOURCE
    assert slots.refused == {Refusal.SOURCE: 1}
    slots.release(first.ticket)
    admitted(slots.admit("192.0.2.1"))  # a slot given back is free again
    assert slots.under_way == 2


def test_full_slots_go_to_a_source_that_holds_fewer_than_the_busiest() -> None:
    slots = Admission(limit=4, per_source=3)
    a = [admitted(slots.admit("192.0.2.1")) for _ in range(3)]
    admitted(slots.admit("192.0.2.2"))
    assert slots.under_way == 4
    newcomer = admitted(slots.admit("192.0.2.3"))  # holds none; the busiest holds three
    assert newcomer.evicted == a[0].ticket, "the busiest source's oldest handshake is cut"
    assert slots.held_by("192.0.2.1") == 2
    assert slots.refused == {Refusal.EVICTED: 1}
    assert slots.under_way == 4


def test_full_slots_held_evenly_refuse_the_newcomer() -> None:
    slots = Admission(limit=3, per_source=3)
    for source in ("192.0.2.1", "192.0.2.2", "192.0.2.3"):
        admitted(slots.admit(source))
    assert slots.admit("192.0.2.3") is Refusal.BUSY  # it would hold more than any other
    newcomer = admitted(slots.admit("192.0.2.4"))  # holds none: one of the three gives way
    assert newcomer.evicted is not None
    assert slots.admit("192.0.2.4") is Refusal.BUSY  # now it holds as many as the rest
    assert slots.refused == {Refusal.BUSY: 2, Refusal.EVICTED: 1}


def test_release_is_idempotent_and_an_evicted_ticket_is_already_released() -> None:
    slots = Admission(limit=1, per_source=1)
    first = admitted(slots.admit("192.0.2.1"))
    second = admitted(slots.admit("192.0.2.2"))
    assert second.evicted == first.ticket
    slots.release(first.ticket)  # its connection ends later: nothing more to give back
    slots.release(first.ticket)
    assert slots.under_way == 1
    assert slots.held_by("192.0.2.2") == 1


@pytest.mark.parametrize(
    ("address", "source"),
    [
        ("192.0.2.7", "192.0.2.7"),
        ("::ffff:192.0.2.7", "192.0.2.7"),  # an IPv4 client of a dual-stack socket
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:bbbb::9", "2001:db8:1:2::/64"),  # one host's /64 is one source
        ("fe80::1%eth0", "fe80::/64"),
        ("/run/hotline.sock", "/run/hotline.sock"),
    ],
)
def test_sources(address: str, source: str) -> None:
    assert source_of(address) == source


def test_bounds_must_make_sense() -> None:
    with pytest.raises(ValueError, match="per_source"):
        Admission(limit=2, per_source=3)


@given(
    st.lists(
        st.one_of(st.integers(0, 11).map(lambda n: ("admit", n)), st.integers(0, 40).map(lambda n: ("end", n))),
        max_size=200,
    )
)
def test_the_bounds_always_hold_and_a_quieter_source_always_gets_in(steps: list[tuple[str, int]]) -> None:
    slots = Admission(limit=8, per_source=3)
    tickets: list[int] = []
    for step, n in steps:
        if step == "end":
            if tickets:
                slots.release(tickets.pop(n % len(tickets)))
            continue
        source = f"192.0.2.{n}"
        mine = slots.held_by(source)
        busiest = max((slots.held_by(f"192.0.2.{m}") for m in range(12)), default=0)
        decision = slots.admit(source)
        if isinstance(decision, Admitted):
            tickets.append(decision.ticket)
            if decision.evicted is not None:
                tickets.remove(decision.evicted)
        elif decision is Refusal.BUSY:
            assert busiest <= mine, "refused while a busier source held a slot"
        else:
            assert decision is Refusal.SOURCE
            assert mine == 3
        assert slots.under_way == len(tickets) <= 8
        assert all(slots.held_by(f"192.0.2.{m}") <= 3 for m in range(12))
