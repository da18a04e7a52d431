"""The operator's desk of a node: what the API and the CLI ask of it, and the rules a message
must pass before it is queued (the peer is pinned, the form is valid, a reply answers a message
of that channel). ``Node`` inherits it; the channel machinery lives in ``service.py``.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hotline.envelope import DEFAULT_MARKING, FieldError, Precedence, cbor, parse_message_key
from hotline.envelope.model import MARKING_PATTERN
from hotline.errors import AcknowledgeError, HotlineError, NotFoundError
from hotline.forms import FORMS, prepare_body, validate_body
from hotline.protocol import Lane, lane_of
from hotline.storage import Draft, InboxRow, OutboxRow, Queued, Store
from hotline.watch import Alert

if TYPE_CHECKING:
    from hotline.node.channel import Channel
    from hotline.node.config import NodeConfig
    from hotline.node.lookout import Lookout
    from hotline.node.watchkeeper import Watchkeeper


def wall_ms() -> int:
    return time.time_ns() // 1_000_000


class SendError(HotlineError):
    """An operator's message was refused before it was queued; ``field`` names the culprit."""

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(f"{field}: {detail}")
        self.field = field
        self.detail = detail


@dataclass(frozen=True)
class Message:
    """One message as an operator asks for it: ours (``sent``) or a peer's (``received``), and
    every message that replies to it, acknowledgements included."""

    sent: OutboxRow | None = None
    received: InboxRow | None = None
    replies_sent: list[OutboxRow] = field(default_factory=list)
    replies_received: list[InboxRow] = field(default_factory=list)


@dataclass(frozen=True)
class SendRequest:
    to: str
    kind: str
    body: dict[str, Any]
    kind_version: int = 1
    precedence: str = "ROUTINE"
    marking: str = DEFAULT_MARKING
    reply_to: bytes | None = None
    ref: str | None = None
    by_machine: bool = False  # sent by the node itself (link tests): forms no operator composes


