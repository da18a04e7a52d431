"""The node: joins the session core to the store, the network and the operator.

Theory of operation
-------------------

*Sending.* An operator's message is first written to the outbox as a draft (durable before
the API answers). A dispatcher per peer then takes drafts in precedence order while fewer than
``window`` envelopes are unreceipted, gives each the next sequence number of the channel,
signs it, stores the signed envelope (durable), and only then writes it to the live link.
Sequence numbers are given at dispatch, not at enqueue, so that a FLASH queued behind
thousands of ROUTINE drafts takes the next number and leaves first.

*Receiving.* Authentic envelopes with the next sequence numbers are stored, together with one
signed receipt naming all those that arrived in the same read, in one transaction; the receipt
is written to the wire only after that commit. Under load the receiver thus signs once per
batch, not once per message. A
duplicate is answered with the stored receipt. Everything the core refused is stored as
evidence and answered with a signed rejection.

*Ordering and numbering.* The store applies operations in the order they are called, so the
node numbers transcript entries as it calls and awaits durability later. All of this runs on
one event loop; nothing here needs a lock.

*Links and lanes.* Each channel has two lanes, each its own TLS connection (ALPN names the
lane): FLASH and IMMEDIATE travel on the urgent lane, the rest on the ordinary lane, so that an
urgent envelope never waits on the wire, or in the receiver's reading, behind ordinary ones
(``protocol/lanes.py``). Each side dials every peer on both lanes and accepts connections; when
two links of one lane meet, both ends keep the one dialed by the party whose name sorts first
(``Channel.keeps_new_link``). On every new link, everything unreceipted of its lane is sent
again (and of the other lane too, while that one is down); the receiver's duplicate rule makes
that safe. Both lanes share the channel's one sequence, so numbers arrive out of order across
lanes, and the receiver accepts them so (``protocol/sequence.py``).

*Acknowledgement.* A person acknowledges a received message; the acknowledgement travels back
as an envelope of its own (kind ``ack``, replying to the message), stored and queued in one
transaction with the record that the message is acknowledged. Each side tracks the messages a
person has yet to acknowledge in a ``Watch`` (pure), which says what alert stands and when
it next changes; a timer here announces each new stage. Link tests are answered by the
machine in the same transaction that stores them.

*Urgent traffic.* Each lane has its own dispatcher. The urgent one signs FLASH and IMMEDIATE
messages as soon as they are queued, up to ``URGENT_ALLOWANCE`` unreceipted, whatever the
ordinary lane has in flight; the ordinary dispatcher holds back while an urgent envelope is
on its way, so that the peer's processor is not handed more ordinary work in the meantime.

*Operators.* The checks a message passes before it is queued are the intake's (``intake.py``);
what the API, the console and the CLI may ask of a node is the desk's (``desk.py``), composed
over the node.

*Failure.* If the store fails, the node stops: its in-memory counters can no longer be
trusted, and a restart recovers them from what was durably stored.
"""

from __future__ import annotations

import asyncio
import os
import ssl
from collections.abc import Awaitable
from typing import Any

import structlog

from hotline.crypto import SigningKey, VerifyKey, spki_pin
from hotline.envelope import (
    Envelope,
    Precedence,
    Receipt,
    ReceiptEntry,
    Rejection,
    cbor,
    object_id,
    serial,
)
from hotline.envelope.model import MAX_DETAIL, MAX_RECEIPT_ENTRIES
from hotline.errors import ConfigError, NumberingError, PairingError
from hotline.node.bulletin import Bulletin
from hotline.node.card import IdentityCard, parse_address, vet_new_peer
from hotline.node.channel import Backoff, Channel
from hotline.node.clock import SYSTEM_CLOCK, Clock
from hotline.node.config import NodeConfig
from hotline.node.intake import DispatchWaiters, Intake
from hotline.node.link import Link
from hotline.node.lookout import Lookout
from hotline.node.notary import Notary
from hotline.node.station import Station
from hotline.node.tls import tls_context
from hotline.node.watchkeeper import Watchkeeper, acknowledgement_in
from hotline.protocol import (
    PROTOCOL_VERSION,
    REACH,
    URGENT_RANK,
    FrameType,
    InboundSequence,
    Lane,
    PeerSession,
    encode_frame,
)
from hotline.protocol import events as ev
from hotline.storage import (
    AuditEntry,
    ChannelState,
    Dispatched,
    InboundStored,
    InboxRow,
    PeerRecord,
    Queued,
    Store,
)
from hotline.watch.alarms import Kind

log = structlog.get_logger("hotline.node")
HANDSHAKE_TIMEOUT = 10.0
DIAL_TIMEOUT = 5.0  # seconds for one address to accept and complete the TLS handshake
URGENT_ALLOWANCE = 64  # FLASH and IMMEDIATE envelopes allowed in flight, beside the window
# Envelopes signed per dispatch at most: a FLASH that arrives while a batch is being signed waits
# for that batch only (signing 512 takes ~40 ms here; 64, ~5 ms).
DISPATCH_BATCH = 64


