"""The session core, exercised as two real cores wired back to back (no sockets)."""

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.envelope import Receipt, ReceiptEntry, cbor
from hotline.errors import LocalProtocolError, RemoteProtocolError
from hotline.protocol import (
    PROTOCOL_VERSION,
    REACH,
    FrameType,
    InboundSequence,
    PeerSession,
    SessionState,
    encode_frame,
)
from hotline.protocol import events as ev
from hotline.protocol.state import TRANSITIONS
from hotline.testing import FakeClock, Party, SessionPair, sign_envelope


def test_handshake_opens_both_sides() -> None:
    pair = SessionPair()
    assert pair.a.state is SessionState.OPEN
    assert pair.b.state is SessionState.OPEN


def test_envelope_then_receipt() -> None:
    pair = SessionPair()
    signed = sign_envelope(pair.a_party, "BRAVO", 1, "hello")
    pair.a.send_envelope(signed, pair.clock.now)
    _, at_b = pair.transfer()
    [received] = at_b
    assert isinstance(received, ev.EnvelopeReceived)
    assert received.envelope.body["text"] == "hello"
    assert pair.b.inbound.next_seq == 2

    receipt = Receipt("BRAVO", "ALPHA", 5, (ReceiptEntry(1, received.opened.id, 0),)).seal(pair.b_party.key)
    pair.b.send_receipt(receipt, pair.clock.now)
    at_a, _ = pair.transfer()
    [got] = at_a
    assert isinstance(got, ev.ReceiptReceived)
    assert got.receipt.entries[0].envelope_id == received.opened.id


def test_new_duplicate_and_beyond_reach_are_told_apart() -> None:
    pair = SessionPair()
    for seq in (1, 1, 3, 2, 3, 4 + REACH):
        pair.a.send_envelope(sign_envelope(pair.a_party, "BRAVO", seq, f"m{seq}"), pair.clock.now)
    _, at_b = pair.transfer()
    kinds = [type(e) for e in at_b]
    received, duplicate, refused = ev.EnvelopeReceived, ev.DuplicateReceived, ev.EnvelopeRefused
    # 3 arrives before 2 (as it may by the urgent lane) and is taken; 2 fills the hole.
    assert kinds == [received, duplicate, received, received, duplicate, refused]
    assert pair.b.inbound.next_seq == 4
    gap = at_b[5]
    assert isinstance(gap, ev.EnvelopeRefused)
    assert gap.reason == "sequence-gap"
    assert not gap.consumed


@pytest.mark.parametrize(
    ("override", "reason"),
    [
        ({"v": 2}, "unsupported-version"),
        ({"kind": "no_such_form"}, "unknown-form"),
        ({"to": "CHARLIE"}, "wrong-recipient"),
        ({"body": {"text": "", "lang": "en"}}, "invalid-field"),
        ({"body": {"text": "x"}}, "invalid-field"),
    ],
)
def test_authentic_but_invalid_envelope_is_refused_and_uses_up_its_number(
    override: dict[str, object], reason: str
) -> None:
    pair = SessionPair()
    pair.a.send_envelope(sign_envelope(pair.a_party, "BRAVO", 1, overrides=override), pair.clock.now)
    _, [refused] = pair.transfer()
    assert isinstance(refused, ev.EnvelopeRefused)
    assert refused.reason == reason
    assert refused.consumed
    assert pair.b.inbound.next_seq == 2


@pytest.mark.parametrize(
    ("signed_by", "code"),
    [("stranger", "bad-signature"), ("garbled", "malformed-envelope")],
)
def test_inauthentic_envelopes_break_the_session(signed_by: str, code: str) -> None:
    pair = SessionPair()
    stranger = sign_envelope(Party("ALPHA"), "BRAVO", 1)  # the right name, the wrong key
    obj = stranger if signed_by == "stranger" else b"\x83\x68envelope\x41\x00\x41\x00"
    pair.b.receive_data(encode_frame(FrameType.ENVELOPE, obj=obj), pair.clock.now)
    with pytest.raises(RemoteProtocolError) as info:
        pair.b.next_event(pair.clock.now)
    assert info.value.code == code
    assert pair.b.state is SessionState.CLOSED
    assert pair.b.inbound.next_seq == 1


def test_oversized_frame_is_refused_from_its_length_alone() -> None:
    pair = SessionPair()
    pair.b.receive_data((10 << 20).to_bytes(4, "big"), pair.clock.now)
    with pytest.raises(RemoteProtocolError) as info:
        pair.b.next_event(pair.clock.now)
    assert info.value.code == "frame-too-large"


def test_truncated_frame_yields_nothing_and_is_reported_on_close() -> None:
    pair = SessionPair()
    frame = encode_frame(FrameType.ENVELOPE, obj=sign_envelope(pair.a_party, "BRAVO", 1))
    pair.b.receive_data(frame[:-5], pair.clock.now)
    assert pair.b.next_event(pair.clock.now) is None
    assert pair.b.connection_lost() == len(frame) - 5
    assert pair.b.inbound.next_seq == 1


