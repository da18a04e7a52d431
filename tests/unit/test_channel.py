"""Per-peer rules that both ends must apply identically."""

import random
from typing import Any

from hotline.crypto import VerifyKey, generate_signing_key
from hotline.envelope import Receipt, ReceiptEntry
from hotline.node.channel import Backoff, Channel
from hotline.protocol import InboundSequence
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
            assert ch.keeps_new_link(local, first)
            ch.link = FakeLink(first)  # type: ignore[assignment]
            if ch.keeps_new_link(local, second):
                ch.link = FakeLink(second)  # type: ignore[assignment]
        links: list[Any] = [at_saceur.link, at_genstab.link]
        assert [link.dialed_by for link in links] == ["GENSTAB", "GENSTAB"]


def test_a_redial_by_the_same_dialer_replaces_the_half_open_link() -> None:
    at_genstab = channel("SACEUR")
    at_genstab.link = FakeLink("SACEUR")  # type: ignore[assignment]
    assert at_genstab.keeps_new_link("GENSTAB", "SACEUR")


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
    assert ch.settle(receipt) == ([1], [2])
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
