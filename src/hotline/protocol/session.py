"""The session core: one connection to one pinned peer, with no I/O of its own.

The verbs follow h11: ``receive_data(bytes)`` buffers what the wire delivered and
``next_event(now)`` takes one event out (None when more bytes are needed); the ``send_*``
methods queue frames that ``data_to_send()`` hands back for the wire; ``get_timer()`` and
``handle_timer(now)`` drive heartbeats. The caller
owns the socket, the clock and the store; this module only decides.

What the core guarantees to its caller:

- Every envelope, receipt and rejection in an event is authentic: it parsed as a canonical
  signed object and its signature verified under the peer's pinned key. Anything else raises
  ``RemoteProtocolError`` before any event for it exists, so forged bytes can never reach the
  store. Events before the bad frame have already been handed out and stay valid. The caller
  then sends ``error_frame(exc)`` and closes.
- Envelope events come in arrival order, already classified against the shared
  ``InboundSequence`` (new / duplicate / beyond reach) and, for a new one, validated against
  its form. The caller stores ``EnvelopeReceived`` in event order.
- A peer silent for longer than ``dead_after`` is declared dead by ``handle_timer``.
- With ``probe`` set (the urgent link of each path, ``paths.py``), an idle link is pinged
  whenever nothing has been heard for ``probe`` seconds, so the peer's answers keep it heard
  whatever the peer's own timers; with ``silent_after`` set, ``handle_timer`` returns
  ``LinkSilent`` once nothing has been heard for that long (the path is down; the link stays
  open), and ``next_event`` gives ``LinkHeard`` first after the next bytes.
- Given the wall clock (``wall_ms``, milliseconds since the epoch, passed in like ``now``),
  the hello and each heartbeat carry it, and the events that answer them say how far the
  peer's clock is from ours (``skew_ms``: positive when the peer's is ahead). A heartbeat's
  reading allows for half its round trip; a hello's, for none (a one-way delay is milliseconds,
  and the tolerance is seconds). Without it the fields are left out, and the peer's absent
  fields give no reading: older nodes and hand-driven test peers stay understood.
- A link may lean on another (``leans_on``: the node gives an ordinary link the urgent link of
  its path, issue 19). When both ends said so in their hellos (``quiet``), what is heard and
  said on that other link counts for this one: it pings only when neither link has spoken for
  longer than a heartbeat (``_heard_and_spoke`` says how much longer), and is buried or found
  silent only when neither has been heard; an envelope it sent that nothing on it has answered
  yet ends the leaning until something does. Both links run
  over the same wires between the same two processes, so the urgent link's probes prove the
  ordinary one's path and peer alive; a connection of its own that died while the other lived
  is the kernel's to find (TCP keepalive and user timeout on every peer socket, ``sockets.py``).
  In a mesh of 57 this halves the frames of an idle node. A peer that did not say ``quiet``
  (an older node) keeps the heartbeat of its own on each link, and so do we with it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from hotline.crypto.keys import KeySet, VerifyKey
from hotline.envelope import Envelope, FieldError, Opened, Receipt, Rejection, open_signed
from hotline.envelope.model import MAX_SEQ
from hotline.errors import EncodingError, LocalProtocolError, RemoteProtocolError, SignatureError
from hotline.forms import FORMS, validate_body
from hotline.log.witness import Offer, Refusal
from hotline.protocol import events as ev
from hotline.protocol.fields import MAX_HELLO_NUMBER, WITNESSING, int_field, optional_int, standing_by
from hotline.protocol.frames import DEFAULT_MAX_FRAME, FrameReader, FrameType, encode_frame
from hotline.protocol.sequence import Arrival, InboundSequence
from hotline.protocol.state import SessionState, next_state

# 2: two lanes per channel, chosen by ALPN; numbers may arrive out of order across lanes.
PROTOCOL_VERSION = 2

# Why a field failed decides the rejection's reason code, so the sender can act on it.
_REASONS = {
    "v": "unsupported-version",
    "kind": "unknown-form",
    "kv": "unknown-form",
    "to": "wrong-recipient",
    "from": "wrong-sender",
}

MAX_PING_RTT_US = 600_000_000  # ten minutes: a ping's reported round trip beyond it is nonsense
ACK_VERSION = max(version for kind, version in FORMS if kind == "ack")


class PeerSession:
    def __init__(
        self,
        *,
        local: str,
        peer: str,
        peer_key: VerifyKey | KeySet,
        inbound: InboundSequence,
        send_next: int,
        now: float,
        heartbeat: float = 5.0,
        dead_after: float = 15.0,
        hello_timeout: float = 10.0,
        max_frame: int = DEFAULT_MAX_FRAME,
        held_number: int | None = None,
        epoch: int = 0,
        probe: float | None = None,
        silent_after: float | None = None,
    ) -> None:
        self.local = local
        self.held_number = held_number  # the highest message number we hold from the peer
        self.epoch = epoch  # the lease epoch our node is active under (0: the party has one node)
        self.peer_epoch = 0  # the peer's, once its hello came
        self.peer = peer
        self.peer_key = peer_key
        # Receipts and rejections: the peer's key, or one it has retired by a rotation. An answer
        # it signed before its rotation ended may come again (to an envelope we sent again), and
        # only the peer, over a link its current certificate authenticated, can send it.
        self.answer_key: VerifyKey | KeySet = peer_key
        self.inbound = inbound
        self.send_next = send_next
        self.heartbeat = heartbeat
        self.dead_after = dead_after
        self.max_frame = max_frame
        self.probe = probe  # seconds without a word before an idle link is pinged; None: heartbeat only
        self.silent_after = silent_after  # seconds without a word before the link is silent
        # The link this one leans on, if any (see the module's docstring), asked for afresh each
        # time since it may close and be replaced; and whether the peer leans too.
        self.leans_on: Callable[[], PeerSession | None] | None = None
        self.peer_quiet = False
        # An envelope went on this link and nothing has come back on it since: while so, it
        # leans on nothing, so that a peer that takes bytes on this one connection and never
        # reads them (stuck, or a middlebox answering for it) is found by this link's own
        # heartbeat and silence, as before, not hidden behind the other link's traffic.
        self._unanswered = False
        self.silent = False
        self._revived = False  # bytes came after silence: LinkHeard is the next event
        self.pings_sent = 0
        self.last_rtt: float | None = None  # seconds: the round trip our last ping measured, until told
        self.pongs_received = 0
        self._last_ping = now
        self.state = SessionState.HANDSHAKE
        self._reader = FrameReader(max_frame)
        self._last_received = now
        self._last_sent = now
        self._pings: dict[int, tuple[float, int | None]] = {}  # number -> (when, our wall clock)
        self._ping_counter = 0
        self._outgoing = bytearray()
        # Traffic keeps a link alive, but not before the hello: a connection that trickles
        # bytes must still say who it is in time.
        self._hello_deadline = now + hello_timeout

    # -- sending ---------------------------------------------------------------------------

    def hello(self, now: float, wall_ms: int | None = None) -> None:
        extra: dict[str, int] = {}
        if wall_ms is not None:
            extra["clock"] = wall_ms
        if self.held_number is not None:
            extra["held_num"] = self.held_number
        if self.epoch:
            extra["epoch"] = self.epoch
        # The newest acknowledgement form this node reads (2: with a rank); a peer that says
        # nothing reads only version 1, and is sent that (``watchkeeper.ack_draft``).
        extra["ack"] = ACK_VERSION
        extra["quiet"] = 1  # we count a leaned-on link's traffic for this one (see above)
        self._frame(
            FrameType.HELLO,
            now,
            proto=PROTOCOL_VERSION,
            party=self.local,
            peer=self.peer,
            recv_next=self.inbound.next_seq,
            send_next=self.send_next,
            **extra,
        )

    def send_envelope(self, signed: bytes, now: float) -> None:
        self._traffic(FrameType.ENVELOPE, signed, now)
        self._unanswered = True

    def send_receipt(self, signed: bytes, now: float) -> None:
        self._traffic(FrameType.RECEIPT, signed, now)

    def send_rejection(self, signed: bytes, now: float) -> None:
        self._traffic(FrameType.REJECTION, signed, now)

    def send_checkpoint(self, offer: Offer, now: float) -> None:
        self._witnessing(
            FrameType.CHECKPOINT,
            now,
            note=offer.note,
            old=offer.old_size,
            proof=list(offer.consistency),
            frontier=list(offer.frontier),
            leaves=b"".join(offer.leaves),  # one byte string: 32 bytes per leaf, no per-item overhead
            ours=[[index, envelope_id] for index, envelope_id in offer.ours],
        )

    def send_cosignature(self, size: int, line: str, now: float) -> None:
        self._witnessing(FrameType.COSIGNATURE, now, size=size, line=line)

    def send_checkpoint_refusal(self, size: int, refusal: Refusal, now: float) -> None:
        held = -1 if refusal.held_size is None else refusal.held_size
        proof = {} if refusal.held_note is None else {"held_note": refusal.held_note}
        self._witnessing(
            FrameType.CHECKPOINT_REFUSED,
            now,
            size=size,
            reason=refusal.reason,
            detail=refusal.detail[:500],
            equivocation=refusal.equivocation,
            held=held,
            **proof,
        )

    def _witnessing(self, kind: FrameType, now: float, **fields: Any) -> None:
        if self.state is not SessionState.OPEN:
            raise LocalProtocolError("not-open", f"cannot send {kind.value} in state {self.state.value}")
        self._frame(kind, now, **fields)

    def error_frame(self, error: RemoteProtocolError) -> bytes:
        """Tell the peer what it did wrong, and close: the last bytes of the session."""
        self.state = SessionState.CLOSED
        self._outgoing.clear()
        return encode_frame(FrameType.ERROR, code=error.code, detail=error.detail[:500])

    def data_to_send(self) -> bytes:
        data, self._outgoing = bytes(self._outgoing), bytearray()
        return data

    def _traffic(self, kind: FrameType, signed: bytes, now: float) -> None:
        if self.state is not SessionState.OPEN:
            raise LocalProtocolError("not-open", f"cannot send {kind.value} in state {self.state.value}")
        self._frame(kind, now, obj=signed)

    def _frame(self, kind: FrameType, now: float, **fields: Any) -> None:
        self._last_sent = now
        self._outgoing += encode_frame(kind, self.max_frame, **fields)

    # -- receiving -------------------------------------------------------------------------

    @property
    def last_received(self) -> float:
        """When bytes last came from the peer on this session (the caller's monotonic clock)."""
        return self._last_received

    def receive_data(self, data: bytes, now: float) -> None:
        """Buffer bytes from the wire; ``next_event`` interprets them."""
        if self.state is SessionState.CLOSED:
            raise RemoteProtocolError("closed", "data after the session closed")
        self._last_received = now
        self._unanswered = False
        if data and self.silent:
            self.silent = False
            self._revived = True
        self._reader.feed(data)

    def next_event(self, now: float, wall_ms: int | None = None) -> ev.Event | None:
        """The next event, or None when the buffered bytes hold no whole frame. Heartbeat
        frames are answered internally (see ``data_to_send``) and yield no event unless they
        measure a round trip. Raises ``RemoteProtocolError`` on the first violation."""
        if self._revived:
            self._revived = False
            return ev.LinkHeard()
        try:
            while self.state is not SessionState.CLOSED:
                frame = self._reader.next_frame()
                if frame is None:
                    return None
                kind, fields = frame
                self.state = next_state(self.state, kind)
                event = self._handle(kind, fields, now, wall_ms)
                if event is not None:
                    return event
            return None
        except RemoteProtocolError:
            self.state = SessionState.CLOSED
            raise

    def connection_lost(self) -> int:
        """The transport closed. Returns how many bytes of an unfinished frame were dropped."""
        self.state = SessionState.CLOSED
        return self._reader.pending

    def _handle(self, kind: FrameType, frame: dict[str, Any], now: float, wall_ms: int | None) -> ev.Event | None:
        if kind is FrameType.HELLO:
            return self._on_hello(frame, wall_ms)
        if kind is FrameType.PING:
            answer = {"n": int_field(frame, "n")} | ({} if wall_ms is None else {"clock": wall_ms})
            self._frame(FrameType.PONG, now, **answer)
            return self._their_round_trip(frame, wall_ms)
        if kind is FrameType.PONG:
            ping = self._pings.pop(int_field(frame, "n"), None)
            if ping is None:
                return None
            self.pongs_received += 1
            sent, sent_wall = ping
            clock = optional_int(frame, "clock")
            if clock is not None and clock > MAX_HELLO_NUMBER:
                raise RemoteProtocolError("malformed-frame", f"pong's 'clock' {clock} is beyond any date")
            rtt = self.last_rtt = now - sent
            skew = None if clock is None or sent_wall is None else clock - (sent_wall + round(rtt * 500))
            return ev.RoundTrip(rtt, skew)
        if kind is FrameType.ERROR:
            return ev.PeerClosed(str(frame.get("code", "?"))[:64], str(frame.get("detail", ""))[:500])
        if kind is FrameType.STANDBY:
            return standing_by(frame)
        if kind in WITNESSING:
            return WITNESSING[kind](frame)
        obj = frame.get("obj")
        if not isinstance(obj, bytes):
            raise RemoteProtocolError("malformed-frame", f"a {kind.value} frame carries 'obj' bytes")
        if kind is FrameType.ENVELOPE:
            return self._on_envelope(obj)
        if kind is FrameType.RECEIPT:
            opened = self._authentic(obj, "receipt", self.answer_key)
            return ev.ReceiptReceived(self._addressed(Receipt.from_opened, opened), opened)
        opened = self._authentic(obj, "rejection", self.answer_key)
        return ev.RejectionReceived(self._addressed(Rejection.from_opened, opened), opened)

    def _their_round_trip(self, frame: dict[str, Any], wall_ms: int | None) -> ev.RoundTrip | None:
        """The round trip a ping says its sender measured on this link (``rtt``, microseconds),
        taken as ours: the end that mostly answers pings measures few round trips of its own,
        and would otherwise judge the path by one taken at a busy moment long ago (after a mass
        start, a second, hence a silence limit of 15 s instead of 8). With the ping's ``clock``,
        the peer's clock is read too, allowing for half that round trip. None from an older
        peer, whose pings carry no ``rtt``."""
        rtt_us = optional_int(frame, "rtt")
        if rtt_us is None:
            return None
        if rtt_us > MAX_PING_RTT_US:
            raise RemoteProtocolError("malformed-frame", f"ping's 'rtt' {rtt_us} µs is beyond any round trip")
        clock = optional_int(frame, "clock")
        if clock is not None and clock > MAX_HELLO_NUMBER:
            raise RemoteProtocolError("malformed-frame", f"ping's 'clock' {clock} is beyond any date")
        skew = None if clock is None or wall_ms is None else clock + round(rtt_us / 2000) - wall_ms
        return ev.RoundTrip(rtt_us / 1e6, skew)

    def _on_hello(self, frame: dict[str, Any], wall_ms: int | None) -> ev.SessionOpened:
        if frame.get("proto") != PROTOCOL_VERSION:
            raise RemoteProtocolError(
                "unsupported-protocol", f"protocol {frame.get('proto')!r}; this node speaks {PROTOCOL_VERSION}"
            )
        if frame.get("party") != self.peer or frame.get("peer") != self.local:
            raise RemoteProtocolError(
                "wrong-party",
                f"hello from {frame.get('party')!r} to {frame.get('peer')!r}; this link is {self.peer} to {self.local}",
            )
        # Numbers beyond any a store will reach (2**53: a million a second for 285 years) are
        # refused here: taken on trust, a resume point or a serial near SQLite's limit would
        # overflow our numbering, and a clock beyond any date would overflow the alarm's text.
        names = ("recv_next", "send_next", "held_num", "clock", "epoch", "ack")
        numbers = {name: optional_int(frame, name) for name in names}
        for name, value in numbers.items():
            if value is not None and value > MAX_HELLO_NUMBER:
                raise RemoteProtocolError("malformed-frame", f"hello's {name!r} {value} is beyond any count or date")
        clock = numbers["clock"]
        self.peer_epoch = numbers["epoch"] or 0
        self.peer_quiet = frame.get("quiet") == 1
        return ev.SessionOpened(
            int_field(frame, "recv_next"),
            int_field(frame, "send_next"),
            skew_ms=None if clock is None or wall_ms is None else clock - wall_ms,
            peer_held_number=numbers["held_num"],
            peer_epoch=self.peer_epoch,
            peer_ack_version=numbers["ack"] or 1,
        )

    def _authentic(self, obj: bytes, kind: str, key: VerifyKey | KeySet | None = None) -> Opened:
        try:
            opened = open_signed(obj, kind)
            opened.verify(key or self.peer_key)
        except SignatureError as exc:
            raise RemoteProtocolError("bad-signature", f"{kind} not signed by {self.peer}: {exc}") from None
        except EncodingError as exc:
            raise RemoteProtocolError(f"malformed-{kind}", str(exc)) from None
        return opened

    def _addressed(self, parse: Any, opened: Opened) -> Any:
        try:
            obj = parse(opened)
        except FieldError as exc:
            raise RemoteProtocolError(f"malformed-{opened.kind}", str(exc)) from None
        if obj.sender != self.peer or obj.recipient != self.local:
            raise RemoteProtocolError("wrong-party", f"{opened.kind} from {obj.sender} to {obj.recipient}")
        return obj

    def _on_envelope(self, obj: bytes) -> ev.Event:
        opened = self._authentic(obj, "envelope")
        seq = opened.fields.get("seq")
        if isinstance(seq, bool) or not isinstance(seq, int) or not 1 <= seq <= MAX_SEQ:
            return ev.EnvelopeRefused(opened, None, "invalid-field", "seq: must be a positive integer", False)
        arrival = self.inbound.classify(seq)
        if arrival is Arrival.DUPLICATE:
            return ev.DuplicateReceived(seq, opened)
        if arrival is Arrival.GAP:
            detail = (
                f"sequence {seq} is too far ahead: expected {self.inbound.next_seq},"
                f" and at most {self.inbound.reach - 1} beyond it"
            )
            return ev.EnvelopeRefused(opened, seq, "sequence-gap", detail, False)
        self.inbound.take(seq)
        try:
            envelope = self._valid_envelope(opened)
        except FieldError as exc:
            reason = _REASONS.get(exc.field, "invalid-field")
            return ev.EnvelopeRefused(opened, seq, reason, str(exc), True)
        return ev.EnvelopeReceived(envelope, opened)

    def _valid_envelope(self, opened: Opened) -> Envelope:
        envelope = Envelope.from_opened(opened)
        if envelope.sender != self.peer:
            raise FieldError("from", f"{envelope.sender} is not {self.peer}, who signed it")
        if envelope.recipient != self.local:
            raise FieldError("to", f"addressed to {envelope.recipient}, not {self.local}")
        validate_body(envelope.kind, envelope.kind_version, envelope.body, reply_to=envelope.reply_to)
        return envelope

    # -- timers ----------------------------------------------------------------------------

    def get_timer(self, grid: float = 0.0) -> float:
        """When the core next needs ``handle_timer``: a heartbeat to send or a peer to bury.

        With a ``grid``, a ping falls due at the next multiple of it: the links of a node with
        dozens of peers then send theirs together, one wake-up of the loop serving many (issue
        19: this halved an idle node's CPU). A ping is late by less than a grid step; a silence
        or a burial is judged at its own instant, so detection is as quick as without a grid.
        (Grids half a step apart at the two ends, so that they take turns to ping, were tried:
        no saving measured in a mesh of 57, and the end that mostly answers kept a stale round
        trip, hence a stale silence limit.)
        """
        heard, spoke, patience = self._heard_and_spoke()
        burial = heard + self.dead_after
        if self.state is SessionState.HANDSHAKE:
            return min(self._last_sent + self.heartbeat, burial, self._hello_deadline)
        if self.state is not SessionState.OPEN:  # nothing more to send: only the burial is due
            return burial
        ping = spoke + patience
        if self.probe is not None:
            ping = min(ping, max(heard, self._last_ping) + self.probe)
        timer = min(_on_grid(ping, grid), burial)
        if self.silent_after is not None and not self.silent:
            timer = min(timer, heard + self.silent_after)
        return timer

    def handle_timer(self, now: float, wall_ms: int | None = None) -> ev.LinkSilent | None:
        if self.state is SessionState.HANDSHAKE and now >= self._hello_deadline:
            self.state = SessionState.CLOSED
            raise RemoteProtocolError("hello-timeout", "no hello within the time allowed")
        heard, spoke, patience = self._heard_and_spoke()
        if now >= heard + self.dead_after:
            self.state = SessionState.CLOSED
            raise RemoteProtocolError("peer-silent", f"nothing heard for {now - heard:.1f} s")
        if self.state is not SessionState.OPEN:
            return None
        quiet = self.probe is not None and now >= max(heard, self._last_ping) + self.probe
        if quiet or now >= spoke + patience:
            self._ping(now, wall_ms)
        if self.silent_after is not None and not self.silent and now >= heard + self.silent_after:
            self.silent = True
            return ev.LinkSilent()
        return None

    def _heard_and_spoke(self) -> tuple[float, float, float]:
        """When the peer was last heard, when we last said anything to it, and how long we let
        the silence from us run before we ping. While both ends lean and the link we lean on is
        open, its traffic counts as ours, and is kept as ours: once it closes, this link is given
        the time since the last word on either, not buried at once for its own idle minutes.
        That link pings within its own heartbeat; ours waits longer, so that it speaks only once
        that one has closed (or failed to speak), never in the same turn of the loop: twice as
        long, but never so long that, woken that late after that link closed, its ping would
        reach the peer after the peer's ``dead_after`` (we take the peer's to be ours)."""
        leaning = self.leans_on is not None and self.peer_quiet and not self._unanswered
        other = self.leans_on() if leaning and self.leans_on is not None else None  # (narrows the type)
        # Only on a link to the same node of the peer: after a takeover, the urgent link to its
        # new active node proves nothing of an ordinary link still open to the old one (frozen,
        # say), which must then be buried for its own silence and dialed again.
        if other is None or other.state is not SessionState.OPEN or other.peer_epoch != self.peer_epoch:
            return self._last_received, self._last_sent, self.heartbeat
        self._last_received = max(self._last_received, other._last_received)
        self._last_sent = max(self._last_sent, other._last_sent)
        patience = min(2 * self.heartbeat, max(self.heartbeat / 2, self.dead_after - self.heartbeat))
        return self._last_received, self._last_sent, patience

    def probe_now(self, now: float, wall_ms: int | None = None) -> None:
        """Ping at once: a new path's round trip is measured before traffic can keep it busy
        (a link never idle is never probed, and its silence limit would stay the longest)."""
        if self.state is SessionState.OPEN:
            self._ping(now, wall_ms)

    def _ping(self, now: float, wall_ms: int | None) -> None:
        self._ping_counter += 1
        self.pings_sent += 1
        self._last_ping = now
        self._pings = {self._ping_counter: (now, wall_ms)}  # only the latest ping is worth timing
        ping = {"n": self._ping_counter} | ({} if wall_ms is None else {"clock": wall_ms})
        if self.last_rtt is not None:  # for the peer to judge the path by (``_their_round_trip``)
            ping["rtt"] = round(self.last_rtt * 1e6)
            self.last_rtt = None  # told once: not counted again, nor told long after
        self._frame(FrameType.PING, now, **ping)


def _on_grid(moment: float, grid: float) -> float:
    """The first multiple of ``grid`` at or after ``moment`` (``moment`` itself without a grid)."""
    if grid <= 0:
        return moment
    step = math.ceil(moment / grid)
    return step * grid if step * grid >= moment else (step + 1) * grid
