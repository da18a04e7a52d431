"""Receiving: the peer's envelopes stored with one signed receipt per read, or refused.

Authentic envelopes with the next sequence numbers (``InboundSequence``) are stored, together
with one signed receipt naming all those that arrived in the same read, in one transaction; the
receipt is written to the wire only after that commit. Under load the receiver thus signs once
per batch, not once per message; a FLASH or IMMEDIATE is stored and receipted at once
(``receipt_due``). A duplicate is answered with the stored receipt. Everything the core refused
is stored as evidence and answered with a signed rejection. Link tests are answered by the
machine in the same transaction that stores them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import structlog

from hotline.crypto.rotation import RotationStatement
from hotline.envelope import Envelope, Precedence, Receipt, ReceiptEntry, Rejection, cbor, object_id, serial
from hotline.envelope.model import MAX_DETAIL
from hotline.envelope.signed import Opened
from hotline.forms.catalogue import FORMS
from hotline.node.channel import Channel
from hotline.node.config import NodeConfig
from hotline.node.keyring import Keyring
from hotline.node.link import Link
from hotline.node.lookout import Lookout
from hotline.node.station import Station
from hotline.node.tasks import Positions
from hotline.node.watchkeeper import Watchkeeper, acknowledgement_in
from hotline.protocol import URGENT_RANK, Lane
from hotline.protocol import events as ev
from hotline.protocol.ledger import receipt_due
from hotline.storage import Acknowledgement, InboundStored, InboxRow, ReplyTarget
from hotline.watch.alarms import Kind

if TYPE_CHECKING:
    from hotline.node.rotation import Rotation

log = structlog.get_logger("hotline.node")


class Inbound:
    def __init__(
        self,
        station: Station,
        keys: Keyring,
        settings: NodeConfig,
        parts: tuple[Lookout, Watchkeeper],
        positions: Positions,
        spawn: Callable[[Awaitable[Any]], object],
    ) -> None:
        self.station = station
        self.keys = keys  # our signing key for each peer (``keyring.py``)
        self.settings = settings  # the deadline policy per peer, the clock tolerance
        self.lookout, self.watchkeeper = parts
        self.positions = positions
        self.spawn = spawn
        # Per peer and lane: envelopes accepted but not yet stored, and the link they came on.
        # Keyed by lane, not link, so that whatever the tie-break does a lane's envelopes are
        # stored in sequence order; and not by peer alone, so that a FLASH is stored on its own,
        # not together with the ordinary envelopes its lane overtook.
        self._received: dict[tuple[str, Lane], tuple[Link, list[ev.EnvelopeReceived]]] = {}
        self._evidence: dict[str, EvidenceAllowance] = {}  # per peer, today's
        self.rotation: Rotation | None = None  # a peer's key rotation, checked and followed as it is stored

    def envelope(self, channel: Channel, link: Link, event: ev.EnvelopeReceived) -> None:
        """An authentic envelope with a new number: batched with the rest of its read."""
        key = (channel.party, link.lane)
        pending = self._received.get(key)
        if pending is not None and pending[0] is not link:
            self.flush(link)  # an earlier link of this lane: its envelopes first
        batch = self._received.setdefault(key, (link, []))[1]
        batch.append(event)
        if receipt_due(len(batch), event.envelope.precedence.rank):
            self.flush(link)

    def flush(self, link: Link) -> None:
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
        channel = self.station.channels[link.peer]
        numbers = sorted({e.envelope.number for e in batch})
        held = self.station.store.held_serials(channel.party, numbers)
        held |= {n: channel.serials_pending[n] for n in numbers if n in channel.serials_pending}
        replies = [e.envelope.reply_to for e in batch if e.envelope.reply_to is not None]
        targets = self.station.store.reply_targets(replies) if replies else {}
        accepted = []
        for e in batch:
            fault = reply_fault(e.envelope, targets)
            if fault is not None:
                self.refuse(channel, link, e.opened.raw, e.envelope.seq, "invalid-reply", fault, True)
                continue
            statement = self._rotation_statement(channel, link, e)
            if statement is False:
                continue  # refused, with its alarm
            holder = held.setdefault(e.envelope.number, e.opened.id)
            if holder == e.opened.id:
                self._follow_keys(channel, e, statement)
                accepted.append(e)
                continue
            name = serial(channel.party, e.envelope.number)
            detail = f"{name} already names another message from {channel.party} (id {holder.hex()})"
            self.refuse(channel, link, e.opened.raw, e.envelope.seq, "serial-reused", detail, True)
            facts = {"first": holder.hex(), "second": e.opened.id.hex(), "seq": e.envelope.seq}
            self.spawn(self.lookout.latch(Kind.SERIAL_REUSED, channel.party, name, facts))
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

    def _rotation_statement(
        self, channel: Channel, link: Link, e: ev.EnvelopeReceived
    ) -> RotationStatement | bool | None:
        """A ``key_rotation`` envelope's statement, checked; False if it was refused (answered
        with a rejection, a latched alarm raised, nothing changed); None for any other kind."""
        if e.envelope.kind != "key_rotation" or self.rotation is None:
            return None
        checked = self.rotation.check(channel, e.envelope)
        if isinstance(checked, RotationStatement):
            return checked
        detail = f"{checked.reason}: {checked.detail}"
        self.refuse(channel, link, e.opened.raw, e.envelope.seq, "rotation-refused", detail, True)
        facts = {"reason": checked.reason, "detail": checked.detail}
        self.spawn(
            self.lookout.latch(Kind.ROTATION_REFUSED, channel.party, serial(channel.party, e.envelope.number), facts)
        )
        log.critical("peer's key rotation refused: its keys are unchanged", peer=channel.party, reason=checked.reason,
                     detail=checked.detail)  # fmt: skip
        return False

    def _follow_keys(
        self, channel: Channel, e: ev.EnvelopeReceived, statement: RotationStatement | bool | None
    ) -> None:
        """Before the envelope's own store call: pin a rotating peer's new keys, or retire its old."""
        if self.rotation is None:
            return
        if isinstance(statement, RotationStatement):
            self.rotation.follow(channel, statement)
        elif e.envelope.kind == "key_rotation_done":
            self.rotation.retire(channel, e.envelope)

    def _store_batch(
        self, channel: Channel, link: Link, batch: list[ev.EnvelopeReceived]
    ) -> asyncio.Future[InboundStored]:
        # From the indices taken to the store call, nothing awaits: the transcript stays gapless.
        first = self.positions.take(len(batch) + 1)  # the envelopes, then our receipt
        now_ms = self.station.clock.wall_ms()
        entries = tuple(ReceiptEntry(e.envelope.seq, e.opened.id, first + i) for i, e in enumerate(batch))
        receipt = Receipt(self.station.party, channel.party, now_ms, entries).seal(self.keys.for_peer(channel.party))
        policy = self.settings.watch.policy(channel.party)
        rows, replies = [], []
        for e in batch:
            envelope = e.envelope
            self._look_at_clock_and_tests(channel, envelope, now_ms)
            machine_ack = None
            answer = self.watchkeeper.machine_answer(channel.party, envelope, e.opened.id, now_ms)
            if answer is not None:  # answered by the machine, in the same commit
                machine_ack, reply = answer
                replies.append(reply)
            due_ms = policy.due_ms(now_ms, envelope.precedence, envelope.kind)
            rows.append(received_row(envelope, e.opened, now_ms, due_ms, machine_ack))
            channel.held_number = max(channel.held_number or 0, envelope.number)
        stored = asyncio.ensure_future(self.station.store.store_inbound(rows, receipt, first, replies))
        for row in rows:
            channel.storing[row.seq] = stored
        stored.add_done_callback(lambda _: _forget(channel.storing, rows, stored))
        self.spawn(self._after_inbound(channel, link, stored, receipt, rows))
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
        if ahead > self.settings.alarms.clock_tolerance * 1000:
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
        if any(Precedence(row.precedence).rank <= URGENT_RANK for row in rows):
            # An urgent envelope's receipt goes on every path, as the envelope came: the sender
            # stops waiting on the first to arrive, whichever path is cut.
            for other in channel.routes(self.station.clock.monotonic()).urgent:
                if other is not link and other.send_answer(receipt, True):
                    other.answered.add(object_id(receipt))
        self.watchkeeper.received(rows, result)
        if result.replies:
            channel.wake()

    async def _answer_when_stored(self, link: Link, stored: Awaitable[None], answer: bytes, is_receipt: bool) -> None:
        await stored
        link.send_answer(answer, is_receipt)  # if the link is gone, the peer resends and gets it

    async def on_duplicate(self, channel: Channel, link: Link, event: ev.DuplicateReceived) -> None:
        storing = channel.storing.get(event.seq)
        if storing is not None:  # the first copy, on another path, is being stored: answer after
            await asyncio.wait([storing])
        answer = await self.station.store.stored_answer(channel.party, event.seq)
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
        self.refuse(
            channel,
            link,
            event.opened.raw,
            event.seq,
            "sequence-reused",
            f"sequence {event.seq} already holds a different envelope from {channel.party}",
            False,
        )

    def refuse(
        self, channel: Channel, link: Link, raw: bytes, seq: int | None, reason: str, detail: str, consumed: bool
    ) -> None:
        now_ms = self.station.clock.wall_ms()
        kept = self._keep_evidence(channel.party, len(raw), now_ms)
        index = self.positions.take(2 if kept else 1)  # the envelope if kept, then the rejection
        detail = detail[:MAX_DETAIL]  # the peer's field names appear in it; keep it within the format
        rejection = Rejection(self.station.party, channel.party, object_id(raw), seq, now_ms, reason, detail, consumed)
        sealed = rejection.seal(self.keys.for_peer(channel.party))
        stored = self.station.store.store_refused(
            channel.party, seq, consumed, object_id(raw), raw, reason, detail, sealed, now_ms, index, kept
        )
        self.spawn(self._answer_when_stored(link, stored, sealed, False))
        self.lookout.count(channel.party, "refused", 1)
        if kept:
            log.warning("envelope refused", peer=channel.party, seq=seq, reason=reason, detail=detail)

    def _keep_evidence(self, peer: str, size: int, now_ms: int) -> bool:
        """Whether a refused envelope is kept as evidence: up to the day's bound per peer (a
        peer that signs invalid envelopes of a megabyte each must not fill our disk). Beyond it,
        each is counted and answered as before; the operator is told once a day per peer."""
        allowance = self._evidence.get(peer)
        day = now_ms // DAY_MS
        if allowance is None or allowance.day != day:
            kept = self.station.store.refused_bytes_kept(peer, day * DAY_MS)
            allowance = self._evidence[peer] = EvidenceAllowance(
                day, self.settings.bounds.evidence_bytes_per_peer_day, kept
            )
        if allowance.take(size):
            return True
        self.lookout.count(peer, "refused-not-kept", 1)
        if allowance.not_kept == 1:
            log.warning(
                "evidence bound reached: this peer's refused envelopes are now counted and answered, not kept,"
                " until 00:00 UTC",
                peer=peer,
                kept_bytes=allowance.kept,
                bound_bytes=allowance.bound,
            )
        return False


DAY_MS = 86_400_000


@dataclass
class EvidenceAllowance:
    """One peer's evidence of refused envelopes on one UTC day: kept up to ``bound`` bytes."""

    day: int  # days since 1970-01-01, UTC
    bound: int
    kept: int = 0
    not_kept: int = 0

    def take(self, size: int) -> bool:
        if self.kept + size <= self.bound:
            self.kept += size
            return True
        self.not_kept += 1
        return False


