"""Per-peer rules that both ends must apply identically."""

import random
from typing import Any

from hotline.crypto import VerifyKey, generate_signing_key
from hotline.envelope import Receipt, ReceiptEntry
from hotline.node.channel import Backoff, Channel
from hotline.protocol import InboundSequence, Lane
from hotline.storage import Dispatched, PeerRecord


class FakeLink:
    def __init__(self, dialed_by: str) -> None:
        self.dialed_by = dialed_by


def channel(peer: str) -> Channel:
    record = PeerRecord(peer, generate_signing_key().verify_key.raw, b"", ("127.0.0.1:1",), "", 0)
    return Channel(record, VerifyKey(record.sign_key), InboundSequence(), 1, Backoff(0.2, 5.0))


def test_both_ends_keep_the_link_dialed_by_the_first_name() -> None:
    # GENSTAB < SACEUR: whichever link opened first, both ends settle on the one GENSTAB dialed.
    for first, second in (("GENSTAB", "SACEUR"), ("SACEUR", "GENSTAB")):
        at_saceur, at_genstab = channel("GENSTAB"), channel("SACEUR")
        for ch, local in ((at_saceur, "SACEUR"), (at_genstab, "GENSTAB")):
            assert ch.keeps_new_link(local, Lane.URGENT, first)
            ch.links[Lane.URGENT] = FakeLink(first)  # type: ignore[assignment]
            if ch.keeps_new_link(local, Lane.URGENT, second):
                ch.links[Lane.URGENT] = FakeLink(second)  # type: ignore[assignment]
        links: list[Any] = [at_saceur.links[Lane.URGENT], at_genstab.links[Lane.URGENT]]
        assert [link.dialed_by for link in links] == ["GENSTAB", "GENSTAB"]


def test_the_lanes_are_settled_apart() -> None:
    # A link of one lane never displaces the other lane's link, whoever dialed it.
    at_saceur = channel("GENSTAB")
    at_saceur.links[Lane.URGENT] = FakeLink("SACEUR")  # type: ignore[assignment]
    assert at_saceur.keeps_new_link("SACEUR", Lane.ORDINARY, "SACEUR")
    at_saceur.links[Lane.ORDINARY] = FakeLink("SACEUR")  # type: ignore[assignment]
    assert at_saceur.link_for(Lane.URGENT) is at_saceur.links[Lane.URGENT]
    del at_saceur.links[Lane.URGENT]
    assert at_saceur.link_for(Lane.URGENT) is at_saceur.links[Lane.ORDINARY], "a lane that is down borrows the other"


def test_a_redial_by_the_same_dialer_replaces_the_half_open_link() -> None:
    at_genstab = channel("SACEUR")
    at_genstab.links[Lane.ORDINARY] = FakeLink("SACEUR")  # type: ignore[assignment]
    assert at_genstab.keeps_new_link("GENSTAB", Lane.ORDINARY, "SACEUR")


def test_in_flight_is_split_by_lane_in_sequence_order() -> None:
    ch = channel("GENSTAB")
    for seq, rank in ((3, 3), (5, 0), (1, 3), (4, 1), (2, 2)):
        ch.inflight[seq] = Dispatched(seq, "GENSTAB", seq, b"env", bytes([seq]) * 32, 0, rank)
    assert [i.seq for i in ch.in_flight(Lane.URGENT)] == [4, 5]
    assert [i.seq for i in ch.in_flight(Lane.ORDINARY)] == [1, 2, 3]
    assert ch.count_in_flight(Lane.URGENT) == 2


def test_a_receipt_settles_exactly_the_envelopes_it_names() -> None:
    ch = channel("GENSTAB")
    for seq in (1, 2, 3):
        ch.inflight[seq] = Dispatched(seq, "GENSTAB", seq, b"env", bytes([seq]) * 32, 0, 3)
    receipt = Receipt(
        "GENSTAB",
        "SACEUR",
        0,
        (
            ReceiptEntry(1, b"\x01" * 32, 10),
            ReceiptEntry(2, b"\xff" * 32, 11),  # the peer names another envelope under our number 2
            ReceiptEntry(9, b"\x09" * 32, 12),  # never sent
        ),
    )
    delivered, conflicting = ch.settle(receipt)
    assert ([item.seq for item in delivered], conflicting) == ([1], [2])
    assert list(ch.inflight) == [2, 3]
    assert ch.settle(receipt) == ([], [2]), "settling twice delivers nothing twice"


def test_backoff_grows_with_jitter_and_stays_capped() -> None:
    random.seed(7)
    backoff = Backoff(0.2, 5.0)
    delays = [backoff.next_delay() for _ in range(30)]
    assert all(0.2 <= d <= 5.0 for d in delays)
    assert max(delays[:2]) <= 0.4
    assert max(delays[10:]) > 2.0  # it does grow toward the cap
    backoff.reset()
    assert backoff.next_delay() <= 0.2
