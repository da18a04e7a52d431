"""A party of several nodes, in the pure parts: the card that names them, the channel that dials
one in turn, the standby frame and the epoch in the hello."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from hotline.errors import PairingError, RemoteProtocolError
from hotline.node.card import IdentityCard
from hotline.protocol import PROTOCOL_VERSION, FrameType, InboundSequence, PeerSession, encode_frame
from hotline.protocol import events as ev
from hotline.storage import PartyNode, card_addresses
from hotline.testing import FakeClock, Party
from tests.unit.test_card import make_card
from tests.unit.test_channel import channel


def test_the_card_names_every_node_on_each_path_and_parses_back() -> None:
    nodes = [
        PartyNode(1, "10.0.0.1:7001", "127.0.0.1:8001", ("10.0.0.1:7001", "10.1.0.1:7001")),
        PartyNode(2, "10.0.0.2:7001", "127.0.0.1:8001", ("10.0.0.2:7001", "10.1.0.2:7001")),
    ]
    addresses = card_addresses(nodes)
    assert addresses == ("10.0.0.1:7001|10.0.0.2:7001", "10.1.0.1:7001|10.1.0.2:7001")
    card = make_card()
    several = IdentityCard(card.party, card.sign_key, card.tls_cert, addresses)
    assert IdentityCard.parse(several.line()) == several
    assert several.fingerprint == card.fingerprint, "the nodes' addresses are not who the party is"


@pytest.mark.parametrize(
    ("alternatives", "message"),
    [("127.0.0.1:1|nowhere", "HOST:PORT"), ("|".join(["127.0.0.1:1"] * 17), "names 17 nodes on a path")],
)
def test_a_card_naming_nodes_badly_is_refused(alternatives: str, message: str) -> None:
    line = make_card().line().replace("127.0.0.1:7001", alternatives, 1)
    with pytest.raises(PairingError, match=message):
        IdentityCard.parse(line)


def test_the_channel_dials_the_node_it_was_sent_to_and_the_next_in_turn() -> None:
    at = channel("ALPHA", paths=2)
    at.peer = replace(at.peer, addresses=("a1:1|b1:1", "a2:1|b2:1"))
    assert (at.nodes, at.address(0), at.address(1), at.address(2)) == (2, "a1:1", "a2:1", None)
    assert at.move_to(1)
    assert at.moved.is_set()
    assert (at.address(0), at.address(1)) == ("b1:1", "b2:1")
    assert not at.move_to(1), "already there: nothing moves"
    assert at.move_to(2)  # past the last: the first again
    assert at.address(0) == "a1:1"


def session() -> PeerSession:
    a = Party("ALPHA")
    return PeerSession(
        local="BRAVO", peer="ALPHA", peer_key=a.key.verify_key, inbound=InboundSequence(), send_next=1, now=0.0
    )


def test_a_standby_answers_in_a_frame_the_dialer_reads_instead_of_a_hello() -> None:
    s = session()
    s.receive_data(encode_frame(FrameType.STANDBY, party="ALPHA", epoch=3, active=2, addresses=["b:1", "b:2"]), 0.0)
    assert s.next_event(0.0) == ev.PeerStandingBy(2, ("b:1", "b:2"), 3)


@pytest.mark.parametrize(
    "fields",
    [
        {"epoch": 1, "active": 0, "addresses": []},
        {"epoch": 1, "active": 17, "addresses": []},
        {"epoch": 2**60, "active": 1, "addresses": []},
        {"epoch": 1, "active": 1, "addresses": ["x:1"] * 9},
        {"epoch": 1, "active": 1, "addresses": [b"x:1"]},
        {"epoch": 1, "active": 1, "addresses": "x:1"},
        {"epoch": "1", "active": 1, "addresses": []},
    ],
)
def test_a_malformed_standby_frame_breaks_the_session(fields: dict[str, Any]) -> None:
    s = session()
    s.receive_data(encode_frame(FrameType.STANDBY, party="ALPHA", **fields), 0.0)
    with pytest.raises(RemoteProtocolError) as info:
        s.next_event(0.0)
    assert info.value.code == "malformed-frame"


def test_the_hello_carries_the_epoch_the_node_is_active_under() -> None:
    clock = FakeClock()
    alpha = Party("ALPHA")
    sender = PeerSession(
        local="ALPHA", peer="BRAVO", peer_key=alpha.key.verify_key, inbound=InboundSequence(), send_next=1,
        now=clock.now, epoch=7,
    )  # fmt: skip
    sender.hello(clock.now)
    s = session()
    s.receive_data(sender.data_to_send(), clock.now)
    opened = s.next_event(clock.now)
    assert isinstance(opened, ev.SessionOpened)
    assert opened.peer_epoch == 7
    plain = session()
    plain.receive_data(
        encode_frame(FrameType.HELLO, proto=PROTOCOL_VERSION, party="ALPHA", peer="BRAVO", recv_next=1, send_next=1),
        0.0,
    )
    assert plain.next_event(0.0) == ev.SessionOpened(1, 1), "a party of one node says no epoch: 0"


def test_a_move_to_a_node_that_just_failed_waits_the_backoff() -> None:
    """A standby naming an active node that is down must not set off a dial storm: the move is
    made, but the dialers are not woken for it; a path coming up forgets the failures."""
    at = channel("ALPHA", paths=1)
    at.peer = replace(at.peer, addresses=("a:1|b:1",))
    at.failed_nodes.add(0)  # node 1 was dialed and did not answer
    assert at.move_to(1)
    at.moved.clear()
    assert not at.move_to(0), "back to the node that failed: no dialer is woken"
    assert at.node == 0
    assert not at.moved.is_set()
    at.failed_nodes.clear()
    assert at.move_to(1)