class OperatorDesk:
    """Mixed into ``Node``: these attributes are the node's."""

    config: NodeConfig
    store: Store
    party: str
    channels: dict[str, Channel]
    watchkeeper: Watchkeeper
    lookout: Lookout
    _dispatch_waiters: dict[int, list[asyncio.Future[None]]]

    # -- the operator's side -----------------------------------------------------------------

    def check(self, request: SendRequest, now_ms: int | None = None) -> Draft:
        """Validate a request as the receiver will, so that errors surface at the sender."""
        if request.to not in self.channels:
            known = ", ".join(sorted(self.channels)) or "none"
            raise SendError("to", f"{request.to!r} is not a pinned peer (pinned: {known})")
        if self.config.witness_only:
            raise SendError("to", f"{self.party} only witnesses the peers' transcripts; it sends no messages")
        if self.channels[request.to].peer.witness:
            raise SendError("to", f"{request.to} only witnesses the transcripts; it takes no messages")
        if request.precedence not in Precedence.__members__:
            raise SendError("precedence", f"{request.precedence!r} is not one of {', '.join(Precedence)}")
        if not MARKING_PATTERN.match(request.marking):
            raise SendError("marking", f"{request.marking!r}: capital letters, digits, spaces, / _ -; at most 64")
        spec = FORMS.get((request.kind, request.kind_version))
        if spec is not None and not spec.composable and not request.by_machine:
            raise SendError("kind", f"{request.kind} messages are sent by the node itself, not by an operator")
        try:
            body = prepare_body(request.kind, request.kind_version, request.body)
            validate_body(request.kind, request.kind_version, body, reply_to=request.reply_to)
        except FieldError as exc:
            field = "reply_to" if exc.field == "re" else exc.field  # as the operator names it
            raise SendError(field, exc.detail) from None
        created_ms = wall_ms() if now_ms is None else now_ms
        policy = self.config.watch.policy(request.to)
        return Draft(
            peer=request.to,
            precedence=request.precedence,
            marking=request.marking,
            kind=request.kind,
            kind_version=request.kind_version,
            body=cbor.encode(body),
            reply_to=request.reply_to,
            created_ms=created_ms,
            ref=request.ref,
            due_ms=policy.due_ms(created_ms, Precedence(request.precedence), request.kind),
        )

    async def enqueue(self, requests: list[SendRequest]) -> list[Queued]:
        """Check and durably queue messages; the dispatchers take them from there."""
        drafts = [self.check(r) for r in requests]
        for request in requests:
            if request.reply_to is not None:
                await self._check_reply(request)
        queued = await self.store.enqueue(drafts)
        self.watchkeeper.queued(queued)
        self.lookout.queued(queued)
        for party, lane in {(q.draft.peer, lane_of(Precedence(q.draft.precedence).rank)) for q in queued}:
            self.channels[party].work[lane].set()
        return queued

    async def _check_reply(self, request: SendRequest) -> None:
        """A reply must answer a message of this channel, and of the kind its form answers."""
        assert request.reply_to is not None
        sent = await self.store.find_sent(envelope_id=request.reply_to)
        received = None if sent else await self.store.find_received(envelope_id=request.reply_to)
        if (sent.peer if sent else received.peer if received else None) != request.to:
            raise SendError("reply_to", f"names no message exchanged with {request.to}")
        spec = FORMS.get((request.kind, request.kind_version))
        wanted = spec.answers if spec else None
        if wanted and (received is None or received.kind != wanted):
            raise SendError("reply_to", f"a {request.kind} answers a {wanted} received from {request.to}")

    async def send(self, requests: list[SendRequest], wait_dispatch: float = 0.0) -> list[OutboxRow]:
        """Queue messages and wait up to ``wait_dispatch`` seconds for them to be signed, so that
        the answer can carry their ids."""
        queued = await self.enqueue(requests)
        numbers = [q.number for q in queued]
        rows = await self.store.find_outbox(numbers)
        pending = [row.number for row in rows if row.envelope_id is None]  # a retried ref may be long sent
        if not (pending and wait_dispatch):
            return rows
        loop = asyncio.get_running_loop()
        waiters = {number: loop.create_future() for number in pending}
        for number, waiter in waiters.items():
            self._dispatch_waiters.setdefault(number, []).append(waiter)
        try:
            await asyncio.wait(waiters.values(), timeout=wait_dispatch)  # waits; cancels nothing
        finally:  # also when the client goes away mid-wait
            for number, waiter in waiters.items():
                if not waiter.done():
                    self._dispatch_waiters[number].remove(waiter)
                    if not self._dispatch_waiters[number]:
                        del self._dispatch_waiters[number]
        return await self.store.find_outbox(numbers)

    # -- people and the watch ----------------------------------------------------------------

    async def acknowledge(self, key: str, by: str, remark: str | None = None) -> InboxRow:
        """A person here acknowledges a peer's message (serial or id)."""
        message = await self.find_message(key)
        row = message.received
        if row is None:
            peer = message.sent.peer if message.sent else "the peer"
            raise AcknowledgeError(f"{key} is a message we sent; a person at {peer} acknowledges it")
        await self.watchkeeper.acknowledge(row, by, remark, wall_ms())
        found = await self.store.find_received(envelope_id=row.envelope_id)
        assert found is not None
        return found

    async def find_message(self, key: str) -> Message:
        """A message by its serial (``SACEUR-000123``) or its id (64 hex digits)."""
        sent: OutboxRow | None = None
        received: InboxRow | None = None
        try:
            named = parse_message_key(key)
        except ValueError as exc:
            raise NotFoundError(str(exc)) from None
        if isinstance(named, bytes):
            sent = await self.store.find_sent(envelope_id=named)
            received = None if sent else await self.store.find_received(envelope_id=named)
        elif named[0] == self.party:
            sent = await self.store.find_sent(number=named[1])
        else:
            received = await self.store.find_received(peer=named[0], number=named[1])
        row = sent or received
        if row is None:
            raise NotFoundError(f"no message {key} is stored here")
        if row.envelope_id is None:
            return Message(sent=sent, received=received)
        replies_sent, replies_received = await self.store.replies(row.envelope_id)
        return Message(sent, received, replies_sent, replies_received)

    def alerts(self, now_ms: int | None = None) -> list[Alert]:
        """Open escalations, most urgent first."""
        return self.watchkeeper.watch.alerts(wall_ms() if now_ms is None else now_ms)

    async def status(self) -> list[dict[str, Any]]:
        result = []
        for party, channel in sorted(self.channels.items()):
            result.append(
                {
                    "peer": party,
                    "connected": channel.has_link(),  # traffic can flow (a lane lends its traffic to the other)
                    "lanes": {lane.value: lane in channel.links for lane in Lane},
                    "dialed_by": {lane.value: link.dialed_by for lane, link in channel.links.items()},
                    "last_contact_ms": channel.last_contact_ms,
                    "rtt_ms": None if channel.rtt is None else round(channel.rtt * 1000, 3),
                    "queue_depth": await self.store.queue_depth(party),
                    "in_flight": len(channel.inflight),
                    "next_seq_out": channel.send_next,
                    "next_seq_in": channel.inbound.next_seq,
                    "missing_in": channel.inbound.missing,  # numbers passed by the urgent lane, still to come
                    "link_test": await self.watchkeeper.link_test_status(party, wall_ms()),
                }
            )
        return result
