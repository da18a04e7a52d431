"""An ordinary link that leans on its path's urgent link (issue 19): it sends nothing of its own
while the urgent link speaks for both, and speaks, or is buried, on its own once it does not."""

from __future__ import annotations

import pytest

from hotline.errors import RemoteProtocolError
from hotline.protocol import PROTOCOL_VERSION, FrameType, PeerSession, SessionState, encode_frame
from hotline.protocol.sequence import InboundSequence
from hotline.testing import FakeClock, Party, SessionPair

HEARTBEAT, DEAD_AFTER = 5.0, 15.0


class Path:
    """Two parties' urgent and ordinary links on one path, on one manual clock; the ordinary
    link of each end leans on that end's urgent link, as ``Links._serve_link`` wires them.

    Each link sleeps as ``Link.run`` does: until the time its session named when it last woke
    (on a grid of ``tick``), or until bytes reach it; what another link heard meanwhile does not
    wake it."""

    def __init__(self, heartbeat: float = HEARTBEAT, dead_after: float = DEAD_AFTER, tick: float = 0.0) -> None:
        self.clock = FakeClock()
        alpha, bravo = Party("ALPHA"), Party("BRAVO")
        self.urgent = SessionPair(alpha, bravo, self.clock)
        self.ordinary = SessionPair(alpha, bravo, self.clock)
        for session in self.sessions():
            session.heartbeat, session.dead_after = heartbeat, dead_after
        for session in (self.urgent.a, self.urgent.b):
            session.probe, session.silent_after = 1.0, 3.0
        self.ordinary.a.leans_on = lambda: self.urgent.a
        self.ordinary.b.leans_on = lambda: self.urgent.b
        self.tick = tick
        self.cut = False  # the urgent link's bytes lost both ways
        self.buried: dict[int, float] = {}  # id of a session closed for silence -> when
        self.wake = {id(s): s.get_timer(tick) for s in self.sessions()}

    def sessions(self) -> list[PeerSession]:
        return [self.urgent.a, self.urgent.b, self.ordinary.a, self.ordinary.b]

    def run(self, seconds: float) -> None:
        """Drive every timer for ``seconds``, delivering what each link says at once."""
        end = self.clock.now + seconds
        while True:
            live = [s for s in self.sessions() if s.state is not SessionState.CLOSED]
            due = min((self.wake[id(s)] for s in live), default=end + 1)
            if due > end:
                self.clock.now = end
                return
            self.clock.now = max(self.clock.now, due)
            for session in live:
                if self.wake[id(session)] <= self.clock.now:
                    self._timer(session)
            self._deliver()

    def _timer(self, session: PeerSession) -> None:
        try:
            session.handle_timer(self.clock.now)
        except RemoteProtocolError as exc:
            if exc.code != "peer-silent":
                raise
            self.buried[id(session)] = self.clock.now
            return
        self.wake[id(session)] = session.get_timer(self.tick)

    def _deliver(self) -> None:
        for pair, lost in ((self.urgent, self.cut), (self.ordinary, False)):
            for sender, receiver in ((pair.a, pair.b), (pair.b, pair.a)):
                data = sender.data_to_send()
                if data and not lost and receiver.state is not SessionState.CLOSED:
                    receiver.receive_data(data, self.clock.now)
                    while receiver.next_event(self.clock.now) is not None:
                        pass
                    self.wake[id(receiver)] = receiver.get_timer(self.tick)
                    answer = receiver.data_to_send()
                    if answer and sender.state is not SessionState.CLOSED:
                        sender.receive_data(answer, self.clock.now)
                        while sender.next_event(self.clock.now) is not None:
                            pass
                        self.wake[id(sender)] = sender.get_timer(self.tick)


def test_both_ends_say_in_their_hellos_that_they_lean() -> None:
    pair = SessionPair()
    assert pair.a.peer_quiet
    assert pair.b.peer_quiet


def test_an_idle_ordinary_link_sends_nothing_while_its_urgent_link_is_heard() -> None:
    path = Path()
    path.run(120.0)
    assert path.urgent.a.pings_sent + path.urgent.b.pings_sent >= 100  # a probe a second
    assert (path.ordinary.a.pings_sent, path.ordinary.b.pings_sent) == (0, 0)
    assert path.ordinary.a.state is path.ordinary.b.state is SessionState.OPEN  # not buried


def test_once_the_urgent_link_closes_the_ordinary_one_keeps_its_own_heartbeat() -> None:
    path = Path()
    path.run(30.0)
    path.urgent.a.connection_lost()
    path.urgent.b.connection_lost()
    path.run(60.0)
    # Pinged within a heartbeat of the urgent link's last word, and every heartbeat since.
    assert path.ordinary.a.pings_sent + path.ordinary.b.pings_sent >= 60.0 / HEARTBEAT
    assert path.ordinary.a.state is path.ordinary.b.state is SessionState.OPEN


