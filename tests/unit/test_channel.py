"""Per-peer rules that both ends must apply identically."""

import random
from typing import cast

from hotline.crypto import VerifyKey, generate_signing_key
from hotline.node.channel import Backoff, Channel
from hotline.node.link import Link
from hotline.protocol import InboundSequence, Lane
from hotline.protocol.ledger import SendLedger
from hotline.protocol.paths import HOLD, PathTable
from hotline.storage import Dispatched, PeerRecord


class FakeLink:
    """What the routes read of a link: its path and lane, and whether it is open."""

    def __init__(self, path: int, lane: Lane) -> None:
        self.path, self.lane = path, lane
        self.key = (path, lane)
        self.usable = True


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


def flying(at: Channel, *ranks: int) -> list[Dispatched]:
    """Envelopes signed and in flight, one per rank (0 = FLASH, 3 = ROUTINE)."""
    first = at.ledger.take(len(ranks))
    items = [
        Dispatched(100 + i, at.party, first + i, b"env", bytes([first + i]), 0, rank) for i, rank in enumerate(ranks)
    ]
    at.ledger.add(items)
    return items


def send_as_planned(at: Channel, now: float) -> dict[Link, list[int]]:
    """What the node writes after a route change: the plan, recorded as written."""
    plan = at.resend_plan(at.routes(now))
    for written_on, items in plan.items():
        at.wrote(written_on, [item.seq for item in items])
    return {written_on: [item.seq for item in items] for written_on, items in plan.items()}


def test_what_a_carrier_carried_goes_again_when_it_falls_silent_however_it_became_carrier() -> None:
    """Path 1 takes the traffic back after its hold, inside a status read, with nothing resent
    (nothing needed it); when it falls silent later, what it carried goes on path 2."""
    at = channel("GENSTAB", paths=2)
    for path in (0, 1):
        link(at, path, Lane.URGENT)
        link(at, path, Lane.ORDINARY)
    assert at.routes(0.0).ordinary is at.links[(0, Lane.ORDINARY)]
    at.paths.fell_silent(0, Lane.URGENT, 1.0)
    assert at.routes(1.0).ordinary is at.links[(1, Lane.ORDINARY)]
    at.paths.heard(0, Lane.URGENT, 2.0)
    assert at.routes(2.5).ordinary is at.links[(1, Lane.ORDINARY)]
    assert at.routes(2.0 + HOLD).ordinary is at.links[(0, Lane.ORDINARY)]  # taken back, by a read
    [routine] = flying(at, 3)
    at.wrote(at.links[(0, Lane.ORDINARY)], [routine.seq])
    assert send_as_planned(at, 10.0) == {}  # carried by a live link: nothing again
    at.paths.fell_silent(0, Lane.URGENT, 10.0)
    assert send_as_planned(at, 10.0) == {at.links[(1, Lane.ORDINARY)]: [routine.seq]}
    assert send_as_planned(at, 10.0) == {}  # and once only


def test_what_a_replaced_link_carried_goes_on_the_link_that_replaced_it() -> None:
    at = channel("GENSTAB")
    link(at, 0, Lane.URGENT)
    old = link(at, 0, Lane.ORDINARY)
    [routine] = flying(at, 3)
    at.wrote(old, [routine.seq])
    new = link(at, 0, Lane.ORDINARY)  # the peer redialed: its new link replaces ours, still open
    assert cast("FakeLink", old).usable
    assert send_as_planned(at, 1.0) == {new: [routine.seq]}


def test_a_path_heard_again_on_the_same_links_is_not_sent_its_envelopes_again() -> None:
    at = channel("GENSTAB")
    urgent, ordinary = link(at, 0, Lane.URGENT), link(at, 0, Lane.ORDINARY)
    flash, routine = flying(at, 0, 3)
    at.wrote(urgent, [flash.seq])
    at.wrote(ordinary, [routine.seq])
    at.paths.fell_silent(0, Lane.URGENT, 1.0)  # a stall of the event loop, at either end
    assert send_as_planned(at, 1.0) == {}  # no path up: nowhere to send
    at.paths.heard(0, Lane.URGENT, 1.5)
    assert send_as_planned(at, 1.5) == {}  # the same connections still hold them


def test_a_flash_goes_to_every_path_that_lacks_it_and_an_answer_ends_its_resending() -> None:
    at = channel("GENSTAB", paths=2)
    first = link(at, 0, Lane.URGENT)
    [flash] = flying(at, 0)
    at.wrote(first, [flash.seq])
    second = link(at, 1, Lane.URGENT)  # a path comes up while the FLASH is on its way
    assert send_as_planned(at, 0.0) == {second: [flash.seq]}
    at.ledger.settle([(flash.seq, flash.envelope_id)])
    at.answered([flash.seq])
    assert at.on_wire == {}