def reply_fault(envelope: Envelope, targets: Mapping[bytes, ReplyTarget]) -> str | None:
    """Why a reply may not name the message it names, or None.

    A peer's reply must name a message of this channel: otherwise a peer could hang an
    acknowledgement or an answer on a message we sent to another party, and our console would
    show it in that message's thread. An acknowledgement (and an answer to a request) must name
    a message of ours to this peer of the kind it answers. The refusal names nothing of the
    other channel: the peer learns only that its reply names nothing it may answer.
    """
    if envelope.reply_to is None:
        return None
    target = targets.get(envelope.reply_to)
    sender, kind = envelope.sender, envelope.kind
    spec = FORMS.get((kind, envelope.kind_version))
    if target is not None and target.peer != sender:
        return f"reply_to names no message exchanged with {sender}"
    if kind == "ack" and (target is None or not target.sent or target.kind == "ack"):
        return "an ack must name a message of ours to you that a person acknowledges"
    if spec is not None and spec.answers and (target is None or not target.sent or target.kind != spec.answers):
        return f"a {kind} must answer a {spec.answers} of ours to you"
    return None


def _forget(storing: dict[int, asyncio.Future[Any]], rows: list[InboxRow], stored: asyncio.Future[Any]) -> None:
    """A batch committed (or failed): its copies arriving later are answered from the store."""
    for row in rows:
        if storing.get(row.seq) is stored:
            del storing[row.seq]


def received_row(
    envelope: Envelope, opened: Opened, received_ms: int, due_ms: int | None, ack: Acknowledgement | None = None
) -> InboxRow:
    """The inbox row of a peer's envelope stored at ``received_ms`` (on receipt, or put back by
    a recovery after a restore)."""
    return InboxRow(
        peer=envelope.sender,
        seq=envelope.seq,
        number=envelope.number,
        envelope_id=opened.id,
        precedence=envelope.precedence.value,
        marking=envelope.marking,
        kind=envelope.kind,
        body=cbor.encode(envelope.body),
        sent_ms=envelope.sent_ms,
        received_ms=received_ms,
        envelope=opened.raw,
        kind_version=envelope.kind_version,
        reply_to=envelope.reply_to,
        due_ms=due_ms,
        ack=ack,
        acknowledges=acknowledgement_in(envelope),
    )