def test_nothing_but_hello_before_hello() -> None:
    clock = FakeClock()
    a = Party("ALPHA")
    session = PeerSession(
        local="BRAVO", peer="ALPHA", peer_key=a.key.verify_key, inbound=InboundSequence(), send_next=1, now=clock.now
    )
    session.receive_data(encode_frame(FrameType.ENVELOPE, obj=sign_envelope(a, "BRAVO", 1)), clock.now)
    with pytest.raises(RemoteProtocolError) as info:
        session.next_event(clock.now)
    assert info.value.code == "unexpected-frame"
    with pytest.raises(LocalProtocolError):
        session.send_envelope(b"x", clock.now)


def test_hello_from_the_wrong_party_is_refused() -> None:
    clock = FakeClock()
    a = Party("ALPHA")
    session = PeerSession(
        local="BRAVO", peer="ALPHA", peer_key=a.key.verify_key, inbound=InboundSequence(), send_next=1, now=clock.now
    )
    hello = encode_frame(
        FrameType.HELLO, proto=PROTOCOL_VERSION, party="CHARLIE", peer="BRAVO", recv_next=1, send_next=1
    )
    session.receive_data(hello, clock.now)
    with pytest.raises(RemoteProtocolError) as info:
        session.next_event(clock.now)
    assert info.value.code == "wrong-party"


def test_heartbeat_measures_round_trip_and_silence_kills() -> None:
    pair = SessionPair()
    assert pair.a.get_timer() == pair.clock.now + 5.0
    pair.clock.advance(5.0)
    pair.a.handle_timer(pair.clock.now)
    pair.b.handle_timer(pair.clock.now)
    pair.clock.advance(0.25)
    at_a, at_b = pair.transfer()
    assert ev.RoundTrip(0.25) in at_a
    assert ev.RoundTrip(0.25) in at_b
    pair.clock.advance(15.0)
    with pytest.raises(RemoteProtocolError) as info:
        pair.a.handle_timer(pair.clock.now)
    assert info.value.code == "peer-silent"


def is_silent(session: PeerSession) -> bool:
    return session.silent


def test_a_probed_link_pings_when_nothing_is_heard_and_falls_silent_then_revives() -> None:
    pair = SessionPair()
    pair.a.probe, pair.a.silent_after = 0.1, 0.35
    start = pair.clock.now
    assert pair.a.get_timer() == start + 0.1  # probing: sooner than the 5 s heartbeat
    pair.clock.advance(0.1)
    pair.a.handle_timer(pair.clock.now)
    pair.clock.advance(0.002)
    at_a, _ = pair.transfer()  # the peer answers at once, whatever its own timers
    [trip] = [e for e in at_a if isinstance(e, ev.RoundTrip)]
    assert trip.seconds == pytest.approx(0.002)
    assert (pair.a.pings_sent, pair.a.pongs_received, is_silent(pair.a)) == (1, 1, False)

    # Now the path is cut silently: a keeps pinging into the void and, at the limit, is silent.
    heard = pair.clock.now
    said = []
    while pair.clock.now < heard + 0.35:
        pair.clock.advance(pair.a.get_timer() - pair.clock.now)
        said.append(pair.a.handle_timer(pair.clock.now))
        pair.a.data_to_send()  # lost
    assert said == [None, None, None, ev.LinkSilent()]  # three probes, then silent, said once
    assert is_silent(pair.a)
    assert pair.a.state is SessionState.OPEN  # not closed: the path may heal
    assert pair.a.pings_sent - pair.a.pongs_received == 3
    # Silent, it still pings every probe interval; the first word back revives it.
    timer = pair.a.get_timer()
    assert timer <= pair.clock.now + 0.1
    pair.b.handle_timer(pair.clock.now + 5.0)  # the peer's heartbeat gets through now
    pair.a.receive_data(pair.b.data_to_send(), pair.clock.now)
    assert not is_silent(pair.a)
    assert pair.a.next_event(pair.clock.now) == ev.LinkHeard()  # before the frame's own event
    assert pair.a.handle_timer(pair.clock.now) is None


