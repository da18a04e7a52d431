"""The sender's side of a channel (``protocol/ledger.py``): its rules alone, then against a
receiver under random receipts, resends and lost lanes."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from hotline.envelope.model import MAX_RECEIPT_ENTRIES
from hotline.protocol import REACH, Arrival, InboundSequence, Lane, lane_of
from hotline.protocol.ledger import SendLedger, check_window, keeps_new_link, receipt_due, resend_plan


@dataclass(frozen=True)
class Item:
    seq: int
    envelope_id: bytes
    rank: int


def item(seq: int, rank: int = 3) -> Item:
    return Item(seq, seq.to_bytes(32, "big"), rank)


def test_numbers_are_given_in_order_once() -> None:
    ledger: SendLedger[Item] = SendLedger(5, window=8)
    assert ledger.take(3) == 5
    assert ledger.take(1) == 8
    assert ledger.send_next == 9
    with pytest.raises(ValueError, match="never given"):
        ledger.add([item(9)])
    ledger.add([item(5)])
    with pytest.raises(ValueError, match="already in flight"):
        ledger.add([item(5)])


def test_each_lane_has_its_own_budget() -> None:
    ledger: SendLedger[Item] = SendLedger(1, window=3, allowance=2)
    ledger.take(4)
    ledger.add([item(1, 3), item(2, 3), item(3, 3), item(4, 0)])
    assert ledger.room(Lane.ORDINARY) == 0, "a full window"
    assert ledger.room(Lane.URGENT) == 1, "does not hold back a FLASH"
    assert not ledger.wants_refill()
    assert ledger.ordinary_holds_back(urgent_busy=False), "a FLASH on its way holds the ordinary lane"


def test_in_flight_is_split_by_lane_in_sequence_order() -> None:
    ledger: SendLedger[Item] = SendLedger(1, window=8)
    ledger.take(5)
    ledger.add([item(3, 3), item(5, 0), item(1, 3), item(4, 1), item(2, 2)])
    assert [i.seq for i in ledger.in_flight(Lane.URGENT)] == [4, 5]
    assert [i.seq for i in ledger.in_flight(Lane.ORDINARY)] == [1, 2, 3]
    assert ledger.count_in_flight(Lane.URGENT) == 2


def test_what_no_live_link_carries_goes_again_and_nothing_twice_on_one_link() -> None:
    ledger: SendLedger[Item] = SendLedger(1, window=8)
    ledger.take(4)
    ledger.add([item(1), item(2), item(3, rank=0), item(4)])
    on_wire = {1: {"old"}, 2: {"kept"}, 3: {"old"}}  # 4 was never written anywhere
    plan = resend_plan(ledger.in_flight(), ["old", "new"], "new", on_wire, live=lambda link: link == "kept")
    assert {link: [i.seq for i in items] for link, items in plan.items()} == {"new": [1, 3, 4]}
    plan = resend_plan(ledger.in_flight(), [], None, on_wire, live=lambda link: False)
    assert plan == {}, "no link to send on: nothing planned"


def test_a_receipt_settles_exactly_the_envelopes_it_names() -> None:
    ledger: SendLedger[Item] = SendLedger(1, window=8)
    ledger.take(3)
    ledger.add([item(1), item(2), item(3)])
    entries = [(1, item(1).envelope_id), (2, b"\xff" * 32), (9, item(9).envelope_id)]  # 2: another envelope
    delivered, conflicting = ledger.settle(entries)
    assert ([i.seq for i in delivered], conflicting) == ([1], [2])
    assert [i.seq for i in ledger.in_flight()] == [2, 3]
    assert ledger.settle(entries) == ([], [2]), "settling twice delivers nothing twice"
    found = ledger.find(item(3).envelope_id)
    assert found is not None
    ledger.give_up(found)
    assert [i.seq for i in ledger.in_flight()] == [2]


def test_a_peer_that_expects_more_than_we_signed_says_our_store_went_back() -> None:
    ledger: SendLedger[Item] = SendLedger(10, window=8)
    assert ledger.peer_ahead(10) is None
    assert ledger.peer_ahead(4) is None, "a peer behind us is waiting for resends"
    assert ledger.peer_ahead(15) == (15, 10)
    ledger.resume_at(15)
    assert ledger.take(1) == 15
    with pytest.raises(ValueError, match="forward only"):
        ledger.resume_at(3)


def test_a_window_the_receiver_cannot_reach_is_refused() -> None:
    check_window(512)
    with pytest.raises(ValueError, match="too large"):
        check_window(REACH)
    with pytest.raises(ValueError, match="too small"):
        check_window(0)


def test_both_ends_keep_the_link_dialed_by_the_first_name() -> None:
    # GENSTAB < SACEUR: whichever link opened first, both ends settle on the one GENSTAB dialed.
    for first, second in itertools.permutations(["GENSTAB", "SACEUR"]):
        kept = {}
        for local, peer in (("SACEUR", "GENSTAB"), ("GENSTAB", "SACEUR")):
            assert keeps_new_link(local, peer, None, first)
            kept[local] = second if keeps_new_link(local, peer, first, second) else first
        assert kept == {"SACEUR": "GENSTAB", "GENSTAB": "GENSTAB"}
    assert keeps_new_link("GENSTAB", "SACEUR", "SACEUR", "SACEUR"), "a redial replaces the half-open link"


def test_urgent_envelopes_and_full_batches_are_receipted_at_once() -> None:
    assert receipt_due(1, 0)
    assert receipt_due(1, 1)
    assert not receipt_due(1, 2)
    assert receipt_due(MAX_RECEIPT_ENTRIES, 3)


Link = tuple[Lane, int]  # a lane's connection, and which of its connections since the start


class Direction:
    """One direction of a channel: a sender's ledger, two lanes of wire, and a receiver. What
    goes again when a lane reopens is what the node ships: ``resend_plan`` over the links each
    envelope was written on."""

    def __init__(self, window: int) -> None:
        self.ledger: SendLedger[Item] = SendLedger(1, window=window, allowance=2)
        self.queued: list[int] = []  # ranks of drafts waiting to be signed
        self.wire: dict[Lane, list[Item]] = {lane: [] for lane in Lane}
        self.receipts: dict[Lane, list[tuple[int, bytes]]] = {lane: [] for lane in Lane}
        self.on_wire: dict[int, set[Link]] = {}
        self.receiver = InboundSequence()
        self.held: dict[int, bytes] = {}
        self.given: list[int] = []

    def write(self, link: Link, items: list[Item]) -> None:
        self.wire[link[0]] += items
        for i in items:
            self.on_wire.setdefault(i.seq, set()).add(link)

    def sign(self, lane: Lane, links: Links) -> None:
        targets = links.urgent() if lane is Lane.URGENT else [t for t in [links.ordinary()] if t]
        wanted = [rank for rank in self.queued if lane_of(rank) is lane][: self.ledger.room(lane)]
        if not wanted or not targets:
            return
        for rank in wanted:
            self.queued.remove(rank)
        first = self.ledger.take(len(wanted))
        items = [item(first + i, rank) for i, rank in enumerate(wanted)]
        self.given += [i.seq for i in items]
        self.ledger.add(items)
        for target in targets:
            self.write(target, items)

    def deliver(self, lane: Lane) -> None:
        envelope = self.wire[lane].pop(0)
        arrival = self.receiver.classify(envelope.seq)
        assert arrival is not Arrival.GAP, f"a correct sender reached a gap at {envelope.seq}"
        if arrival is Arrival.NEW:
            self.receiver.take(envelope.seq)
            self.held[envelope.seq] = envelope.envelope_id
        assert self.held[envelope.seq] == envelope.envelope_id, "one number, two envelopes"
        self.receipts[lane].append((envelope.seq, envelope.envelope_id))

    def settle(self, lane: Lane) -> None:
        delivered, _ = self.ledger.settle([self.receipts[lane].pop(0)])
        for i in delivered:
            self.on_wire.pop(i.seq, None)

    def lose(self, lane: Lane) -> None:
        self.wire[lane].clear()
        self.receipts[lane].clear()

    def resend(self, links: Links) -> None:
        plan = resend_plan(self.ledger.in_flight(), links.urgent(), links.ordinary(), self.on_wire, links.live)
        for link, items in plan.items():
            self.write(link, items)


class Links:
    """The links of one path: each lane's current connection while it is up; a lane that is
    down lends its traffic to the other."""

    def __init__(self) -> None:
        self.up = dict.fromkeys(Lane, True)
        self.generation = dict.fromkeys(Lane, 0)

    def current(self, lane: Lane) -> Link | None:
        return (lane, self.generation[lane]) if self.up[lane] else None

    def urgent(self) -> list[Link]:
        found = self.current(Lane.URGENT) or self.current(Lane.ORDINARY)
        return [found] if found else []

    def ordinary(self) -> Link | None:
        return self.current(Lane.ORDINARY) or self.current(Lane.URGENT)

    def live(self, link: Link) -> bool:
        return self.current(link[0]) == link


class ChannelMachine(RuleBasedStateMachine):
    """Both directions of a channel between two parties, as two ledgers and two receivers."""

    def __init__(self) -> None:
        super().__init__()
        self.ways = [Direction(window=3), Direction(window=5)]
        self.links = Links()
        self.up = self.links.up

    @rule(way=st.integers(0, 1), ranks=st.lists(st.integers(0, 3), min_size=1, max_size=6))
    def queue(self, way: int, ranks: list[int]) -> None:
        self.ways[way].queued += ranks

    @rule(way=st.integers(0, 1), lane=st.sampled_from(Lane))
    def sign(self, way: int, lane: Lane) -> None:
        self.ways[way].sign(lane, self.links)

    @rule(way=st.integers(0, 1), lane=st.sampled_from(Lane))
    def deliver(self, way: int, lane: Lane) -> None:
        if self.up[lane] and self.ways[way].wire[lane]:
            self.ways[way].deliver(lane)

    @rule(way=st.integers(0, 1), lane=st.sampled_from(Lane))
    def receipt(self, way: int, lane: Lane) -> None:
        if self.up[lane] and self.ways[way].receipts[lane]:
            self.ways[way].settle(lane)

    @precondition(lambda self: any(self.up.values()))
    @rule(lane=st.sampled_from(Lane))
    def lose_lane(self, lane: Lane) -> None:
        self.up[lane] = False
        for way in self.ways:
            way.lose(lane)
            way.resend(self.links)  # what it carried goes on the other lane's link

    @rule(lane=st.sampled_from(Lane))
    def open_lane(self, lane: Lane) -> None:
        if not self.up[lane]:
            self.up[lane] = True
            self.links.generation[lane] += 1  # a new connection: the old one's bytes are gone
            for way in self.ways:
                way.resend(self.links)

    @invariant()
    def every_number_is_given_once_in_order(self) -> None:
        for way in self.ways:
            assert way.given == sorted(set(way.given))
            assert way.given == list(range(1, way.ledger.send_next))

    @invariant()
    def nothing_settled_that_the_receiver_does_not_hold(self) -> None:
        for way in self.ways:
            settled = set(way.given) - {i.seq for i in way.ledger.in_flight()}
            assert settled <= set(way.held)

    def teardown(self) -> None:
        """Every lane up, everything resent and answered: the receiver holds every number given,
        none skipped, and nothing is left in flight."""
        for lane in Lane:
            self.open_lane(lane)
        for way in self.ways:
            for lane in Lane:
                way.resend(self.links)
                while way.wire[lane]:
                    way.deliver(lane)
                while way.receipts[lane]:
                    way.settle(lane)
            assert way.receiver.next_seq == way.ledger.send_next, "a number was skipped"
            assert not way.receiver.ahead
            assert way.ledger.count_in_flight() == 0


TestChannelLedgers = ChannelMachine.TestCase
TestChannelLedgers.settings = settings(max_examples=150, stateful_step_count=60, deadline=None)