class Node:
    def __init__(self, config: NodeConfig, store: Store, clock: Clock = SYSTEM_CLOCK) -> None:
        if config.timers.window + URGENT_ALLOWANCE >= REACH:
            raise ConfigError(f"window {config.timers.window} is too large: at most {REACH - URGENT_ALLOWANCE - 1}")
        self.config = config
        self.store = store
        self.clock = clock  # the node's only source of time (``clock.py``)
        self.party = config.party
        self.key: SigningKey = config.signing_key()
        self.channels: dict[str, Channel] = {}
        self._transcript_next = 0
        self._tasks: set[asyncio.Task[Any]] = set()
        self._server: asyncio.Server | None = None
        self._server_ctx: ssl.SSLContext | None = None
        self._client_ctx: dict[Lane, ssl.SSLContext] = {}
        self.dispatched = DispatchWaiters()
        # Per peer and lane: envelopes accepted but not yet stored, and the link they came on.
        # Keyed by lane, not link, so that whatever the tie-break does a lane's envelopes are
        # stored in sequence order; and not by peer alone, so that a FLASH is stored on its own,
        # not together with the ordinary envelopes its lane overtook.
        self._received: dict[tuple[str, Lane], tuple[Link, list[ev.EnvelopeReceived]]] = {}
        self.bulletin = Bulletin()  # tells the console's open pages what changed
        self.stopped = asyncio.Event()
        station = Station(self.party, store, clock, self.bulletin, self.channels, self.stopped)
        self.lookout = Lookout(station, config.alarms, config.watch, config.witness_only)  # the channel's own health
        self.intake = Intake(station, config)
        self.watchkeeper = Watchkeeper(station, config.watch, config.witness_only, self.intake.enqueue, self.lookout)
        self.watchkeeper.listeners.append(self.lookout.escalation)  # the alarm hook hears of escalations too
        self.intake.listeners += [self.watchkeeper.queued, self.lookout.queued]
        self.notary = Notary(station, self.key, self.lookout)
        self.failure: str | None = None  # why the node stopped itself, if it did
        self._stopping: asyncio.Future[None] | None = None
        store.on_failure = self._fail

    # -- life cycle --------------------------------------------------------------------------

    async def start(self) -> None:
        self._transcript_next = await self.store.transcript_size()
        cert, key = self.config.tls_files()
        peers = await self.store.peers()
        self._server_ctx = tls_context(True, cert, key, [p.tls_cert for p in peers])
        self._server_ctx.set_alpn_protocols([lane.alpn for lane in Lane])
        for lane in Lane:
            self._client_ctx[lane] = tls_context(False, cert, key, [p.tls_cert for p in peers])
            self._client_ctx[lane].set_alpn_protocols([lane.alpn])
        for peer in peers:
            await self._open_channel(peer)
        await self.watchkeeper.start()
        await self.lookout.start()
        self._spawn(self.lookout.watch_forever())
        self._spawn(self.lookout.hook.run_forever())
        self._spawn(self.watchkeeper.announce_forever())
        self._spawn(self.watchkeeper.readiness_checks_forever())
        if self.config.timers.checkpoint_interval > 0:
            self._spawn(self.notary.checkpoints_forever(self.config.timers.checkpoint_interval))
        host, port = parse_address(self.config.listen)
        try:
            self._server = await asyncio.start_server(
                self._accept, host, port, ssl=self._server_ctx, ssl_handshake_timeout=HANDSHAKE_TIMEOUT
            )
        except OSError as exc:
            reason = os.strerror(exc.errno) if exc.errno else str(exc)
            raise ConfigError(f"cannot listen on {self.config.listen} for peers: {reason}") from None
        log.info("node started", party=self.party, listen=self.config.listen, peers=len(peers))

    async def _open_channel(self, peer: PeerRecord) -> Channel:
        state = await self.store.channel_state(peer.party)
        unreceipted = await self.store.unreceipted(peer.party)
        return self._register(peer, state, unreceipted, await self.store.held_number(peer.party))

    def _register(
        self, peer: PeerRecord, state: ChannelState, unreceipted: list[Dispatched], held_number: int | None = None
    ) -> Channel:
        channel = Channel(
            peer=peer,
            key=VerifyKey(peer.sign_key),
            inbound=InboundSequence(state.recv_next, state.recv_ahead),
            send_next=state.send_next,
            backoff=Backoff(self.config.timers.backoff_min, self.config.timers.backoff_max),
            held_number=held_number,
        )
        for item in unreceipted:
            channel.inflight[item.seq] = item
        self.channels[peer.party] = channel
        self.lookout.watch_peer(peer.party, peer.witness)
        for lane in Lane:
            self._spawn(self._dial_forever(channel, lane))
            self._spawn(self._dispatch_forever(channel, lane))
        if self.config.watch.link_test_interval > 0 and not (peer.witness or self.config.witness_only):
            self._spawn(self.watchkeeper.link_tests_forever(peer.party))
        channel.wake()
        return channel

    @property
    def stopping(self) -> bool:
        """The node has begun to stop (or stopped): no link comes up again."""
        return self.stopped.is_set()

    async def stop(self) -> None:
        """Stop once; every caller waits for the same, complete shutdown."""
        if self._stopping is None:
            self._stopping = asyncio.ensure_future(self._shutdown())
        await asyncio.shield(self._stopping)

    async def _shutdown(self) -> None:
        # Order matters: first no new link (the stop flag, which every dialer and the accept
        # path look at, and the listening socket), then the links close, all at once (each
        # waits at most LINK_CLOSE_WAIT for the peer's TLS close), then the tasks. The
        # runner bounds the whole of it (runner.STOP_BOUND).
        self.stopped.set()
        self.bulletin.close()
        if self._server is not None:
            self._server.close()
        links = [link for channel in self.channels.values() for link in channel.links.values()]
        await asyncio.gather(*(link.close() for link in links), return_exceptions=True)
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.store.close()
        log.info("node stopped", party=self.party)

    def _spawn(self, coro: Awaitable[Any]) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._reap)
        return task

    def _fail(self, reason: str) -> None:
        """Stop the node because something it relies on failed; `hotline run` then exits 1."""
        if self.stopped.is_set():
            return
        self.failure = reason
        log.error("internal failure; stopping the node", error=reason)
        if self._stopping is None:
            self._stopping = asyncio.ensure_future(self._shutdown())

    def _reap(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        # After a stop began, late work failing against the closed store is expected and
        # harmless: nothing it held was receipted, so the peer sends it again.
        if not task.cancelled() and task.exception() is not None:
            # A failed store write leaves our counters ahead of the disk: stop, and let a
            # restart recover them from what was durably stored.
            self._fail(repr(task.exception()))

    # -- pairing -----------------------------------------------------------------------------

    async def add_peer(self, card: IdentityCard) -> PeerRecord:
        # Checked and registered before the first await, so two concurrent calls for the same
        # new party cannot open two channels with two sets of counters.
        vet_new_peer(self.party, [c.peer for c in self.channels.values()], card)
        record = card.as_peer(self.clock.wall_ms())
        existing = self.channels.get(card.party)
        if existing is None:
            # A party not pinned before has no history: both directions start at 1.
            self._register(record, ChannelState(recv_next=1, send_next=1), [])
        else:
            existing.peer = record
        for ctx in (self._server_ctx, *self._client_ctx.values()):
            if ctx is not None:
                ctx.load_verify_locations(cadata=ssl.DER_cert_to_PEM_cert(card.tls_cert))
        await self.store.add_peer(record)
        return record

    # -- connections -------------------------------------------------------------------------

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # Only handshakes that verified against a pinned certificate reach this point. asyncio
        # drops refused handshakes silently (we tried logging them through StreamWriter.start_tls,
        # but on Python 3.11 a server-side handshake that fails verification then hangs until
        # the timeout instead of failing).
        channel = self._channel_for_certificate(writer)
        if channel is None:
            writer.close()
            return
        ssl_object = writer.get_extra_info("ssl_object")
        lane = Lane.from_alpn(ssl_object.selected_alpn_protocol() if ssl_object is not None else None)
        if lane is None:
            # A node of protocol 1 names no lane: tell it why in a frame it can read, then close.
            log.warning("connection that named no lane refused (an older version?)", peer=channel.party)
            detail = f"protocol {PROTOCOL_VERSION}: name a lane by ALPN ({', '.join(la.alpn for la in Lane)})"
            writer.write(encode_frame(FrameType.ERROR, code="unsupported-protocol", detail=detail))
            writer.close()
            return
        await self._serve_link(channel, lane, reader, writer, dialed_by=channel.party)

    def _channel_for_certificate(self, writer: asyncio.StreamWriter) -> Channel | None:
        ssl_object = writer.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
        if der is None:
            log.warning("connection without a client certificate refused")
            return None
        pin = spki_pin(der)
        for channel in self.channels.values():
            if spki_pin(channel.peer.tls_cert) == pin:
                return channel
        log.warning("connection from an unpinned key refused", pin=pin)
        return None

    async def _dial_forever(self, channel: Channel, lane: Lane) -> None:
        # The stop signal is looked at before every address and after every connection: a node
        # that is stopping must not bring a lane back up on the next address, or the peer would
        # hand it messages (and take its receipts) while no one can read them any more.
        while not self.stopped.is_set():
            if lane in channel.links:
                channel.link_lost[lane].clear()
                await channel.link_lost[lane].wait()
                continue
            for address in channel.peer.addresses:
                if lane in channel.links or self.stopped.is_set():
                    break
                host, port = parse_address(address)
                try:
                    # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow the
                    # cancellation of a stopping node when the connection completes at that moment.
                    async with asyncio.timeout(DIAL_TIMEOUT):
                        reader, writer = await asyncio.open_connection(
                            host, port, ssl=self._client_ctx[lane], server_hostname=host
                        )
                except (OSError, TimeoutError, ssl.SSLError) as exc:
                    # The first failure after a link is lost is worth an operator's attention;
                    # the retries every few seconds after it are not.
                    # Said once per outage (by the urgent lane's dialer), not every few seconds.
                    first = channel.backoff.attempt == 0 and lane is Lane.URGENT
                    report = log.warning if first else log.debug
                    report("cannot reach peer", peer=channel.party, address=address, error=str(exc) or "timed out")
                    continue
                if lane in channel.links or self.stopped.is_set():  # the peer dialed us meanwhile, or we stop
                    writer.close()
                    break
                if self._channel_for_certificate(writer) is not channel:
                    writer.close()
                    continue
                await self._serve_link(channel, lane, reader, writer, dialed_by=self.party)
            if lane not in channel.links and not self.stopped.is_set():
                await self.clock.sleep(channel.backoff.next_delay())

    async def _serve_link(
        self, channel: Channel, lane: Lane, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, dialed_by: str
    ) -> None:
        if self.stopped.is_set():  # a handshake that finished as the node began to stop
            writer.close()
            return
        session = PeerSession(
            local=self.party,
            peer=channel.party,
            peer_key=channel.key,
            inbound=channel.inbound,
            send_next=channel.send_next,
            now=self.clock.monotonic(),
            heartbeat=self.config.timers.heartbeat,
            dead_after=self.config.timers.dead_after,
            held_number=channel.held_number,
        )
        link = Link(session, reader, writer, dialed_by, lane, self._on_event, self._flush_received, self.clock)
        try:
            await link.run()
        finally:
            self._flush_received(link)
            if channel.links.get(lane) is link:
                del channel.links[lane]
                if not channel.links:
                    channel.link_up.clear()
                    self.lookout.link_down(channel.party)
                channel.link_lost[lane].set()
                self.bulletin.post("links")
                log.info("link down", peer=channel.party, lane=lane.value)

    # -- events from the session core --------------------------------------------------------

    def _on_event(self, link: Link, event: ev.Event) -> None:
        channel = self.channels[link.peer]
        channel.last_contact_ms = self.clock.wall_ms()
        # Events from a link that lost the tie-break are still handled: they are authentic, and
        # the sequence tracker they advanced is shared by every link to this peer.
        if isinstance(event, ev.EnvelopeReceived):
            key = (channel.party, link.lane)
            pending = self._received.get(key)
            if pending is not None and pending[0] is not link:
                self._flush_received(link)  # an earlier link of this lane: its envelopes first
            batch = self._received.setdefault(key, (link, []))[1]
            batch.append(event)
            # A FLASH or IMMEDIATE is stored and receipted at once, not after the rest of the read.
            if len(batch) >= MAX_RECEIPT_ENTRIES or event.envelope.precedence.rank <= URGENT_RANK:
                self._flush_received(link)
            return
        self._flush_received(link)  # keep the transcript in arrival order
        if isinstance(event, ev.SessionOpened):
            self._on_opened(channel, link, event)
        elif isinstance(event, ev.DuplicateReceived):
            self._spawn(self._on_duplicate(channel, link, event))
        elif isinstance(event, ev.EnvelopeRefused):
            self._refuse(channel, link, event.opened.raw, event.seq, event.reason, event.detail, event.consumed)
        elif isinstance(event, ev.ReceiptReceived):
            self._on_receipt(channel, event)
        elif isinstance(event, ev.RejectionReceived):
            self._on_rejection(channel, event)
        elif isinstance(event, ev.RoundTrip):
            channel.rtt = event.seconds
            if event.skew_ms is not None:
                self.lookout.clock(channel.party, event.skew_ms)
        elif isinstance(event, ev.CheckpointOffered):
            self._spawn(self.notary.guarded(self.notary.on_offer(channel, link, event)))
        elif isinstance(event, ev.CosignatureReceived):
            self._spawn(self.notary.guarded(self.notary.on_cosignature(channel, event)))
        elif isinstance(event, ev.CheckpointRefused):
            self._spawn(self.notary.guarded(self.notary.on_refused(channel, event)))
        elif isinstance(event, ev.PeerClosed):
            log.warning("peer closed the link with an error", peer=channel.party, code=event.code, detail=event.detail)

    def _on_opened(self, channel: Channel, link: Link, event: ev.SessionOpened) -> None:
        lane = link.lane
        if not channel.keeps_new_link(self.party, lane, link.dialed_by):
            self._spawn(link.close())
            return
        # Before the link is kept and the dispatchers wake: a peer that already holds more of
        # our numbering than our store must not be signed anything more (the numbers would be
        # used twice, and the peer would refuse every later message, FLASH included).
        self._judge_resume_points(channel, event, lane.other in channel.links)
        if event.skew_ms is not None:
            self.lookout.clock(channel.party, event.skew_ms)
        replaced = channel.links.get(lane)
        if replaced is not None:
            self._spawn(replaced.close())
        channel.links[lane] = link
        channel.link_up.set()
        channel.backoff.reset()
        self.lookout.link_up(channel.party)
        self.bulletin.post("links")
        log.info(
            "link up", peer=channel.party, lane=lane.value, dialed_by=link.dialed_by, peer_expects=event.peer_recv_next
        )
        # Its own lane's envelopes go again, and the other lane's while that lane has no link
        # (the urgent ones first): the peer's duplicate rule answers whatever it already holds.
        lanes = [lane] if lane.other in channel.links else [Lane.URGENT, Lane.ORDINARY]
        resend = [item for la in lanes for item in channel.in_flight(la)]
        link.send_envelopes([item.envelope for item in resend])
        if resend:
            self._spawn(self.store.mark_transmitted([i.number for i in resend], self.clock.wall_ms()))
        channel.wake()
        self._spawn(self.notary.guarded(self.notary.offer(channel)))  # what it has not cosigned yet

    def _judge_resume_points(self, channel: Channel, event: ev.SessionOpened, other_lane_up: bool) -> None:
        """Compare where the peer says it stands with what our store holds, both ways.

        What the peer holds of ours can only lag what we signed, so a peer ahead of our store
        is always a store gone back in time. What the peer would send next is a snapshot taken
        when it wrote its hello: while the other lane is up, envelopes it signed after that may
        already be here, so it is judged only when this link is the first of the two."""
        behind = (event.peer_recv_next, channel.send_next) if event.peer_recv_next > channel.send_next else None
        if event.peer_held_number is not None:
            channel.peer_held_number = event.peer_held_number
            if behind is not None:  # serials are lost with the sequence numbers that carried them
                self._spawn(self._skip_held_serials(channel.party, event.peer_held_number))
        peer_behind = None
        if other_lane_up:
            peer_behind = self.lookout.health.peers[channel.party].peer_behind
        elif event.peer_send_next < channel.inbound.next_seq:
            peer_behind = (event.peer_send_next, channel.inbound.next_seq)
        if behind is not None:
            log.critical(
                "our store is behind what the peer holds: signing to it stopped",
                peer=channel.party,
                peer_expects=event.peer_recv_next,
                send_next=channel.send_next,
            )
        if peer_behind is not None and not other_lane_up:
            log.critical(
                "peer will resend less than we hold: the peer's store may have been rolled back",
                peer=channel.party,
                peer_sends=event.peer_send_next,
                expected=channel.inbound.next_seq,
            )
        self.lookout.numbering(channel.party, behind, peer_behind)

    async def _skip_held_serials(self, party: str, held: int) -> None:
        moved = await self.store.skip_held_serials(party, held, self.clock.wall_ms())
        if moved is not None:
            log.warning(
                "the peer holds serials our store does not know (restored from an older copy?):"
                " new messages are numbered after them",
                peer=party,
                serials_from=serial(self.party, moved),
            )

    async def catch_up(self, party: str, by: str, remark: str | None = None) -> int:
        """Resume numbering to a peer where it says it stands, after our store went back in time
        (restored from an older copy, or its last writes lost). Returns the sequence number
        signed next. What the peer holds beyond our store stays only there (recovering it from
        the peer is a later step); the numbers it holds are never used again."""
        channel = self.channels.get(party)
        if channel is None:
            raise PairingError(f"{party!r} is not a pinned peer")
        state = self.lookout.health.peers[party].store_behind
        if state is None:
            raise NumberingError(
                f"our numbering to {party} is not behind what it holds (as of its last handshake): nothing to catch up"
            )
        expects, ours = state
        held = [c.peer_held_number for c in self.channels.values() if c.peer_held_number is not None]
        number_next = max([*held, 0]) + 1
        now = self.clock.wall_ms()
        await self.store.resume_numbering(party, expects, number_next, now, by, remark)
        await self.store.record_audit(
            AuditEntry(now, by, None, "catch-up", party, f"sequence {ours} -> {expects}; serials from {number_next}")
        )
        channel.send_next = expects
        self.lookout.numbering(party, None, self.lookout.health.peers[party].peer_behind)
        log.warning(
            "numbering resumed where the peer stands",
            peer=party,
            by=by,
            send_next=expects,
            lost=f"{ours}-{expects - 1}",
            serials_from=number_next,
        )
        # New handshakes, so that both sides judge the resume points again.
        for link in list(channel.links.values()):
            self._spawn(link.close())
        return expects

    def _take_indices(self, count: int) -> int:
        first = self._transcript_next
        self._transcript_next += count
        return first

    def _flush_received(self, link: Link) -> None:
        """Store the envelopes that arrived in one read, with one receipt naming them all.

        Called when a link has handed over everything it read, before any other kind of event
        from the same link, and when a link closes: envelopes the sequence tracker accepted must
        be stored even if their link died, or their numbers would be lost. Whatever link of a
        lane calls, the lane's pending envelopes are stored, so they are stored in order.

        First: which of their serials (the peer's message numbers) already name a message here.
        A peer that signs a second message under a serial it used is refused, or ``show`` and
        ``ack`` by serial would reach only one of the two. The store answers for what it has
        committed (a read on the loop's thread, no turn lost: a FLASH must not wait a commit
        for it); ``serials_pending`` for the batches queued and not yet committed.
        """
        pending = self._received.pop((link.peer, link.lane), None)
        if pending is None:
            return
        link, batch = pending  # the link they came on carries the receipt
        channel = self.channels[link.peer]
        numbers = sorted({e.envelope.number for e in batch})
        held = self.store.held_serials(channel.party, numbers)
        held |= {n: channel.serials_pending[n] for n in numbers if n in channel.serials_pending}
        accepted = []
        for e in batch:
            holder = held.setdefault(e.envelope.number, e.opened.id)
            if holder == e.opened.id:
                accepted.append(e)
                continue
            name = serial(channel.party, e.envelope.number)
            detail = f"{name} already names another message from {channel.party} (id {holder.hex()})"
            self._refuse(channel, link, e.opened.raw, e.envelope.seq, "serial-reused", detail, True)
            facts = {"first": holder.hex(), "second": e.opened.id.hex(), "seq": e.envelope.seq}
            self._spawn(self.lookout.latch(Kind.SERIAL_REUSED, channel.party, name, facts))
        if not accepted:
            return
        stored = self._store_batch(channel, link, accepted)
        for e in accepted:
            channel.serials_pending[e.envelope.number] = e.opened.id

        def committed(_: Any) -> None:  # from now on the store answers for them
            for e in accepted:
                if channel.serials_pending.get(e.envelope.number) == e.opened.id:
                    del channel.serials_pending[e.envelope.number]

        stored.add_done_callback(committed)

    def _store_batch(
        self, channel: Channel, link: Link, batch: list[ev.EnvelopeReceived]
    ) -> asyncio.Future[InboundStored]:
        # From the indices taken to the store call, nothing awaits: the transcript stays gapless.
        first = self._take_indices(len(batch) + 1)  # the envelopes, then our receipt
        now_ms = self.clock.wall_ms()
        entries = tuple(ReceiptEntry(e.envelope.seq, e.opened.id, first + i) for i, e in enumerate(batch))
        receipt = Receipt(self.party, channel.party, now_ms, entries).seal(self.key)
        policy = self.config.watch.policy(channel.party)
        rows, replies = [], []
        for e in batch:
            envelope = e.envelope
            self._look_at_clock_and_tests(channel, envelope, now_ms)
            machine_ack = None
            answer = self.watchkeeper.machine_answer(channel.party, envelope, e.opened.id, now_ms)
            if answer is not None:  # answered by the machine, in the same commit
                machine_ack, reply = answer
                replies.append(reply)
            rows.append(
                InboxRow(
                    peer=channel.party,
                    seq=envelope.seq,
                    number=envelope.number,
                    envelope_id=e.opened.id,
                    precedence=envelope.precedence.value,
                    marking=envelope.marking,
                    kind=envelope.kind,
                    body=cbor.encode(envelope.body),
                    sent_ms=envelope.sent_ms,
                    received_ms=now_ms,
                    envelope=e.opened.raw,
                    kind_version=envelope.kind_version,
                    reply_to=envelope.reply_to,
                    due_ms=policy.due_ms(now_ms, envelope.precedence, envelope.kind),
                    ack=machine_ack,
                    acknowledges=acknowledgement_in(envelope),
                )
            )
            channel.held_number = max(channel.held_number or 0, envelope.number)
        stored = asyncio.ensure_future(self.store.store_inbound(rows, receipt, first, replies))
        self._spawn(self._after_inbound(channel, link, stored, receipt, rows))
        log.info(
            "received",
            peer=channel.party,
            count=len(batch),
            seq=f"{batch[0].envelope.seq}-{batch[-1].envelope.seq}",
            most_urgent=min((e.envelope.precedence for e in batch), key=lambda p: p.rank).value,
        )
        return stored

    def _look_at_clock_and_tests(self, channel: Channel, envelope: Envelope, now_ms: int) -> None:
        """A message dated ahead of our clock says the clocks disagree (one dated behind says
        nothing: it may have waited); a link test from the peer says its checks are running."""
        ahead = envelope.sent_ms - now_ms
        if ahead > self.config.alarms.clock_tolerance * 1000:
            name = serial(channel.party, envelope.number)
            log.warning("message dated ahead of our clock", peer=channel.party, message=name, ahead_ms=ahead)
            self.lookout.clock(channel.party, ahead, name)
        if envelope.kind == "link_test":
            self.lookout.link_test_received(channel.party, now_ms)

    async def _after_inbound(
        self, channel: Channel, link: Link, stored: Awaitable[InboundStored], receipt: bytes, rows: list[InboxRow]
    ) -> None:
        result = await stored
        link.send_answer(receipt, True)  # if the link is gone, the peer resends and gets it
        self.watchkeeper.received(rows, result)
        if result.replies:
            channel.wake()

    async def _post_when_stored(self, stored: Awaitable[Any], *topics: str) -> None:
        await stored
        self.bulletin.post(*topics)  # after the commit: a page that redraws now sees the change

    async def _answer_when_stored(self, link: Link, stored: Awaitable[None], answer: bytes, is_receipt: bool) -> None:
        await stored
        link.send_answer(answer, is_receipt)  # if the link is gone, the peer resends and gets it

    async def _on_duplicate(self, channel: Channel, link: Link, event: ev.DuplicateReceived) -> None:
        answer = await self.store.stored_answer(channel.party, event.seq)
        if answer is None:
            log.critical("no stored answer for a sequence number already passed", peer=channel.party, seq=event.seq)
            return
        if answer.envelope_id == event.opened.id:
            # One receipt names a whole batch: after a resend, answer it once, not once per envelope.
            answer_id = object_id(answer.answer)
            if answer_id not in link.answered:
                link.answered.add(answer_id)
                link.send_answer(answer.answer, answer.is_receipt)
            return
        self._refuse(
            channel,
            link,
            event.opened.raw,
            event.seq,
            "sequence-reused",
            f"sequence {event.seq} already holds a different envelope from {channel.party}",
            False,
        )

    def _refuse(
        self, channel: Channel, link: Link, raw: bytes, seq: int | None, reason: str, detail: str, consumed: bool
    ) -> None:

        index = self._take_indices(2)
        now_ms = self.clock.wall_ms()
        detail = detail[:MAX_DETAIL]  # the peer's field names appear in it; keep it within the format
        rejection = Rejection(self.party, channel.party, object_id(raw), seq, now_ms, reason, detail, consumed)
        sealed = rejection.seal(self.key)
        stored = self.store.store_refused(
            channel.party, seq, consumed, object_id(raw), raw, reason, detail, sealed, now_ms, index
        )
        self._spawn(self._answer_when_stored(link, stored, sealed, False))
        self.lookout.count(channel.party, "refused", 1)
        log.warning("envelope refused", peer=channel.party, seq=seq, reason=reason, detail=detail)

    def _on_receipt(self, channel: Channel, event: ev.ReceiptReceived) -> None:
        delivered, conflicting = channel.settle(event.receipt)
        for seq in conflicting:
            log.critical("peer receipted a different envelope under our sequence number", peer=channel.party, seq=seq)
            item = channel.inflight[seq]
            facts = {"reason": "receipt-conflict", "detail": f"its receipt names another envelope under sequence {seq}"}
            self._spawn(
                self.lookout.latch(Kind.NUMBERING_REFUSED, channel.party, serial(self.party, item.number), facts)
            )
        if delivered:
            self.lookout.count(channel.party, "delivered", len(delivered))
            self.lookout.answered(channel.party, [item.number for item in delivered if item.rank <= URGENT_RANK])
            positions = {entry.seq: entry.index for entry in event.receipt.entries}
            settled = [(item.seq, positions[item.seq]) for item in delivered]
            recorded = self.store.record_receipt(
                channel.party, settled, event.opened.raw, self.clock.wall_ms(), self._take_indices(1)
            )
            self._spawn(self._post_when_stored(recorded, "outbox"))
            self._wake_dispatch(channel)

    def _on_rejection(self, channel: Channel, event: ev.RejectionReceived) -> None:
        rejection = event.rejection
        item = channel.inflight_by_id(rejection.envelope_id)
        if item is None:
            return  # not ours in flight: a repeated rejection, already recorded
        name = serial(self.party, item.number)
        facts = {"reason": rejection.reason, "detail": rejection.detail, "seq": item.seq}
        if not rejection.consumed:
            # The peer still expects this sequence number: giving it up would make every later
            # envelope a gap. Keep it in flight, and call for people to look.
            log.critical(
                "peer refused our sequence numbering; message kept in flight",
                peer=channel.party,
                seq=item.seq,
                reason=rejection.reason,
                detail=rejection.detail,
            )
            self._spawn(self.lookout.latch(Kind.NUMBERING_REFUSED, channel.party, name, facts))
            return
        if rejection.reason == "serial-reused":  # our serials collide with what the peer holds
            self._spawn(self.lookout.latch(Kind.NUMBERING_REFUSED, channel.party, name, facts))
        del channel.inflight[item.seq]
        self.lookout.count(channel.party, "rejected", 1)
        self.lookout.answered(channel.party, [item.number])
        recorded = self.store.record_rejection(
            item.envelope_id, event.opened.raw, self.clock.wall_ms(), self._take_indices(1)
        )
        self._spawn(self._post_when_stored(recorded, "outbox"))
        self.watchkeeper.rejected(item.number)  # refused: no person there will acknowledge it
        log.warning(
            "message rejected by peer",
            peer=channel.party,
            seq=item.seq,
            reason=rejection.reason,
            detail=rejection.detail,
        )
        self._wake_dispatch(channel)

    def _wake_dispatch(self, channel: Channel) -> None:
        # Urgent traffic goes at once; the ordinary window is refilled in batches rather than
        # one message per receipt.
        channel.work[Lane.URGENT].set()
        if channel.count_in_flight(Lane.ORDINARY) <= self.config.timers.window // 2:
            channel.work[Lane.ORDINARY].set()

    # -- dispatch ----------------------------------------------------------------------------

    async def _dispatch_forever(self, channel: Channel, lane: Lane) -> None:
        window = URGENT_ALLOWANCE if lane is Lane.URGENT else self.config.timers.window
        work = channel.work[lane]
        while not self.stopped.is_set():
            await work.wait()
            work.clear()
            channel.urgent_busy = lane is Lane.URGENT or channel.urgent_busy
            # Sign nothing ahead while the peer is unreachable: sequence numbers are given in
            # precedence order at the moment of sending, so a FLASH queued during an outage
            # still overtakes the ROUTINE traffic queued before it.
            while self._may_sign(channel) and (room := window - channel.count_in_flight(lane)) > 0:
                if lane is Lane.ORDINARY and self._urgent_first(channel):
                    break  # the urgent lane wakes us when it is done
                queued = await self.store.next_queued(channel.party, min(room, DISPATCH_BATCH), lane.ranks)
                if not queued or not self._may_sign(channel):  # a hello read meanwhile may forbid it
                    break
                await self._dispatch(channel, lane, queued)
            if lane is Lane.URGENT:
                channel.urgent_busy = False
                if not channel.count_in_flight(Lane.URGENT):
                    channel.work[Lane.ORDINARY].set()

    def _may_sign(self, channel: Channel) -> bool:
        """A link is up, and our numbering is not behind what the peer holds."""
        return channel.has_link() and not self.lookout.signing_stopped(channel.party)

    @staticmethod
    def _urgent_first(channel: Channel) -> bool:
        """Whether the ordinary lane holds back: while a FLASH or IMMEDIATE may be waiting to
        be signed, or is on its way, nothing less urgent is signed or put in front of the peer's
        processor."""
        return channel.urgent_busy or channel.work[Lane.URGENT].is_set() or bool(channel.count_in_flight(Lane.URGENT))

    async def _dispatch(self, channel: Channel, lane: Lane, queued: list[Queued]) -> None:
        # From the first number taken to the store call, nothing here may await: the store then
        # receives every batch in sequence order, and a crash can only lose the newest numbers,
        # never leave a hole the peer would wait for forever. (So the batch is kept small
        # instead of yielding in the middle of it.)
        now_ms = self.clock.wall_ms()
        items = []
        for q in queued:
            envelope = Envelope(
                sender=self.party,
                recipient=channel.party,
                seq=channel.send_next,
                number=q.number,
                sent_ms=now_ms,
                kind=q.draft.kind,
                kind_version=q.draft.kind_version,
                body=cbor.decode(q.draft.body),
                precedence=Precedence(q.draft.precedence),
                marking=q.draft.marking,
                reply_to=q.draft.reply_to,
            )
            signed = envelope.seal(self.key)

            items.append(
                Dispatched(
                    q.number, channel.party, envelope.seq, signed, object_id(signed), now_ms, envelope.precedence.rank
                )
            )
            channel.send_next += 1
        await self.store.dispatch(items, channel.has_link(), self._take_indices(len(items)))
        self.bulletin.post("outbox")
        for item in items:
            channel.inflight[item.seq] = item
            self.dispatched.signed(item.number)
        link = channel.link_for(lane)  # the link may have changed while the commit ran
        if link is not None and link.send_envelopes([item.envelope for item in items]):
            await link.drain()
