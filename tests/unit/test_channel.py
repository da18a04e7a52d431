"""Per-peer rules that both ends must apply identically."""

import random
from typing import cast

from hotline.crypto import VerifyKey, generate_signing_key
from hotline.node.channel import Backoff, Channel
from hotline.node.link import Link
from hotline.protocol import InboundSequence, Lane
from hotline.protocol.ledger import SendLedger
from hotline.protocol.paths import PathTable
from hotline.storage import PeerRecord


class FakeLink:
    def __init__(self, path: int, lane: Lane) -> None:
        self.path, self.lane = path, lane


def channel(peer: str, paths: int = 1) -> Channel:
    addresses = tuple(f"127.0.0.1:{port}" for port in range(1, paths + 1))
    record = PeerRecord(peer, generate_signing_key().verify_key.raw, b"", addresses, "", 0)
    return Channel(
        record, VerifyKey(record.sign_key), InboundSequence(), SendLedger(1, 512), Backoff(0.2, 5.0), PathTable(paths)
    )


def link(at: Channel, path: int, lane: Lane) -> Link:
    made = cast("Link", FakeLink(path, lane))  # what the routes read of a link: its path and lane
    at.links[(path, lane)] = made
    at.paths.linked(path, lane, 0.0)
    return made


def unlink(at: Channel, path: int, lane: Lane) -> None:
    del at.links[(path, lane)]
    at.paths.unlinked(path, lane, 0.0)


def test_a_lane_that_is_down_borrows_the_other() -> None:
    at_saceur = channel("GENSTAB")
    urgent, ordinary = link(at_saceur, 0, Lane.URGENT), link(at_saceur, 0, Lane.ORDINARY)
    assert at_saceur.link_for(Lane.URGENT, 0.0) is urgent
    unlink(at_saceur, 0, Lane.URGENT)
    assert at_saceur.link_for(Lane.URGENT, 0.0) is ordinary, "a lane that is down borrows the other"
    unlink(at_saceur, 0, Lane.ORDINARY)
    assert (at_saceur.link_for(Lane.URGENT, 0.0), at_saceur.has_link()) == (None, False)


def test_urgent_traffic_goes_on_every_path_that_is_up_and_ordinary_on_the_carrier() -> None:
    at_saceur = channel("GENSTAB", paths=2)
    first = [link(at_saceur, 0, lane) for lane in Lane]
    second = [link(at_saceur, 1, lane) for lane in Lane]
    routes = at_saceur.routes(0.0)
    assert routes.ordinary is first[1]  # the first advertised path carries
    assert routes.urgent == (first[0], second[0])
    at_saceur.paths.fell_silent(0, Lane.URGENT, 1.0)  # a silent cut of path 0
    routes = at_saceur.routes(1.0)
    assert (routes.ordinary, routes.urgent) == (second[1], (second[0],))
    assert at_saceur.has_link()


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
