"""The node: joins the session core to the store, the network and the operator.

Theory of operation
-------------------

The node is composed of parts, each in its own module and each given what it uses (a
``Station`` and a few collaborators), never the node itself:

- the intake (``intake.py``) checks and queues messages; the desk (``desk.py``) is the face
  the API, the console and the CLI use;
- the links (``links.py``) accept and dial both lanes of every peer and judge each hello;
- the dispatcher (``dispatch.py``) signs queued messages and settles the peer's answers;
- the inbound side (``inbound.py``) stores the peer's envelopes with one receipt per read;
- the watchkeeper, the lookout and the notary keep the watch, the alarms and the transcript.

The rules all of them follow are pure and live below (``protocol/``, ``watch/``, ``log/``).
This module builds the parts, starts and stops them, and routes each event of a link to the
part it concerns.

*Sending.* An operator's message is first written to the outbox as a draft (durable before
the API answers). A dispatcher per peer then takes drafts in precedence order while the lane
has room, gives each the next sequence number of the channel, signs it, stores the signed
envelope (durable), and only then writes it to the live link. Sequence numbers are given at
dispatch, not at enqueue, so that a FLASH queued behind thousands of ROUTINE drafts takes the
next number and leaves first.

*Receiving.* Authentic envelopes with the next sequence numbers are stored, together with one
signed receipt naming all those that arrived in the same read, in one transaction; the receipt
is written to the wire only after that commit. Under load the receiver thus signs once per
batch, not once per message. A
duplicate is answered with the stored receipt. Everything the core refused is stored as
evidence and answered with a signed rejection.

*Ordering and numbering.* The store applies operations in the order they are called, so the
node numbers transcript entries as it calls and awaits durability later. All of this runs on
one event loop; nothing here needs a lock.

*Links, lanes and paths.* Each channel has two lanes on each path, each its own TLS connection
(ALPN names the lane and the path): FLASH and IMMEDIATE travel on the urgent lane of every path
that is up, the rest on the ordinary lane of one path, so that an urgent envelope never waits on
the wire, or in the receiver's reading, behind ordinary ones, nor on a cut path
(``protocol/lanes.py``, ``protocol/paths.py``). Each side dials every peer's addresses on both
lanes and accepts connections; when two links of one path and lane meet, both ends keep the one
dialed by the party whose name sorts first (``protocol.ledger.keeps_new_link``). Whenever the
links change, what no live link carries is sent again (``protocol.ledger.resend_plan``); the
receiver's duplicate rule makes that safe. All links share the channel's one sequence, so numbers
arrive out of order across them, and the receiver accepts them so (``protocol/sequence.py``).

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

*Failure.* If the store fails, the node stops: its in-memory counters can no longer be
trusted, and a restart recovers them from what was durably stored.
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import structlog

from hotline.crypto import KeySet, SigningKey, VerifyKey
from hotline.errors import ConfigError, NumberingError, PairingError, StoreError
from hotline.node.bulletin import Bulletin
from hotline.node.card import IdentityCard, vet_new_peer
from hotline.node.channel import Backoff, Channel
from hotline.node.clock import SYSTEM_CLOCK, Clock
from hotline.node.config import NEXT_KEY_FILE, NodeConfig, load_config
from hotline.node.declarations import Registrar
from hotline.node.dispatch import Dispatcher
from hotline.node.handles import HandleLimit, needed, raise_limit
from hotline.node.holds import BY_PEER, VERBS, our_hold, refusal
from hotline.node.inbound import Inbound
from hotline.node.intake import DispatchWaiters, Intake
from hotline.node.keyring import Keyring
from hotline.node.link import Link
from hotline.node.links import Links, held_reason
from hotline.node.logs import OncePerCause, install_loop_handler
from hotline.node.lookout import Lookout
from hotline.node.notary import Notary
from hotline.node.rotation import Rotation, settle_leftovers
from hotline.node.station import Station
from hotline.node.tasks import Positions, Tasks
from hotline.node.watchkeeper import Watchkeeper
from hotline.protocol import REACH, InboundSequence, Lane
from hotline.protocol import events as ev
from hotline.protocol.ledger import SendLedger, check_window
from hotline.protocol.paths import MAX_PATHS, PathTable
from hotline.storage import AuditEntry, ChannelState, Dispatched, PeerRecord, RetiredKey, Store
from hotline.watch.alarms import Kind

log = structlog.get_logger("hotline.node")


class Node:
    def __init__(self, config: NodeConfig, store: Store, clock: Clock = SYSTEM_CLOCK) -> None:
        try:
            check_window(config.timers.window)  # a window the peer's reach cannot take
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        if settle_leftovers(config.directory):  # a rotation a stop interrupted as it ended: finished
            config = dataclasses.replace(config, keys=load_config(config.directory).keys)
        self.config = config
        self.store = store
        self.clock = clock  # the node's only source of time (``clock.py``)
        self.party = config.party
        self.key: SigningKey = config.signing_key()
        self.channels: dict[str, Channel] = {}
        self.bulletin = Bulletin()  # tells the console's open pages what changed
        self.stopped = asyncio.Event()
        self.failure: str | None = None  # why the node stopped itself, if it did
        self._stopping: asyncio.Future[None] | None = None
        self.repeats = OncePerCause(clock)  # errors that recur: once per cause, with a count
        self.handles: HandleLimit | None = None  # the file-handle limit, once raised at start
        self.tasks = Tasks(self._fail)
        spawn = self.tasks.spawn
        station = Station(self.party, store, clock, self.bulletin, self.channels, self.stopped)
        self.positions = Positions()
        self.dispatched = DispatchWaiters()
        self.lookout = Lookout(station, config.alarms, config.watch, config.witness_only)  # the channel's own health
        self.intake = Intake(station, config)
        self.watchkeeper = Watchkeeper(station, config.watch, config.witness_only, self.intake.enqueue, self.lookout)
        self.watchkeeper.listeners.append(self.lookout.escalation)  # the alarm hook hears of escalations too
        self.intake.listeners += [self.watchkeeper.queued, self.lookout.queued]
        self.keyring = Keyring(self.key)  # which key signs what, during a rotation too
        self.notary = Notary(station, self.keyring, config, self.lookout)
        self.registrar = Registrar(station, config.declarations, self.lookout)  # declarations and their rhythm
        parts = (self.lookout, self.watchkeeper)
        self.dispatcher = Dispatcher(station, self.keyring, parts, self.positions, self.dispatched, spawn)
        self.inbound = Inbound(station, self.keyring, config, parts, self.positions, spawn)
        parts_of_links = (self.lookout, self.notary)
        self.links = Links(
            station, config.timers, parts_of_links, self._on_event, self.inbound.flush, spawn, self.repeats
        )
        self.rotation = Rotation(station, config, self.keyring, self.intake.enqueue, self._keys_changed, spawn,
                                 self.links.trust, self.links.distrust, self._rotation_refused)  # fmt: skip
        self.inbound.rotation = self.rotation
        self.dispatcher.receipted.append(self.rotation.receipted)
        self.dispatcher.rejected.append(self.rotation.rejected)
        self._rotating: dict[str, VerifyKey] = {}  # per peer mid-rotation (at start): its old key, still accepted
        store.on_failure = self._fail

    # -- life cycle --------------------------------------------------------------------------

    async def start(self) -> None:
        # Before anything can fail many times over: asyncio's reports once per cause, not a
        # traceback each (``logs.py``).
        install_loop_handler(asyncio.get_running_loop(), self.repeats)
        restored = await self.store.pending_recovery()
        if restored is not None:  # it would sign numbers and positions its peers already hold
            raise StoreError(
                f"the store was restored from {restored.backup} and has not recovered from the peers yet:"
                f" run `hotline recover --dir {self.config.directory}` (it asks every peer what the copy lacks)"
            )
        self.positions.next_index = await self.store.transcript_size()
        peers = await self.store.peers()
        self._raise_handle_limit(len(peers))
        # Keys rotated away from: ours and the peers' (verifying what they signed); a peer whose
        # rotation has not ended still signs with its old key, and presents its old certificate.
        retired = await self.store.retired_keys()
        self.notary.learn_retired(retired, self.party)
        rotating = {k.party: k for k in retired if k.retired_ms is None and k.party != self.party}
        self._rotating = {party: VerifyKey(k.sign_key) for party, k in rotating.items()}
        self.rotation.old_certs = {party: k.tls_cert for party, k in rotating.items()}
        self.links.pin(self.config, peers, also=[k.tls_cert for k in rotating.values()])
        for peer in peers:
            await self._open_channel(peer)
        await self.watchkeeper.start()
        await self.lookout.start()
        spawn = self.tasks.spawn
        spawn(self.lookout.watch_forever())
        spawn(self.registrar.watch_forever())
        spawn(self.lookout.hook.run_forever())
        spawn(self.watchkeeper.announce_forever())
        spawn(self.watchkeeper.readiness_checks_forever())
        spawn(self.repeats.flush_forever())
        if self.config.timers.checkpoint_interval > 0:
            spawn(self.notary.checkpoints_forever(self.config.timers.checkpoint_interval))
        await self.links.listen(self.config)
        await self.rotation.resume()  # a rotation of ours a stop interrupted goes on
        if (self.config.directory / NEXT_KEY_FILE).exists():
            log.warning(
                "next-signing.key is still on this machine: move it offline, or a thief of this machine can"
                " rotate the party's keys to a key of its own"
            )
        log.info("node started", party=self.party, listen=self.config.listen, peers=len(peers))

    def _raise_handle_limit(self, peers: int) -> None:
        """As many file handles as the bounds need (``handles.py``), said at start."""
        limit = self.handles = raise_limit(needed(self.config.bounds, peers, console=bool(self.config.console.listen)))
        if limit.short:
            log.warning(
                "the hard limit on file handles is below what the bounds need: raise it (LimitNOFILE=,"
                " ulimit -Hn) or lower [bounds]",
                limit=limit.soft,
                needed=limit.needed,
            )
        elif limit.soft != limit.was:
            log.info("file handle limit raised", limit=limit.soft, was=limit.was, needed=limit.needed)
        else:
            log.info("file handle limit", limit=limit.soft, needed=limit.needed)

    async def _open_channel(self, peer: PeerRecord) -> Channel:
        state = await self.store.channel_state(peer.party, REACH)
        unreceipted = await self.store.unreceipted(peer.party)
        return self._register(peer, state, unreceipted, await self.store.held_number(peer.party))

    def _register(
        self, peer: PeerRecord, state: ChannelState, unreceipted: list[Dispatched], held_number: int | None = None
    ) -> Channel:
        if len(peer.addresses) > MAX_PATHS:  # pinned before paths were bounded: the first ones serve
            log.warning("peer advertises more addresses than paths", peer=peer.party, used=MAX_PATHS)
        channel = Channel(
            peer=peer,
            key=KeySet((self._rotating[peer.party], VerifyKey(peer.sign_key)))
            if peer.party in self._rotating
            else VerifyKey(peer.sign_key),
            inbound=InboundSequence.resume(state.recv_used),
            ledger=SendLedger(state.send_next, self.config.timers.window, unreceipted),
            backoff=Backoff(self.config.timers.backoff_min, self.config.timers.backoff_max),
            paths=PathTable(
                min(max(len(peer.addresses), len(self.config.advertise)), MAX_PATHS),
                order=self.config.path_order.get(peer.party, ()),
                timing=self.config.timers.path_timing(),
            ),
            held_number=held_number,
        )
        self.channels[peer.party] = channel
        self._spread_probes()
        self.lookout.watch_peer(peer.party, peer.witness)
        self._apply_hold(channel)
        self.links.reroute(channel, channel.routes(self.clock.monotonic()))  # every path down until linked
        self._dial(channel, range(len(peer.addresses)))
        for lane in Lane:
            self.tasks.spawn(self.dispatcher.run_forever(channel, lane))
        if self.config.watch.link_test_interval > 0 and not (peer.witness or self.config.witness_only):
            self.tasks.spawn(self.watchkeeper.link_tests_forever(peer.party))
        channel.wake()
        return channel

    def _spread_probes(self) -> None:
        """Every path's timing, its probes spread over all the paths this node probes."""
        timing = self.config.timers.path_timing().spread_over(sum(len(c.paths.paths) for c in self.channels.values()))
        for channel in self.channels.values():
            channel.paths.timing = timing

    def _dial(self, channel: Channel, paths: range) -> None:
        for path in paths:
            if path >= MAX_PATHS:
                break
            channel.paths.ensure(path)
            for lane in Lane:
                self.tasks.spawn(self.links.dial_forever(channel, (path, lane)))

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
        # runner bounds the whole of it (server.STOP_BOUND).
        self.stopped.set()
        self.bulletin.close()
        await self.links.close()
        await self.tasks.cancel_all()
        await self.store.close()
        self.repeats.flush()  # what recurred since its last line is told before the end
        log.info("node stopped", party=self.party)

    def _fail(self, reason: str) -> None:
        """Stop the node because something it relies on failed; `hotline run` then exits 1.

        A failed store write leaves our counters ahead of the disk: stop, and let a restart
        recover them from what was durably stored."""
        if self.stopped.is_set():
            return
        self.failure = reason
        log.error("internal failure; stopping the node", error=reason)
        if self._stopping is None:
            self._stopping = asyncio.ensure_future(self._shutdown())

    # -- pairing and numbering ---------------------------------------------------------------

    async def add_peers(
        self, cards: list[IdentityCard], replace: bool = False, by: str = "operator"
    ) -> list[PeerRecord]:
        """Pin every card, or none: all are checked, against the pins and each other, first."""
        pinned = [c.peer for c in self.channels.values()]
        for card in cards:
            self._check_new(pinned, card, replace)
            pinned.append(card.as_peer(0))
        return [await self.add_peer(card, replace, by or "operator") for card in cards]

    def _check_new(self, pinned: list[PeerRecord], card: IdentityCard, replace: bool) -> None:
        vet_new_peer(self.party, pinned, card, replace)
        if self.rotation.pending is not None and card.party not in self.channels:
            raise PairingError("our key rotation is under way: pin a new peer once it has ended (hotline identity)")

    async def add_peer(self, card: IdentityCard, replace: bool = False, by: str = "operator") -> PeerRecord:
        # Checked and registered before the first await, so two concurrent calls for the same
        # new party cannot open two channels with two sets of counters.
        self._check_new([c.peer for c in self.channels.values()], card, replace)
        record = card.as_peer(self.clock.wall_ms())
        existing = self.channels.get(card.party)
        if existing is None:
            # A party not pinned before has no history: both directions start at 1.
            self._register(record, ChannelState(send_next=1), [])
        elif existing.peer.sign_key != card.sign_key or existing.peer.tls_cert != card.tls_cert:
            record = self._replace_keys(existing, record, by)
        else:
            known = len(existing.peer.addresses)
            keep = existing.peer  # its state (suspended, removed) is not the card's to change
            if IdentityCard.parse(keep.card).next_key != card.next_key:
                detail = f"its card now commits to a next key (fingerprint {card.fingerprint})"
                self.tasks.spawn(self.store.record_audit(AuditEntry(self.clock.wall_ms(), by, None, "peer-commitment",
                                                                    card.party, detail)))  # fmt: skip
            record = dataclasses.replace(record, state=keep.state, state_since_ms=keep.state_since_ms,
                                         state_by=keep.state_by, state_remark=keep.state_remark)  # fmt: skip
            existing.peer = record  # the dialers read the new addresses at their next dial
            self._dial(existing, range(known, len(record.addresses)))  # and paths it did not have
            for path in existing.paths.trim(max(len(record.addresses), len(self.config.advertise))):
                self.lookout.forget_path(card.party, path + 1)  # and forgets those it no longer has
        self.links.trust(card.tls_cert)
        self._raise_handle_limit(len(self.channels))  # its links need handles too
        await self.store.add_peer(record)
        return record

    async def set_peer_state(self, party: str, state: str, by: str, remark: str | None = None) -> PeerRecord:
        """Suspend, resume or remove a pinned peer (``holds.py``): stored and audited first,
        then the links are told and closed, or the dialers woken."""
        channel = self.channels.get(party)
        if channel is None:
            raise PairingError(f"{party!r} is not a pinned peer")
        problem = refusal(party, channel.peer.state, state)
        if problem is not None:
            raise PairingError(problem)
        now = self.clock.wall_ms()
        record = dataclasses.replace(channel.peer, state=state, state_since_ms=now, state_by=by, state_remark=remark)
        await self.store.set_peer_state(party, state, now, by, remark)
        await self.store.record_audit(AuditEntry(now, by, None, f"peer-{VERBS[state]}", party, remark))
        channel.peer = record
        self._apply_hold(channel)
        said = {"suspended": "peer suspended", "active": "peer resumed", "removed": "peer removed"}[state]
        log.warning(said, peer=party, by=by, remark=remark)
        return record

    def _apply_hold(self, channel: Channel) -> None:
        """Make the links and the board follow the peer's state (at start, and at each change)."""
        held, facts = our_hold(channel.peer)
        self.lookout.hold(channel.party, held, facts)
        if held is None:
            channel.active.set()
            channel.moved.set()  # the dialers go at once, not after their backoff
            return
        channel.active.clear()
        code, detail = held_reason(self.party, channel)
        for link in list(channel.links.values()):
            link.refuse(code, detail)

    def _replace_keys(self, channel: Channel, record: PeerRecord, by: str) -> PeerRecord:
        """The pairing ceremony again, after a compromise: the new card's keys replace the pin
        (its old key kept, for what it signed), every link on the old keys is closed, and the
        peer is active again. Audited; the transcript keeps everything."""
        old, now = channel.peer, self.clock.wall_ms()
        # Every key of the party's still accepted (a rotation it had begun) stops being so.
        self.tasks.spawn(self.store.close_rotations(old.party, now))
        self.tasks.spawn(
            self.store.add_retired_key(RetiredKey(old.party, old.sign_key, old.tls_cert, old.card, now, now))
        )
        record = dataclasses.replace(record, state="active", state_since_ms=now, state_by=by, state_remark="re-paired")
        self.tasks.spawn(self.store.set_peer_state(old.party, "active", now, by, "re-paired"))
        detail = f"keys replaced by a new card (fingerprint {IdentityCard.parse(record.card).fingerprint})"
        self.tasks.spawn(self.store.record_audit(AuditEntry(now, by, None, "peer-replace", old.party, detail)))
        channel.peer, channel.key = record, VerifyKey(record.sign_key)
        for link in list(channel.links.values()):
            link.refuse("rekeyed", f"{self.party} pinned new keys for {old.party}: link again with them")
        self.links.distrust(old.tls_cert)
        self.rotation.old_certs.pop(old.party, None)
        self._apply_hold(channel)
        log.warning("peer's keys replaced by the pairing ceremony", peer=old.party, by=by, detail=detail)
        return record

    async def _rotation_refused(self, peer: str, subject: str, facts: dict[str, Any]) -> None:
        await self.lookout.latch(Kind.ROTATION_REFUSED, peer, subject, facts)

    def _keys_changed(self, config: NodeConfig, retired: VerifyKey) -> None:
        """Our rotation ended: new TLS identity for new links; our old key verifies the past only."""
        self.config = config
        self.intake.config = config
        self.links.new_identity(config)
        self.notary.retired.append(retired)
        self.bulletin.post("links")

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
        channel.ledger.resume_at(expects)
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
            self.tasks.spawn(link.close())
        return expects

    # -- events from the links ---------------------------------------------------------------

    def _on_event(self, link: Link, event: ev.Event) -> None:
        """Route one event of a link to the part it concerns, in the order the link read them."""
        channel = self.channels[link.peer]
        channel.last_contact_ms = self.clock.wall_ms()
        # Events from a link that lost the tie-break are still handled: they are authentic, and
        # the sequence tracker they advanced is shared by every link to this peer.
        if isinstance(event, ev.EnvelopeReceived):
            self.inbound.envelope(channel, link, event)
            return
        self.inbound.flush(link)  # keep the transcript in arrival order
        spawn, notary = self.tasks.spawn, self.notary
        if isinstance(event, ev.SessionOpened):
            self.links.opened(channel, link, event)
        elif isinstance(event, ev.DuplicateReceived):
            spawn(self.inbound.on_duplicate(channel, link, event))
        elif isinstance(event, ev.EnvelopeRefused):
            self.inbound.refuse(channel, link, event.opened.raw, event.seq, event.reason, event.detail, event.consumed)
        elif isinstance(event, ev.ReceiptReceived):
            self.dispatcher.on_receipt(channel, event)
        elif isinstance(event, ev.RejectionReceived):
            self.dispatcher.on_rejection(channel, event)
        elif isinstance(event, ev.LinkSilent):
            self.links.silent(channel, link)
        elif isinstance(event, ev.LinkHeard):
            self.links.heard(channel, link)
        elif isinstance(event, ev.RoundTrip):
            channel.rtt = event.seconds
            self.links.round_trip(channel, link, event.seconds)
            if event.skew_ms is not None:
                self.lookout.clock(channel.party, event.skew_ms)
        elif isinstance(event, ev.CheckpointOffered):
            spawn(notary.guarded(notary.on_offer(channel, link, event)))
        elif isinstance(event, ev.CosignatureReceived):
            spawn(notary.guarded(notary.on_cosignature(channel, event)))
        elif isinstance(event, ev.CheckpointRefused):
            spawn(notary.guarded(notary.on_refused(channel, event)))
        elif isinstance(event, ev.PeerStandingBy):
            self.links.standing_by(channel, link, event)
        elif isinstance(event, ev.PeerClosed) and event.code in BY_PEER:
            # Said once per cause (the dialers try again every few seconds while it lasts).
            self.repeats.note("the peer holds the traffic with us", peer=channel.party, code=event.code,
                              detail=event.detail)  # fmt: skip
            self.lookout.hold(channel.party, BY_PEER[event.code])
        elif isinstance(event, ev.PeerClosed):
            log.warning("peer closed the link with an error", peer=channel.party, code=event.code, detail=event.detail)
