"""The desk: the node's one public face, for the API, the console and the CLI.

Every read and every act a surface needs is a method here; the surfaces import nothing else
from the node, and never reach into its store, its channels or its parts. A desk is composed
over a running ``Node`` (it is not the node): what it may do to the node is what is written
below, and a second store (PostgreSQL) changes nothing above this line.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import structlog

from hotline import storage
from hotline.envelope import parse_message_key
from hotline.errors import AcknowledgeError, AlarmError, HotlineError, NotFoundError
from hotline.forms.declarations import Declaration
from hotline.log import key_tag
from hotline.node.bulletin import Subscription
from hotline.node.card import IdentityCard
from hotline.node.console_settings import ConsoleSettings
from hotline.node.handles import open_handles
from hotline.node.intake import SendError, SendRequest
from hotline.node.link_views import lanes_linked, last_contact, path_views
from hotline.node.party_settings import differing_nodes
from hotline.node.reader import Reader
from hotline.node.readings import PeerSnapshot, PortReading, Snapshot
from hotline.storage import (
    AuditEntry,
    AwaitingAck,
    Equivocation,
    InboxRow,
    LoggedMessage,
    MessageFilter,
    OutboxRow,
    Page,
    PeerRecord,
    Queued,
    Store,
    StoredAlarm,
    StoredCheckpoint,
    StoredSession,
)
from hotline.watch import Alert, Tracked
from hotline.watch.alarms import Alarm
from hotline.watch.attention import attention, escalation_levels
from hotline.watch.deadlines import READINESS_KIND

if TYPE_CHECKING:
    from hotline.node.service import Node
    from hotline.node.standby import Standby

log = structlog.get_logger("hotline.console")

T = TypeVar("T")


@dataclass(frozen=True)
class Message:
    """One message as an operator asks for it: ours (``sent``) or a peer's (``received``), and
    every message that replies to it, acknowledgements included."""

    sent: OutboxRow | None = None
    received: InboxRow | None = None
    replies_sent: list[OutboxRow] = field(default_factory=list)
    replies_received: list[InboxRow] = field(default_factory=list)


class Desk:
    """The node's face. Over a node of a party that is standing by (``standby``), the same face
    reads the shared store as it stands, and refuses every change with the active node's name:
    the console serves its pages read-only."""

    def __init__(self, node: Node, standby: Standby | None = None) -> None:
        self._node = node
        self.standby = standby
        self._store = node.store
        self.party = node.party
        self.language = node.config.language  # the language this party writes and reads in
        self.directory: Path = node.config.directory
        self.shared_store: str = node.config.store  # a party's shared PostgreSQL store, or ""
        self.console_settings: ConsoleSettings = node.config.console
        self.page_rows = node.config.bounds.page_rows  # rows on one page a person reads, at most
        self._reader = Reader(node.config.store_location)
        self._reader_closer: asyncio.Task[None] | None = None

    # -- who we are, and the time ------------------------------------------------------------

    def now_ms(self) -> int:
        """The node's clock: every page and answer is stamped with the time the node keeps."""
        return self._node.clock.wall_ms()

    def identity(self) -> IdentityCard:
        return self._node.config.card()

    async def check_party(self) -> None:
        """On the active node of a party of several: every other node is connected to the
        database, ready to take over, and runs with this one's settings; raise or clear the
        alarms that say otherwise."""
        nodes = [n.number for n in await asyncio.to_thread(storage.party_nodes, self.shared_store)]
        connected = await asyncio.to_thread(storage.connected_nodes, self.shared_store)
        down = [n for n in nodes if n != self._node.config.node and n not in connected]
        differ = await asyncio.to_thread(differing_nodes, self._node.config, nodes)
        self._node.lookout.party(differ, down)

    def report_console(self, trouble: dict[str, str] | None) -> None:
        """The console's HTTPS listener, as the composition root that runs it sees it: an alarm
        while something is wrong (``console_tls.certificate_trouble``, or its server failed)."""
        self._node.lookout.console(trouble)

    @property
    def standby_banner(self) -> dict[str, Any] | None:
        """What a page's banner says on a standby: this node, and which node is active where."""
        if self.standby is None:
            return None
        active = self.standby.active
        where = f"http://{active.api}/" if active.api else ""
        return {"node": self.standby.config.node, "active": active.number, "where": where}

    def _writable(self, refused: Callable[[str], Exception]) -> None:
        if self.standby is not None:
            raise refused(self.standby.refusal())

    def role(self) -> dict[str, Any]:
        """This node's part in its party: the active node (its number among the party's nodes
        on a shared store, 0 for a party's only node, and the lease's epoch it writes under)."""
        if self.standby is not None:
            snapshot = self.standby.snapshot()
            return {key: snapshot[key] for key in ("role", "node", "active")}
        number = self._node.config.node
        return {"role": "active", "node": number, "active": {"node": number, "epoch": self._node.store.epoch}}

    @property
    def stopping(self) -> bool:
        return self._node.stopping

    @property
    def transcript_origin(self) -> str:
        return self._node.notary.origin

    @property
    def transcript_witnesses(self) -> dict[str, Any]:
        """The peers our checkpoints are offered to now (our log's quorum, ``log/quorum.py``):
        the quorum's size, whom the ranking names, and who of them is away (stood in for)."""
        notary = self._node.notary
        now, chosen = notary.witnesses(), notary.chosen()
        return {"now": sorted(now), "size": notary.quorum_size, "away": sorted(chosen - now)}

    # -- peers -------------------------------------------------------------------------------

    def peers(self) -> list[PeerRecord]:
        """The pinned peers, by name."""
        return [channel.peer for _, channel in sorted(self._node.channels.items())]

    def unlinked(self) -> tuple[str, ...]:
        """Peers with no path up, other than those whose traffic is held on purpose (their
        alarm says so)."""
        channels = sorted(self._node.channels.items())
        return tuple(party for party, channel in channels if not channel.has_link() and self._hold(party) is None)

    async def add_peers(self, cards: list[IdentityCard], replace: bool = False, by: str = "") -> list[PeerRecord]:
        self._writable(HotlineError)
        return await self._node.add_peers(cards, replace, by or "operator")  # all or none

    async def rotate_keys(self, next_key_pem: bytes, by: str) -> dict[str, Any]:
        """Begin rotating our keys to the committed next key (``rotation.py``)."""
        self._writable(HotlineError)
        return await self._node.rotation.rotate(next_key_pem, by)

    def rotation_under_way(self) -> dict[str, Any] | None:
        """Our rotation, while it waits for peers to receipt our statement: who still has to."""
        rotation = self._node.rotation
        if rotation.pending is None:
            return None
        waiting = sorted(set(rotation.awaiting) - self._node.keyring.switched)
        return {"new_key": key_tag(rotation.pending.new.verify_key.raw), "waiting_for": waiting}

    async def set_peer_state(self, party: str, state: str, by: str, remark: str | None = None) -> PeerRecord:
        """Suspend, resume or remove a pinned peer (``holds.py``)."""
        self._writable(HotlineError)
        return await self._node.set_peer_state(party, state, by, remark)

    async def catch_up(self, party: str, by: str, remark: str | None = None) -> int:
        self._writable(HotlineError)
        return await self._node.catch_up(party, by, remark)

    def port(self) -> PortReading | None:
        """The peer port's handshakes and refusals, and the file handles (None before it listens)."""
        port, handles = self._node.links.port, self._node.handles
        if port is None:
            return None
        return PortReading(
            handshakes=port.handshakes,
            handshakes_limit=port.admission.limit,
            refused={refusal.value: count for refusal, count in sorted(port.admission.refused.items())},
            handles_open=open_handles(),
            handles_limit=None if handles is None else handles.soft,
            handles_needed=None if handles is None else handles.needed,
        )

    async def status(self) -> list[dict[str, Any]]:
        """Every peer's link and what it asks of the watch, the peers most in need first."""
        result = []
        depths = await self._read(lambda store: store.queue_depths())  # a count over the backlog
        now = self.now_ms()
        alarms, acks = self.alarms(now), self._node.watchkeeper.watch.open_acks(now)
        escalated = escalation_levels(self.alerts(now))
        needs = {
            party: attention(
                party,
                not channel.has_link() and self._hold(party) is None,
                alarms,
                acks.get(party, (0, 0, 0)),
                depths.get(party, 0) + channel.ledger.count_in_flight(),
                escalated.get(party),
            )
            for party, channel in self._node.channels.items()
        }
        for party in sorted(needs, key=lambda party: needs[party].order()):
            channel = self._node.channels[party]
            result.append(
                {
                    "peer": party,
                    "attention": needs[party].view(),
                    "connected": channel.has_link(),  # traffic can flow: some path is up
                    "state": channel.peer.state,  # active, suspended or removed (by us)
                    "hold": self._hold(party),  # traffic held on purpose, by us or by the peer
                    "lanes": lanes_linked(channel),
                    "dialed_by": {lane.value: link.dialed_by for (_, lane), link in sorted(channel.links.items())},
                    "paths": path_views(channel, self._node.clock.monotonic(), now),
                    "last_contact_ms": last_contact(channel, self._node.clock.monotonic(), now),
                    # Only while linked: the last round trip measured would read as a live link.
                    "rtt_ms": None if channel.rtt is None or not channel.has_link() else round(channel.rtt * 1000, 3),
                    "queue_depth": depths.get(party, 0),
                    "in_flight": channel.ledger.count_in_flight(),
                    "next_seq_out": channel.ledger.send_next,
                    "next_seq_in": channel.inbound.next_seq,
                    "missing_in": channel.inbound.missing,  # numbers passed by the urgent lane, still to come
                    "link_test": await self._node.watchkeeper.link_test_status(party, now),
                    # Since the node started: the peer's envelopes we refused, and of those how
                    # many were beyond the day's evidence bound (answered, not kept).
                    "refused": self._node.lookout.traffic.get((party, "refused"), 0),
                    "refused_not_kept": self._node.lookout.traffic.get((party, "refused-not-kept"), 0),
                }
            )
        return result

    def _hold(self, party: str) -> str | None:
        health = self._node.lookout.health.peers.get(party)
        return None if health is None or health.held is None else health.held[0].value

    # -- messages ----------------------------------------------------------------------------

    def check(self, request: SendRequest) -> None:
        """Refuse (``SendError``) what would not be queued, without queueing it."""
        self._writable(lambda why: SendError("to", why))
        for copy in self._node.intake.copies(request):
            self._node.intake.check(copy)

    async def enqueue(self, requests: list[SendRequest]) -> list[Queued]:
        self._writable(lambda why: SendError("to", why))
        return await self._node.intake.enqueue(requests)

    async def send(self, requests: list[SendRequest], wait_dispatch: float = 0.0) -> list[OutboxRow]:
        """Queue messages and wait up to ``wait_dispatch`` seconds for them to be signed, so that
        the answer can carry their ids."""
        queued = await self.enqueue(requests)
        numbers = [q.number for q in queued]
        rows = await self._store.find_outbox(numbers)
        pending = [row.number for row in rows if row.envelope_id is None]  # a retried ref may be long sent
        if not (pending and wait_dispatch):
            return rows
        await self._node.dispatched.wait(pending, wait_dispatch)
        return await self._store.find_outbox(numbers)

    async def find_message(self, key: str) -> Message:
        """A message by its serial (``SACEUR-000123``) or its id (64 hex digits)."""
        sent: OutboxRow | None = None
        received: InboxRow | None = None
        try:
            named = parse_message_key(key)
        except ValueError as exc:
            raise NotFoundError(str(exc)) from None
        if isinstance(named, bytes):
            sent = await self._store.find_sent(envelope_id=named)
            received = None if sent else await self._store.find_received(envelope_id=named)
        elif named[0] == self.party:
            sent = await self._store.find_sent(number=named[1])
        else:
            received = await self._store.find_received(peer=named[0], number=named[1])
        row = sent or received
        if row is None:
            raise NotFoundError(f"no message {key} is stored here")
        if sent is not None and sent.broadcast is not None:  # one copy of a message to several
            copies = await self._store.broadcast_copies(sent.broadcast)
            sent = replace(sent, copies=tuple(c for c in copies if c.number != sent.number))
        if row.envelope_id is None:
            return Message(sent=sent, received=received)
        replies_sent, replies_received = await self._store.replies(row.envelope_id)
        return Message(sent, received, replies_sent, replies_received)

    async def acknowledge(self, key: str, by: str, remark: str | None = None, rank: str | None = None) -> InboxRow:
        """A person here acknowledges a peer's message (serial or id); ``rank``: theirs, a code
        of ``hotline.forms.ranks.Rank``."""
        self._writable(AcknowledgeError)
        message = await self.find_message(key)
        row = message.received
        if row is None:
            peer = message.sent.peer if message.sent else "the peer"
            raise AcknowledgeError(f"{key} is a message we sent; a person at {peer} acknowledges it")
        await self._node.watchkeeper.acknowledge(row, by, remark, self.now_ms(), rank)
        found = await self._store.find_received(envelope_id=row.envelope_id)
        assert found is not None
        return found

    # -- reading for people: off the loop that carries the links (``reader.py``) --------------

    async def _read(self, operation: Callable[[Store], Awaitable[T]]) -> T:
        if self._reader_closer is None:  # the reading store goes when the node stops
            self._reader_closer = asyncio.ensure_future(self._close_reader_when_stopped())
        return await self._reader.read(operation)

    async def _close_reader_when_stopped(self) -> None:
        await self._node.stopped.wait()
        await self._reader.close()

    async def outbox(self, limit: int = 1000) -> list[OutboxRow]:
        """The newest entries: a message to several parties is one, its first copy with the others."""
        return await self._read(lambda store: store.outbox_entries(limit))

    async def inbox(self, limit: int = 1000) -> list[InboxRow]:
        return await self._read(lambda store: store.inbox(limit))

    async def outbox_page(self, offset: int) -> Page[OutboxRow]:
        """A page of our messages people wrote, newest first."""
        return await self._read(lambda store: store.outbox_page(offset, self.page_rows))

    async def awaiting_here(self, offset: int, flash_only: bool = False) -> Page[tuple[AwaitingAck, Tracked]]:
        """A page of the peers' messages a person here has yet to acknowledge, most urgent
        first, each as the watch sees it; ``flash_only``: those chased as FLASH."""
        chased = (READINESS_KIND,)  # the watch chases a readiness check as a FLASH
        found = await self._read(lambda store: store.awaiting_received(chased, flash_only, offset, self.page_rows))
        watchkeeper = self._node.watchkeeper
        return Page([(item, watchkeeper.tracked(item)) for item in found.rows], found.total, found.offset)

    async def message_log(self, found: MessageFilter, offset: int, rows: int | None = None) -> Page[LoggedMessage]:
        """A page of every message sent and received that ``found`` asks for, newest first."""
        limit = min(rows or self.page_rows, self.page_rows)
        return await self._read(lambda store: store.message_log(self.party, found, offset, limit))

    async def closed_alarms(self, offset: int) -> Page[StoredAlarm]:
        return await self._read(lambda store: store.closed_alarms(offset, self.page_rows))

    # -- the watch and the alarms ------------------------------------------------------------

    def alerts(self, now_ms: int | None = None) -> list[Alert]:
        """Open escalations, most urgent first."""
        return self._node.watchkeeper.watch.alerts(self.now_ms() if now_ms is None else now_ms)

    async def awaiting(self) -> list[tuple[AwaitingAck, Tracked]]:
        """Messages a person has yet to acknowledge, here or at the peer, as the watch sees them."""
        watchkeeper = self._node.watchkeeper
        return [(item, watchkeeper.tracked(item)) for item in await self._store.awaiting_ack(self.party)]

    def alarms(self, now_ms: int | None = None) -> list[Alarm]:
        """Standing alarms about the channel itself, loudest first."""
        return self._node.lookout.alarms(self.now_ms() if now_ms is None else now_ms)

    async def alarm_history(self, limit: int = 1000) -> list[StoredAlarm]:
        return await self._store.alarm_history(limit)

    async def close_alarm(
        self, number: int, by: str, remark: str, role: str | None = None, address: str | None = None
    ) -> StoredAlarm:
        self._writable(AlarmError)
        return await self._node.lookout.close(number, by, remark, role, address)

    # -- the transcript and the audit trail ---------------------------------------------------

    async def latest_checkpoint(self) -> StoredCheckpoint | None:
        return await self._store.latest_checkpoint()

    async def equivocations(self) -> list[Equivocation]:
        return await self._store.equivocations()

    async def declarations(self) -> tuple[list[Declaration], list[str]]:
        """Every arsenal declaration sent or received, oldest as-of date first (superseded kept),
        and those that no longer read as one (serial: why)."""
        found = await self._node.registrar.record()
        return found, list(self._node.registrar.unreadable)

    async def audit_trail(self, limit: int = 500) -> list[AuditEntry]:
        return await self._store.audit_trail(limit)

    async def record_audit(self, entry: AuditEntry) -> None:
        if self.standby is not None:  # a standby writes nothing: its log keeps what a person did
            log.info("console audit (standing by: in this log only)", **entry.__dict__)
            return
        await self._store.record_audit(entry)

    # -- the console's signed-in sessions ----------------------------------------------------

    async def stored_sessions(self) -> list[StoredSession]:
        return await self._store.stored_sessions()

    async def save_sessions(self, saved: list[StoredSession], ended: list[str], touched: list[StoredSession]) -> None:
        """Keep new and used sessions, forget ended ones. A standby keeps them in memory only:
        it writes nothing; a browser signed in there signs in again after a takeover."""
        if self.standby is not None:
            return
        # Queued together (the store keeps the order of calls), awaited after.
        waits = [self._store.end_sessions(ended)] if ended else []
        waits += [self._store.save_sessions(saved)] if saved else []
        waits += [self._store.save_sessions(touched, True)] if touched else []
        for done in waits:
            await done

    # -- live pages and monitoring -----------------------------------------------------------

    @contextmanager
    def subscribe(self) -> Iterator[Subscription]:
        """Notices of what changed (``inbox``, ``outbox``, ``alerts``, ``links``, ``transcript``)."""
        with self._node.bulletin.subscribe() as subscription:
            yield subscription

    async def readings(self, now_ms: int | None = None) -> Snapshot:
        """What a scrape of ``/metrics`` reports, at one moment."""
        now = self.now_ms() if now_ms is None else now_ms
        node, lookout = self._node, self._node.lookout
        # Counted over the backlog, so read off the loop; the rest is the node's own state.
        depths = await self._read(lambda store: store.queue_depths())
        oldest = await self._read(lambda store: store.oldest_awaiting())
        peers = []
        for party, channel in sorted(node.channels.items()):
            seen = lookout.health.peers.get(party)
            undelivered = [t for per in seen.undelivered.values() for t in per.values()] if seen else []
            peers.append(
                PeerSnapshot(
                    party=party,
                    lanes=lanes_linked(channel),
                    connected=channel.has_link(),
                    paths={path.index + 1: (path.up, path.srtt) for path in channel.paths.paths},
                    rtt_s=channel.rtt,
                    last_contact_ms=last_contact(channel, node.clock.monotonic(), now),
                    queued=depths.get(party, 0),
                    in_flight=channel.ledger.count_in_flight(),
                    skew_ms=seen.skew_ms if seen else None,
                    signing_stopped=lookout.signing_stopped(party),
                    undelivered_urgent=len(undelivered),
                    oldest_undelivered_ms=min(undelivered) if undelivered else None,
                )
            )
        latest = await self._store.latest_checkpoint()
        hook = lookout.hook
        hook_counts = {"delivered": hook.delivered, "failed": hook.failed, "dropped": hook.dropped}
        return Snapshot(
            party=self.party,
            now_ms=now,
            stopping=self.stopping,
            peers=peers,
            alarms=lookout.alarms(now),
            alerts=self.alerts(now),
            transcript_size=None if latest is None else latest.size,
            checkpoint_ms=None if latest is None else latest.at_ms,
            cosigned_by=[] if latest is None else [w for w, _ in latest.cosignatures],
            hook=hook_counts if hook.configured else {},
            traffic=dict(lookout.traffic),
            oldest_unacknowledged_ms=oldest,
            port=self.port(),
            node=self._node.config.node,
            epoch=self._store.epoch,
        )