def test_on_a_grid_pings_wait_for_the_next_step_and_silence_is_judged_on_time() -> None:
    pair = SessionPair()
    pair.a.probe, pair.a.silent_after = 1.0, 3.0
    grid = 0.75
    heard = pair.clock.now
    # The probe falls due at heard + 1.0; on the grid, at the first multiple of 0.75 after it.
    ping = pair.a.get_timer(grid)
    assert ping >= heard + 1.0
    assert ping < heard + 1.0 + grid
    assert ping / grid == pytest.approx(round(ping / grid))
    assert pair.a.get_timer(0.0) == heard + 1.0  # no grid: the instant itself
    # Pinging into the void: the pings keep to the grid, the silence is declared at heard + 3.0.
    said = []
    while not is_silent(pair.a):
        pair.clock.advance(pair.a.get_timer(grid) - pair.clock.now)
        said.append((pair.clock.now, pair.a.handle_timer(pair.clock.now)))
        pair.a.data_to_send()  # lost
    moment, event = said[-1]
    assert (moment, event) == (heard + 3.0, ev.LinkSilent())
    assert all(at / grid == pytest.approx(round(at / grid)) for at, what in said if what is None)


def test_a_closed_session_asks_for_no_timer_in_the_past() -> None:
    """A peer's ERROR frame closes the session before the connection ends; a probe or heartbeat
    due then must not make the link wake again and again until the connection closes."""
    pair = SessionPair()
    pair.a.probe, pair.a.silent_after = 0.1, 0.35
    pair.b._frame(FrameType.ERROR, pair.clock.now, code="bye", detail="")
    pair.transfer()
    assert pair.a.state is SessionState.CLOSED
    pair.clock.advance(6.0)  # past the probe and the heartbeat
    assert pair.a.handle_timer(pair.clock.now) is None
    assert pair.a.get_timer() > pair.clock.now


def test_a_probe_now_measures_the_round_trip_however_busy_the_link() -> None:
    pair = SessionPair()
    pair.a.probe_now(pair.clock.now)
    pair.clock.advance(0.003)
    at_a, _ = pair.transfer()
    [trip] = [e for e in at_a if isinstance(e, ev.RoundTrip)]
    assert trip.seconds == pytest.approx(0.003)


def test_without_probing_nothing_pings_before_the_heartbeat() -> None:
    pair = SessionPair()
    pair.clock.advance(4.9)
    pair.a.handle_timer(pair.clock.now)
    assert pair.a.data_to_send() == b""
    assert not pair.a.silent


def trickle(session: PeerSession, clock: FakeClock, seconds: int) -> None:
    for _ in range(seconds):
        clock.advance(1.0)
        session.receive_data(b"\x00", clock.now)  # one byte a second: never silent, never a frame
        if clock.now >= session.get_timer():
            session.handle_timer(clock.now)


def test_a_peer_that_trickles_bytes_must_still_say_hello_in_time() -> None:
    clock = FakeClock()
    session = PeerSession(
        local="BRAVO",
        peer="ALPHA",
        peer_key=Party("ALPHA").key.verify_key,
        inbound=InboundSequence(),
        send_next=1,
        now=clock.now,
    )
    with pytest.raises(RemoteProtocolError) as info:
        trickle(session, clock, seconds=12)
    assert info.value.code == "hello-timeout"
    assert clock.now == 1010.0  # ten seconds after the connection opened


def test_error_frame_tells_the_peer_why() -> None:
    pair = SessionPair()
    pair.b.receive_data(pair.a.error_frame(RemoteProtocolError("bad-signature", "not yours")), pair.clock.now)
    assert pair.b.next_event(pair.clock.now) == ev.PeerClosed("bad-signature", "not yours")
    assert pair.b.state is SessionState.CLOSED


def test_the_state_table_allows_traffic_only_when_open() -> None:
    for (state, frame), new_state in TRANSITIONS.items():
        if frame in (FrameType.ENVELOPE, FrameType.RECEIPT, FrameType.REJECTION):
            assert state is SessionState.OPEN
            assert new_state is SessionState.OPEN
    assert not any(state is SessionState.CLOSED for state, _ in TRANSITIONS)


@settings(max_examples=300)
@given(st.lists(st.binary(max_size=64), max_size=8))
def test_random_bytes_give_only_events_or_the_remote_protocol_error(chunks: list[bytes]) -> None:
    pair = SessionPair()
    try:
        for chunk in chunks:
            pair.b.receive_data(chunk, pair.clock.now)
            while (event := pair.b.next_event(pair.clock.now)) is not None:
                assert isinstance(event, ev.PeerClosed | ev.RoundTrip | ev.SessionOpened)
    except RemoteProtocolError:
        assert pair.b.state is SessionState.CLOSED
    assert pair.b.inbound.next_seq == 1


@settings(max_examples=100)
@given(
    st.lists(st.sampled_from(["hello", "env", "rcpt", "rej", "ping", "pong", "error", "junk"]), max_size=6),
    st.dictionaries(st.sampled_from(["n", "obj", "proto", "party"]), st.integers(0, 3) | st.binary(max_size=8)),
)
def test_random_well_framed_maps_give_only_events_or_the_remote_protocol_error(
    types: list[str], fields: dict[str, object]
) -> None:
    pair = SessionPair()
    try:
        for t in types:
            body = cbor.encode({"t": t, **fields})
            pair.b.receive_data(len(body).to_bytes(4, "big") + body, pair.clock.now)
            while pair.b.next_event(pair.clock.now) is not None:
                pass
    except RemoteProtocolError:
        assert pair.b.state is SessionState.CLOSED


