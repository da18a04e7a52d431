"""The intake: the rules a message passes before it is queued, and the queueing itself.

Whoever asks (an operator through the desk, the watch for its readiness checks and link
tests), a message is checked here as the receiver will check it, so that errors surface at the
sender: the peer is pinned and takes messages, the form is valid, a reply answers a message of
that channel and of the kind its form answers. Then it is queued durably, and the lane's
dispatcher is woken.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Any

from hotline.envelope import DEFAULT_MARKING, FieldError, Precedence, cbor
from hotline.envelope.model import MARKING_PATTERN
from hotline.errors import HotlineError
from hotline.forms import FORMS, prepare_body, validate_body
from hotline.node.config import NodeConfig
from hotline.node.station import Station
from hotline.protocol import lane_of
from hotline.storage import Draft, Queued


class SendError(HotlineError):
    """An operator's message was refused before it was queued; ``field`` names the culprit."""

    def __init__(self, field: str, detail: str, more: tuple[tuple[str, str], ...] = ()) -> None:
        # Every bad field, one a line: whoever typed the message corrects them all in one go.
        super().__init__("\n".join(f"{name}: {why}" for name, why in ((field, detail), *more)))
        self.field = field
        self.detail = detail
        self.more = more


ROTATION_KINDS = ("key_rotation", "key_rotation_done")  # the node's own, to every peer (``rotation.py``)
EVERY_PARTY = "*"  # ``to``: every pinned party that takes messages


def several(to: str) -> bool:
    """Whether ``to`` names several parties (``A,B,C``) or all (``*``), not one."""
    return to == EVERY_PARTY or "," in to


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
    # One copy of a message to several parties (``Intake.copies``): the message's place in the
    # call that sent it, so that two such messages sent together stay two entries.
    broadcast: int | None = None


class Intake:
    def __init__(self, station: Station, config: NodeConfig) -> None:
        self.station = station
        self.config = config
        self.listeners: list[Callable[[list[Queued]], None]] = []  # told of every queued batch

    def check(self, request: SendRequest, now_ms: int | None = None) -> Draft:
        """Validate a request as the receiver will, so that errors surface at the sender."""
        channels = self.station.channels
        if not request.to.strip():
            raise SendError("to", "no addressee: name a pinned party, several as A,B,C, or '*' for every one")
        if request.to == self.station.party:
            raise SendError("to", f"{request.to} is this node's own party: a message goes to a peer")
        if request.to not in channels:
            known = ", ".join(sorted(channels)) or "none"
            raise SendError("to", f"{request.to!r} is not a pinned peer (pinned: {known})")
        # A key rotation goes to every peer, a witness too, and from a witness too: a witness
        # follows the keys of the logs it witnesses, and its own rotate.
        rotation = request.by_machine and request.kind in ROTATION_KINDS
        if self.config.witness_only and not rotation:
            raise SendError("to", f"{self.station.party} only witnesses the peers' transcripts; it sends no messages")
        if channels[request.to].peer.witness and not rotation:
            raise SendError("to", f"{request.to} only witnesses the transcripts; it takes no messages")
        if channels[request.to].peer.state == "removed":
            raise SendError("to", f"{request.to} was removed from this node's peers: nothing more is sent to it")
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
            raise SendError(field, exc.detail, exc.more) from None
        created_ms = self.station.clock.wall_ms() if now_ms is None else now_ms
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
            broadcast=request.broadcast,
        )

    def copies(self, request: SendRequest, group: int = 0) -> list[SendRequest]:
        """A message to several parties (``to``: ``A,B,C`` or ``*``) as one copy per party, each
        signed on its own channel with that channel's sequence; a message to one, as it is.
        Every copy is checked before any is queued: all of them go, or none."""
        if not several(request.to):
            return [request]
        if request.reply_to is not None:
            raise SendError("to", "a reply answers one party's message and goes to that party alone")
        if request.to == EVERY_PARTY:
            channels = self.station.channels.items()
            parties = sorted(p for p, c in channels if not c.peer.witness and c.peer.state != "removed")
            if not parties:
                raise SendError("to", "no pinned peer takes messages: pin one first (hotline peer add)")
        else:
            parties = [p.strip().upper() for p in request.to.split(",")]
            if "" in parties:
                raise SendError("to", f"{request.to!r}: a party's name is missing (two commas, or one at an end)")
            if EVERY_PARTY in parties:
                raise SendError("to", "'*' means every party: give it alone, not in a list")
            twice = sorted({p for p in parties if parties.count(p) > 1})
            if twice:
                raise SendError("to", f"{', '.join(twice)} named more than once")
        return [
            replace(request, to=party, broadcast=group, ref=None if request.ref is None else f"{request.ref}:{party}")
            for party in parties
        ]

    async def enqueue(self, requests: list[SendRequest]) -> list[Queued]:
        """Check and durably queue messages; the dispatchers take them from there."""
        requests = [copy for group, request in enumerate(requests) for copy in self.copies(request, group)]
        drafts = [self.check(r) for r in requests]
        for request in requests:
            if request.reply_to is not None:
                await self._check_reply(request)
        queued = await self.station.store.enqueue(drafts)
        for listener in self.listeners:
            listener(queued)
        for party, lane in {(q.draft.peer, lane_of(Precedence(q.draft.precedence).rank)) for q in queued}:
            self.station.channels[party].work[lane].set()
        return queued

    async def _check_reply(self, request: SendRequest) -> None:
        """A reply must answer a message of this channel, and of the kind its form answers."""
        assert request.reply_to is not None
        store = self.station.store
        sent = await store.find_sent(envelope_id=request.reply_to)
        received = None if sent else await store.find_received(envelope_id=request.reply_to)
        if (sent.peer if sent else received.peer if received else None) != request.to:
            raise SendError("reply_to", f"names no message exchanged with {request.to}")
        spec = FORMS.get((request.kind, request.kind_version))
        wanted = spec.answers if spec else None
        if wanted and (received is None or received.kind != wanted):
            raise SendError("reply_to", f"a {request.kind} answers a {wanted} received from {request.to}")


class DispatchWaiters:
    """Callers waiting for their messages to be signed (so that an answer can carry the ids)."""

    def __init__(self) -> None:
        self._waiting: dict[int, list[asyncio.Future[None]]] = {}  # by message number

    async def wait(self, numbers: Iterable[int], timeout: float) -> None:
        """Until every one of ``numbers`` is signed, or ``timeout`` seconds passed."""
        loop = asyncio.get_running_loop()
        waiters = {number: loop.create_future() for number in numbers}
        for number, waiter in waiters.items():
            self._waiting.setdefault(number, []).append(waiter)
        try:
            await asyncio.wait(waiters.values(), timeout=timeout)  # waits; cancels nothing
        finally:  # also when the client goes away mid-wait
            for number, waiter in waiters.items():
                if not waiter.done():
                    self._waiting[number].remove(waiter)
                    if not self._waiting[number]:
                        del self._waiting[number]

    def signed(self, number: int) -> None:
        for waiter in self._waiting.pop(number, []):
            if not waiter.done():
                waiter.set_result(None)