def test_a_peer_heard_on_neither_link_is_buried_on_both() -> None:
    path = Path()
    path.run(30.0)
    heard = path.clock.now
    path.cut = True  # the urgent link falls silent; the ordinary link carries nothing of its own
    path.run(60.0)
    for session in path.sessions():
        assert session.state is SessionState.CLOSED
        assert path.buried[id(session)] == pytest.approx(heard + DEAD_AFTER, abs=1.0)


@pytest.mark.parametrize(("heartbeat", "dead_after"), [(5.0, 15.0), (5.0, 10.0), (8.0, 15.0)])
def test_when_the_urgent_link_closes_alone_the_ordinary_one_speaks_before_the_peer_buries_it(
    heartbeat: float, dead_after: float
) -> None:
    """The urgent connection ends (a fault of its own); the ordinary one, idle and leaning, must
    ping in time for the peer not to bury it, though nothing woke it when the other closed."""
    path = Path(heartbeat, dead_after, tick=heartbeat / 2)
    path.run(31.7)
    path.urgent.a.connection_lost()
    path.urgent.b.connection_lost()
    path.run(120.0)
    assert path.buried == {}
    assert path.ordinary.a.state is path.ordinary.b.state is SessionState.OPEN
    assert path.ordinary.a.pings_sent + path.ordinary.b.pings_sent >= 120.0 / heartbeat - 1


def test_with_a_peer_that_does_not_lean_each_link_keeps_its_own_heartbeat() -> None:
    """An older node buries a link on that link's silence alone: we ping it as before."""
    clock = FakeClock()
    alpha = Party("ALPHA")
    urgent = SessionPair(clock=clock).a
    ordinary = PeerSession(
        local="BRAVO",
        peer="ALPHA",
        peer_key=alpha.key.verify_key,
        inbound=InboundSequence(),
        send_next=1,
        now=clock.now,
    )
    ordinary.leans_on = lambda: urgent
    ordinary.hello(clock.now)
    ordinary.receive_data(
        encode_frame(FrameType.HELLO, proto=PROTOCOL_VERSION, party="ALPHA", peer="BRAVO", recv_next=1, send_next=1),
        clock.now,
    )
    assert ordinary.next_event(clock.now) is not None
    assert not ordinary.peer_quiet
    ordinary.data_to_send()
    clock.advance(HEARTBEAT - 1)
    urgent.handle_timer(clock.now)  # the urgent link speaks: it does not count here
    assert ordinary.get_timer() == pytest.approx(clock.now + 1)
    clock.advance(1)
    ordinary.handle_timer(clock.now)
    assert ordinary.pings_sent == 1


def test_an_ordinary_link_to_a_node_the_peer_has_replaced_leans_on_nothing() -> None:
    """A peer of two nodes took over: the urgent link now runs to its new active node (a later
    lease epoch), the ordinary one still to the old. The old one is buried for its own silence."""
    path = Path()
    path.run(30.0)
    heard = path.ordinary.a.last_received
    path.urgent.a.peer_epoch = 2  # the urgent link was dialed again, to the new active node
    with pytest.raises(RemoteProtocolError) as info:
        idle_until_buried(path, rounds=100)  # a link that leaned on the new node's never would be
    assert info.value.code == "peer-silent"
    assert path.clock.now <= heard + DEAD_AFTER + 0.001


def idle_until_buried(path: Path, rounds: int) -> None:
    """The old node frozen (nothing comes back on the ordinary link), the new one heard all along
    on the urgent link: the ordinary link's timers run, ``rounds`` times at most."""
    session = path.ordinary.a
    for _ in range(rounds):
        path.clock.advance(session.get_timer() - path.clock.now)
        session.handle_timer(path.clock.now)
        session.data_to_send()
        path.urgent.a.receive_data(b"", path.clock.now)


def test_an_envelope_left_unanswered_on_the_ordinary_link_ends_its_leaning() -> None:
    """The peer takes bytes on the ordinary connection and never reads them (its handler stuck,
    or a middlebox answering for it), while its urgent link is heard all along: the ordinary
    link pings on its own again and is buried for its own silence, and its envelope goes again
    on the next link."""
    path = Path()
    path.run(30.0)
    sent = path.clock.now
    path.ordinary.a.send_envelope(b"an envelope", sent)
    path.ordinary.a.data_to_send()  # lost in the stuck connection
    path.ordinary.b.state = SessionState.CLOSED  # and the peer's side of it says nothing more
    path.wake[id(path.ordinary.a)] = path.ordinary.a.get_timer()
    path.run(60.0)
    assert path.urgent.a.state is path.urgent.b.state is SessionState.OPEN
    assert path.ordinary.a.pings_sent >= 2  # its own heartbeat, unanswered
    assert path.buried[id(path.ordinary.a)] == pytest.approx(sent + DEAD_AFTER, abs=HEARTBEAT)
