"""The links to the peers: accepting and dialing both lanes of every path, serving each
connection, moving traffic between paths, and judging what a peer's hello says about where both
sides stand.

Each side dials each of a peer's addresses (a path, ``protocol/paths.py``) on both lanes and
accepts connections; when two links of one path and lane meet, both ends keep the one the
tie-break names (``protocol.ledger.keeps_new_link``). Whenever a link opens, closes, falls silent
or is heard again, the routes are looked at again (``reroute``): a link that newly carries a
lane's traffic is sent everything unreceipted of that lane, the urgent first, unless the link
that carried it before still does (the peer's duplicate rule makes a resend safe, not free).
"""

from __future__ import annotations

import asyncio
import os
import ssl
from collections.abc import Awaitable, Callable
from typing import Any

import structlog

from hotline.crypto import spki_pin
from hotline.envelope import serial
from hotline.errors import ConfigError
from hotline.node.card import parse_address
from hotline.node.channel import Backoff, Channel, LinkKey, Routes
from hotline.node.config import NodeConfig, Timers
from hotline.node.link import Link
from hotline.node.logs import OncePerCause
from hotline.node.lookout import Lookout
from hotline.node.notary import Notary
from hotline.node.peer_port import PeerPort
from hotline.node.recovery_answer import answer_recovery
from hotline.node.sockets import watch_connection
from hotline.node.station import Station
from hotline.node.tls import tls_context
from hotline.protocol import PROTOCOL_VERSION, RECOVERY_ALPN, FrameType, Lane, PeerSession, encode_frame
from hotline.protocol import events as ev
from hotline.protocol.ledger import keeps_new_link
from hotline.protocol.paths import MAX_PATHS
from hotline.storage import PeerRecord

log = structlog.get_logger("hotline.node")
DIAL_TIMEOUT = 5.0  # seconds for one address to accept and complete the TLS handshake


