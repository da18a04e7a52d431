"""Per-peer rules that both ends must apply identically."""

import random

from hotline.crypto import VerifyKey, generate_signing_key
from hotline.node.channel import Backoff, Channel
from hotline.protocol import InboundSequence, Lane
from hotline.protocol.ledger import SendLedger
from hotline.storage import PeerRecord


class FakeLink:
    def __init__(self, dialed_by: str) -> None:
        self.dialed_by = dialed_by


def channel(peer: str) -> Channel:
    record = PeerRecord(peer, generate_signing_key().verify_key.raw, b"", ("127.0.0.1:1",), "", 0)
    return Channel(record, VerifyKey(record.sign_key), InboundSequence(), SendLedger(1, 512), Backoff(0.2, 5.0))


def test_a_lane_that_is_down_borrows_the_other() -> None:
    at_saceur = channel("GENSTAB")
    at_saceur.links[Lane.URGENT] = FakeLink("SACEUR")  # type: ignore[assignment]
    at_saceur.links[Lane.ORDINARY] = FakeLink("SACEUR")  # type: ignore[assignment]
    assert at_saceur.link_for(Lane.URGENT) is at_saceur.links[Lane.URGENT]
    del at_saceur.links[Lane.URGENT]
    assert at_saceur.link_for(Lane.URGENT) is at_saceur.links[Lane.ORDINARY], "a lane that is down borrows the other"


def test_backoff_grows_with_jitter_and_stays_capped() -> None:
    random.seed(7)
    backoff = Backoff(0.2, 5.0)
    delays = [backoff.next_delay() for _ in range(30)]
    assert all(0.2 <= d <= 5.0 for d in delays)
    assert max(delays[:2]) <= 0.4
    assert max(delays[10:]) > 2.0  # it does grow toward the cap
    backoff.reset()
    assert backoff.next_delay() <= 0.2


def test_backoff_stays_capped_however_long_the_peer_is_away() -> None:
    backoff = Backoff(0.2, 5.0)
    delays = [backoff.next_delay() for _ in range(5000)]  # hours of redials; 1024 overflowed a float
    assert all(0.2 <= d <= 5.0 for d in delays)