def test_receipt_is_bound_to_its_signer() -> None:
    pair = SessionPair()
    forged = Receipt("BRAVO", "ALPHA", 0, (ReceiptEntry(1, b"\x00" * 32, 0),)).seal(Party("BRAVO").key)
    pair.a.receive_data(encode_frame(FrameType.RECEIPT, obj=forged), pair.clock.now)
    with pytest.raises(RemoteProtocolError) as info:
        pair.a.next_event(pair.clock.now)
    assert info.value.code == "bad-signature"


@pytest.mark.parametrize(
    ("field", "fields"),
    [
        ("recv_next", {"recv_next": 2**63, "send_next": 1}),
        ("send_next", {"recv_next": 1, "send_next": 2**64 - 1}),
        ("held_num", {"recv_next": 1, "send_next": 1, "held_num": 2**63}),
        ("held_num", {"recv_next": 1, "send_next": 1, "held_num": -1}),
        ("clock", {"recv_next": 1, "send_next": 1, "clock": "noon"}),
        ("clock", {"recv_next": 1, "send_next": 1, "clock": 2**60}),
        ("held_num", {"recv_next": 1, "send_next": 1, "held_num": 2**63 - 1}),
    ],
    ids=["recv-next", "send-next", "held-num", "held-num-negative", "clock-not-a-number", "clock-beyond-dates", "max"],
)
def test_a_hello_with_numbers_no_store_can_hold_is_refused(field: str, fields: dict[str, Any]) -> None:
    # Taken on trust, a pinned peer's "you are at 2**63" would move our numbering past SQLite's
    # integers and stop the node at its next message.
    clock = FakeClock()
    a = Party("ALPHA")
    session = PeerSession(
        local="BRAVO", peer="ALPHA", peer_key=a.key.verify_key, inbound=InboundSequence(), send_next=1, now=clock.now
    )
    session.receive_data(
        encode_frame(FrameType.HELLO, proto=PROTOCOL_VERSION, party="ALPHA", peer="BRAVO", **fields), clock.now
    )
    with pytest.raises(RemoteProtocolError) as info:
        session.next_event(clock.now)
    assert info.value.code == "malformed-frame"
    assert field in str(info.value)


def test_a_ping_tells_the_peer_the_round_trip_its_sender_measured() -> None:
    """The end that mostly answers judges the path by the other end's fresh round trips, and
    reads the other end's clock from them, instead of keeping a round trip from long ago."""
    pair = SessionPair()
    pair.a.probe_now(pair.clock.now)
    pair.clock.advance(0.25)
    _, at_b = pair.transfer()
    assert not [e for e in at_b if isinstance(e, ev.RoundTrip)]  # a's first ping: nothing measured yet
    pair.a.probe_now(pair.clock.now, wall_ms=1_000_000)
    pair.b.receive_data(pair.a.data_to_send(), pair.clock.now)
    # b's clock reads 1,000,085 ms as the ping arrives, 125 ms (half the round trip) after it
    # left: a's clock is 40 ms ahead of b's.
    assert pair.b.next_event(pair.clock.now, wall_ms=1_000_085) == ev.RoundTrip(0.25, 40)


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"rtt": -1}, "rtt"),
        ({"rtt": 2**40}, "rtt"),
        ({"rtt": "slow"}, "rtt"),
        ({"rtt": 1000, "clock": 2**60}, "clock"),
    ],
    ids=["negative", "beyond-any-round-trip", "not-a-number", "clock-beyond-any-date"],
)
def test_a_ping_with_a_round_trip_no_path_has_is_refused(fields: dict[str, Any], named: str) -> None:
    pair = SessionPair()
    pair.b.receive_data(encode_frame(FrameType.PING, n=1, **fields), pair.clock.now)
    with pytest.raises(RemoteProtocolError) as info:
        pair.b.next_event(pair.clock.now)
    assert info.value.code == "malformed-frame"
    assert named in str(info.value)


def test_a_round_trip_is_told_once() -> None:
    """Repeated, one measurement would count as many at the peer; told long after, it would
    describe the path as it was."""
    pair = SessionPair()
    pair.a.probe_now(pair.clock.now)
    pair.clock.advance(0.25)
    pair.transfer()
    told = []
    for _ in range(2):
        pair.a.probe_now(pair.clock.now)
        pair.b.receive_data(pair.a.data_to_send(), pair.clock.now)
        told.append(pair.b.next_event(pair.clock.now))
    assert told == [ev.RoundTrip(0.25, None), None]  # the second ping went before any answer