class Links:
    def __init__(
        self,
        station: Station,
        timers: Timers,
        parts: tuple[Lookout, Notary],
        on_event: Callable[[Link, ev.Event], None],
        on_drained: Callable[[Link], None],
        spawn: Callable[[Awaitable[Any]], object],
        repeats: OncePerCause,
    ) -> None:
        self.station = station
        self.timers = timers
        self.lookout, self.notary = parts
        self.on_event = on_event  # every event of every link, for the node to route
        self.on_drained = on_drained  # a link handed over all it read (or closed)
        self.spawn = spawn
        self.repeats = repeats  # what recurs, said once per cause with a count
        self.port: PeerPort | None = None  # accepting, once listening
        self._server_ctx: ssl.SSLContext | None = None
        self._client_ctx: dict[LinkKey, ssl.SSLContext] = {}
        self._tls_files: tuple[Any, Any] | None = None
        self._trusted: list[bytes] = []  # the pinned peers' certificates
        self.recovering: set[str] = set()  # peers restored from a backup whose recovery we answer

    def pin(self, config: NodeConfig, peers: list[PeerRecord], also: list[bytes] | None = None) -> None:
        """Our certificate, and the pinned peers' to trust (``also``: a rotating peer's old
        certificate, still presented until its rotation ends): before any link is dialed."""
        self._tls_files = config.tls_files()
        self._trusted = [p.tls_cert for p in peers] + list(also or ())
        self._contexts()

    def _contexts(self) -> None:
        """(Re)build the TLS contexts from our files and the trusted certificates: a link up
        keeps its own; new ones, accepted or dialed, use these."""
        assert self._tls_files is not None
        self._server_ctx = tls_context(True, *self._tls_files, self._trusted)
        lanes = [lane.path_alpn(path) for path in range(MAX_PATHS) for lane in Lane]
        self._server_ctx.set_alpn_protocols([*lanes, RECOVERY_ALPN])
        self._client_ctx.clear()
        if self.port is not None:
            self.port.doorway.context = self._server_ctx

    def new_identity(self, config: NodeConfig) -> None:
        """Our own TLS key and certificate changed (a rotation's end)."""
        self._tls_files = config.tls_files()
        self._contexts()

    def distrust(self, tls_cert: bytes) -> None:
        """A peer's certificate retired by its rotation: no new link with it."""
        self._trusted = [c for c in self._trusted if c != tls_cert]
        self._contexts()

    def _client_context(self, key: LinkKey) -> ssl.SSLContext:
        """The context that dials one path and lane: ALPN names them (one context each, since
        ALPN is set on the context, not the connection)."""
        ctx = self._client_ctx.get(key)
        if ctx is None:
            assert self._tls_files is not None, "pin() before dialing"
            ctx = self._client_ctx[key] = tls_context(False, *self._tls_files, self._trusted)
            path, lane = key
            ctx.set_alpn_protocols([lane.path_alpn(path)])
        return ctx

    async def listen(self, config: NodeConfig) -> None:
        """Accept the pinned peers' connections, on both lanes (``peer_port.py``)."""
        host, port = parse_address(config.listen)
        assert self._server_ctx is not None, "pin() before listening"
        self.port = PeerPort(config.bounds, self._server_ctx, self.station.clock, self.repeats)
        try:
            self.port.listen(host, port, self.accept)
        except OSError as exc:
            await self.port.close()
            reason = os.strerror(exc.errno) if exc.errno else str(exc)
            raise ConfigError(f"cannot listen on {config.listen} for peers: {reason}") from None

    def trust(self, tls_cert: bytes) -> None:
        """A newly pinned peer's certificate: its connections verify from now on."""
        self._trusted.append(tls_cert)
        for ctx in (self._server_ctx, *self._client_ctx.values()):
            if ctx is not None:
                ctx.load_verify_locations(cadata=ssl.DER_cert_to_PEM_cert(tls_cert))

    async def close(self) -> None:
        """No new link, then every link closed at once (each waits briefly for the peer's close)."""
        if self.port is not None:
            await self.port.close()
        links = [link for channel in self.station.channels.values() for link in channel.links.values()]
        await asyncio.gather(*(link.close() for link in links), return_exceptions=True)

    async def accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # Only handshakes that verified against a pinned certificate reach this point; the peer
        # port counts and logs the others (``peer_port.py``).
        channel = self._channel_for_certificate(writer)
        if channel is None:
            if self.port is not None:
                self.port.unpinned()
            writer.close()
            return
        ssl_object = writer.get_extra_info("ssl_object")
        protocol = ssl_object.selected_alpn_protocol() if ssl_object is not None else None
        if protocol == RECOVERY_ALPN:  # restored from an older backup, it asks what it lacks
            if channel.held:
                code, detail = held_reason(self.station.party, channel)
                writer.write(encode_frame(FrameType.ERROR, code=code, detail=detail))
                writer.close()
                return
            await answer_recovery(self.station, channel.party, (reader, writer), self.lookout.latch, self.recovering)
            return
        asked = Lane.from_alpn(protocol)
        if asked is None:
            # A node of protocol 1 names no lane: tell it why in a frame it can read, then close.
            log.warning("connection that named no lane refused (an older version?)", peer=channel.party)
            detail = f"protocol {PROTOCOL_VERSION}: name a lane by ALPN ({', '.join(la.alpn for la in Lane)})"
            writer.write(encode_frame(FrameType.ERROR, code="unsupported-protocol", detail=detail))
            writer.close()
            return
        lane, path = asked
        await self._serve_link(channel, (path, lane), reader, writer, dialed_by=channel.party)

    def _channel_for_certificate(self, writer: asyncio.StreamWriter) -> Channel | None:
        ssl_object = writer.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
        if der is None:  # TLS requires one: said once, should it ever happen
            self.repeats.note("connection without a client certificate refused")
            return None
        pin = spki_pin(der)
        for channel in self.station.channels.values():
            if spki_pin(channel.peer.tls_cert) == pin:
                return channel
        self.repeats.note("connection from an unpinned key refused", pin=pin)
        return None

    async def dial_forever(self, channel: Channel, key: LinkKey) -> None:
        """Keep one path and lane linked: dial the peer's address for the path whenever its link
        is lost, backing off while it cannot be reached."""
        path, lane = key
        backoff = Backoff(channel.backoff.low, channel.backoff.high)
        # The stop signal is looked at before every dial and after every connection: a node
        # that is stopping must not bring a link back up, or the peer would hand it messages
        # (and take its receipts) while no one can read them any more.
        while not self.station.stopped.is_set():
            if channel.held:  # suspended or removed: we dial nobody until it is resumed
                await channel.active.wait()
                continue
            if key in channel.links:
                backoff.reset()
                channel.lost(key).clear()
                await channel.lost(key).wait()
                continue
            address = channel.address(path)
            if address is None:
                return  # the peer advertises no such address: only the peer can dial this path
            host, port = parse_address(address)
            dialing = channel.node
            try:
                # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow the
                # cancellation of a stopping node when the connection completes at that moment.
                async with asyncio.timeout(DIAL_TIMEOUT):
                    reader, writer = await asyncio.open_connection(
                        host, port, ssl=self._client_context(key), server_hostname=host
                    )
            except (OSError, TimeoutError, ssl.SSLError) as exc:
                # The first failure after a link is lost is worth an operator's attention; the
                # retries every few seconds after it are not. Said once per outage and path
                # (by the urgent lane's dialer), not every few seconds.
                report = log.warning if backoff.attempt == 0 and lane is Lane.URGENT else log.debug
                error = str(exc) or "timed out"
                report("cannot reach peer", peer=channel.party, path=path, address=address, error=error)
                # A peer of several nodes: with no path up, the node dialed may be the one that
                # failed; dial the next, in turn (the first dialer to find out moves them all).
                if not channel.link_up.is_set() and channel.node == dialing and channel.nodes > 1:
                    channel.failed_nodes.add(dialing)
                    if channel.move_to(dialing + 1):
                        self.repeats.note("dialing the peer's next node", level="info", peer=channel.party)
            else:
                # The peer may have dialed us meanwhile, or we may be stopping.
                taken = key in channel.links or self.station.stopped.is_set()
                if taken or self._channel_for_certificate(writer) is not channel:
                    writer.close()
                else:
                    await self._serve_link(channel, key, reader, writer, dialed_by=self.station.party)
            if key not in channel.links and not self.station.stopped.is_set():
                if channel.node != dialing and channel.node not in channel.failed_nodes:
                    continue  # another node of the peer's, not one that just failed: at once
                await self._pause(channel, backoff.next_delay())

    async def _pause(self, channel: Channel, seconds: float) -> None:
        """The dialer's backoff, cut short when the peer's active node is found elsewhere."""
        channel.moved.clear()
        moved = asyncio.ensure_future(channel.moved.wait())
        pause = asyncio.ensure_future(self.station.clock.sleep(seconds))
        try:
            await asyncio.wait({moved, pause}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            moved.cancel()
            pause.cancel()

    async def _serve_link(
        self, channel: Channel, key: LinkKey, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, dialed_by: str
    ) -> None:
        if self.station.stopped.is_set():  # a handshake that finished as the node began to stop
            writer.close()
            return
        if channel.held:  # told why, in a frame it reads instead of our hello (it shows it)
            code, detail = held_reason(self.station.party, channel)
            writer.write(encode_frame(FrameType.ERROR, code=code, detail=detail))
            writer.close()
            return
        path, lane = key
        probed = lane is Lane.URGENT  # the urgent link of a path is probed fast; see paths.py
        session = PeerSession(
            local=self.station.party,
            peer=channel.party,
            peer_key=channel.key,
            inbound=channel.inbound,
            send_next=channel.ledger.send_next,
            now=self.station.clock.monotonic(),
            heartbeat=self.timers.heartbeat,
            dead_after=self.timers.dead_after,
            held_number=channel.held_number,
            epoch=self.station.store.epoch,
            probe=channel.paths.probe_interval(path) if probed else None,
            silent_after=channel.paths.silence_limit(path) if probed else None,
        )
        session.answer_key = channel.answer_key or channel.key
        watched = watch_connection(writer.get_extra_info("socket"), self.timers.heartbeat, self.timers.dead_after)
        if watched and not probed:  # the ordinary link leans on its path's urgent one (``PeerSession.leans_on``)
            session.leans_on = lambda: _session(channel.links.get((path, Lane.URGENT)))
        link = Link(session, reader, writer, dialed_by, key, self.on_event, self.on_drained, self.station.clock)
        # Pings on a grid of half the shortest interval between them: late by less than half
        # their own period, and the links of the node (of every node on the machine, monotonic
        # time being the system's) wake together (see ``Session.get_timer``).
        link.tick = max(0.05, min(channel.paths.timing.probe_floor, self.timers.heartbeat) / 2)
        try:
            await link.run()
        finally:
            self.on_drained(link)
            if channel.links.get(key) is link:
                before = channel.routes(self.station.clock.monotonic())
                del channel.links[key]
                channel.paths.unlinked(path, lane, self.station.clock.monotonic())
                channel.lost(key).set()
                log.info("link down", peer=channel.party, path=path, lane=lane.value)
                self.reroute(channel, before)

    # -- paths -------------------------------------------------------------------------------

    def reroute(self, channel: Channel, before: Routes) -> None:
        """After a link opened, closed, fell silent or was heard again: send again what no live
        link carries, and say whether the peer is reachable."""
        now = self.station.clock.monotonic()
        after = channel.routes(now)
        self.reconcile(channel, after)
        addresses = channel.peer.addresses
        states = [
            (p.index + 1, p.up, addresses[p.index] if p.index < len(addresses) else None) for p in channel.paths.paths
        ]
        self.lookout.paths(channel.party, states)
        was_up, is_up = bool(before.urgent), bool(after.urgent)
        if is_up and not was_up:
            channel.link_up.set()
            channel.failed_nodes.clear()
            self.lookout.link_up(channel.party)
        elif was_up and not is_up:
            channel.link_up.clear()
            self.lookout.link_down(channel.party)
        if after != before:
            self.station.bulletin.post("links")
            channel.wake()

    def reconcile(self, channel: Channel, routes: Routes) -> None:
        """Send again what the routes lack (``Channel.resend_plan``)."""
        for link, items in channel.resend_plan(routes).items():
            if link.send_envelopes([item.envelope for item in items]):
                channel.wrote(link, [item.seq for item in items])
                channel.paths.carried(link.path, len(items), sum(len(item.envelope) for item in items))
                self.spawn(self.station.store.mark_transmitted([i.number for i in items], self.station.clock.wall_ms()))

    def silent(self, channel: Channel, link: Link) -> None:
        if channel.links.get(link.key) is not link:
            return
        before = channel.routes(self.station.clock.monotonic())
        channel.paths.fell_silent(link.path, link.lane, self.station.clock.monotonic())
        limit = link.session.silent_after
        log.warning(
            "path silent",
            peer=channel.party,
            path=link.path,
            lane=link.lane.value,
            after_s=None if limit is None else round(limit, 3),
        )
        self.reroute(channel, before)

    def heard(self, channel: Channel, link: Link) -> None:
        if channel.links.get(link.key) is not link:
            return
        before = channel.routes(self.station.clock.monotonic())
        channel.paths.heard(link.path, link.lane, self.station.clock.monotonic())
        log.info("path heard again", peer=channel.party, path=link.path, lane=link.lane.value)
        self.reroute(channel, before)

    def round_trip(self, channel: Channel, link: Link, seconds: float) -> None:
        """A probe answered on a path's urgent link: its timing follows the round trip."""
        if link.lane is not Lane.URGENT:
            return
        channel.paths.round_trip(link.path, seconds)
        link.session.probe = channel.paths.probe_interval(link.path)
        link.session.silent_after = channel.paths.silence_limit(link.path)

    # -- events from the session core --------------------------------------------------------

    def opened(self, channel: Channel, link: Link, event: ev.SessionOpened) -> None:
        key = link.key
        if event.peer_epoch < channel.peer_epoch:
            # A node of the peer's that was active once (frozen, then woken) and has not found
            # out that another took over: what it would send, the active node may contradict.
            detail = f"epoch {event.peer_epoch} is not the active one's ({channel.peer_epoch}): this node stood down"
            log.warning("link from a node of the peer's that is no longer active refused", peer=channel.party,
                        epoch=event.peer_epoch, active_epoch=channel.peer_epoch)  # fmt: skip
            link.refuse("stale-epoch", detail)
            return
        channel.peer_ack_version = event.peer_ack_version
        if event.peer_epoch > channel.peer_epoch:
            if channel.peer_epoch:
                log.info("the peer's active node changed", peer=channel.party, epoch=event.peer_epoch)
            channel.peer_epoch = event.peer_epoch
        # Links to a node of the peer's that is no longer active go, whatever the tie-break says.
        stale = {k for k, other in channel.links.items() if other.session.peer_epoch < channel.peer_epoch}
        for k in stale:
            self.spawn(channel.links[k].close())
        kept = None if key in stale else channel.links.get(key)
        if not keeps_new_link(self.station.party, channel.party, _dialer(kept), link.dialed_by):
            self.spawn(link.close())
            return
        # Before the link is kept and the dispatchers wake: a peer that already holds more of
        # our numbering than our store must not be signed anything more (the numbers would be
        # used twice, and the peer would refuse every later message, FLASH included).
        others = [other for k, other in channel.links.items() if k != key]
        self._judge_resume_points(channel, event, bool(others))
        if event.skew_ms is not None:
            self.lookout.clock(channel.party, event.skew_ms)
        now = self.station.clock.monotonic()
        before = channel.routes(now)
        replaced = channel.links.get(key)
        if replaced is not None:
            self.spawn(replaced.close())
        channel.links[key] = link
        channel.paths.linked(link.path, link.lane, now)
        log.info(
            "link up",
            peer=channel.party,
            path=link.path,
            lane=link.lane.value,
            dialed_by=link.dialed_by,
            peer_expects=event.peer_recv_next,
        )
        if link.lane is Lane.URGENT and channel.paths.paths[link.path].srtt is None:
            link.session.probe_now(now, self.station.clock.wall_ms())
            link.flush()
        self.reroute(channel, before)
        channel.wake()
        self.spawn(self.notary.guarded(self.notary.offer(channel)))  # what it has not cosigned yet

    def _judge_resume_points(self, channel: Channel, event: ev.SessionOpened, other_lane_up: bool) -> None:
        """Compare where the peer says it stands with what our store holds, both ways.

        What the peer holds of ours can only lag what we signed, so a peer ahead of our store
        is always a store gone back in time. What the peer would send next is a snapshot taken
        when it wrote its hello: while the other lane is up, envelopes it signed after that may
        already be here, so it is judged only when this link is the first of the two."""
        behind = channel.ledger.peer_ahead(event.peer_recv_next)
        if event.peer_held_number is not None:
            channel.peer_held_number = event.peer_held_number
            if behind is not None:  # serials are lost with the sequence numbers that carried them
                self.spawn(self._skip_held_serials(channel.party, event.peer_held_number))
        held = channel.inbound.next_seq
        fresh = (event.peer_send_next, held) if event.peer_send_next < held else None
        previous = self.lookout.health.peers[channel.party].peer_behind
        peer_behind = peer_behind_judged(previous, fresh, other_lane_up)
        if behind is not None:
            log.critical(
                "our store is behind what the peer holds: signing to it stopped",
                peer=channel.party,
                peer_expects=event.peer_recv_next,
                send_next=channel.ledger.send_next,
            )
        if peer_behind is not None and not other_lane_up:
            log.critical(
                "peer will resend less than we hold: the peer's store may have been rolled back",
                peer=channel.party,
                peer_sends=event.peer_send_next,
                expected=channel.inbound.next_seq,
            )
        self.lookout.numbering(channel.party, behind, peer_behind)

    def standing_by(self, channel: Channel, link: Link, event: ev.PeerStandingBy) -> None:
        """The node dialed is one of the peer's standbys, and named the active one: dial it."""
        if event.active is not None:
            channel.move_to(event.active - 1)
        # Said once per cause with a count (a peer node down while its standby names it would
        # otherwise say it every backoff).
        self.repeats.note(
            "the node we dialed is standing by; dialing the active node it names",
            level="info",
            peer=channel.party,
            active_node=event.active,
            active_addresses=",".join(event.addresses),
        )
        self.spawn(link.close())

    async def _skip_held_serials(self, party: str, held: int) -> None:
        moved = await self.station.store.skip_held_serials(party, held, self.station.clock.wall_ms())
        if moved is not None:
            log.warning(
                "the peer holds serials our store does not know (restored from an older copy?):"
                " new messages are numbered after them",
                peer=party,
                serials_from=serial(self.station.party, moved),
            )


def held_reason(party: str, channel: Channel) -> tuple[str, str]:
    """The error code ("suspended" or "removed") and the words a held peer is told."""
    state = channel.peer.state
    if state == "removed":
        return state, f"{party} has removed {channel.party} from its peers: nothing more is exchanged"
    return state, f"{party} has suspended traffic with {channel.party}: nothing is exchanged until it resumes"


def _dialer(link: Link | None) -> str | None:
    return None if link is None else link.dialed_by


def _session(link: Link | None) -> PeerSession | None:
    return None if link is None else link.session


def peer_behind_judged(
    previous: tuple[int, int] | None, fresh: tuple[int, int] | None, other_lane_up: bool
) -> tuple[int, int] | None:
    """Whether the peer will resend less than we hold, from a new link's hello (``fresh``: what
    its hello says, None if not behind). While the other lane is up, envelopes the peer signed
    after writing the hello may already be here, so a hello that says "behind" proves nothing
    and the previous judgement stands; one that says "not behind" is true whatever arrived, and
    clears it. (Keeping the previous judgement either way left the alarm standing for good when
    a lane came back before the other's old link was seen to close: after a catch-up, say.)"""
    if not other_lane_up:
        return fresh
    return None if fresh is None else previous
