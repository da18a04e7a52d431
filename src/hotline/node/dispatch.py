"""Sending: the dispatchers that sign queued messages, and the peer's answers to them.

A dispatcher per peer and lane takes drafts in precedence order while the lane has room
(``SendLedger.room``), gives each the next sequence number of the channel, signs it, stores the
signed envelope (durable), and only then writes it to the live link. The urgent lane signs
FLASH and IMMEDIATE messages as soon as they are queued, whatever the ordinary lane has in
flight; the ordinary one holds back while an urgent envelope is on its way, so that the peer's
processor is not handed more ordinary work in the meantime. The rules are the ledger's
(``protocol/ledger.py``); this is the asyncio shell around them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import structlog

from hotline.envelope import Envelope, Precedence, cbor, object_id, serial
from hotline.node.channel import Channel
from hotline.node.intake import DispatchWaiters
from hotline.node.keyring import Keyring
from hotline.node.lookout import Lookout
from hotline.node.station import Station
from hotline.node.tasks import Positions
from hotline.node.watchkeeper import Watchkeeper
from hotline.protocol import URGENT_RANK, Lane
from hotline.protocol import events as ev
from hotline.storage import Dispatched, Queued
from hotline.watch.alarms import Kind

log = structlog.get_logger("hotline.node")
# Envelopes signed per dispatch at most: a FLASH that arrives while a batch is being signed waits
# for that batch only (signing 512 takes ~40 ms here; 64, ~5 ms).
DISPATCH_BATCH = 64


class Dispatcher:
    def __init__(
        self,
        station: Station,
        keys: Keyring,
        parts: tuple[Lookout, Watchkeeper],
        positions: Positions,
        dispatched: DispatchWaiters,
        spawn: Callable[[Awaitable[Any]], object],
    ) -> None:
        self.station = station
        self.keys = keys  # our signing key for each peer (two while we rotate: ``keyring.py``)
        self.receipted: list[Callable[[str, list[int]], None]] = []  # told (peer, numbers) delivered
        self.rejected: list[Callable[[str, int, str, str], None]] = []  # told (peer, number, reason, detail)
        self.lookout, self.watchkeeper = parts
        self.positions = positions
        self.dispatched = dispatched
        self.spawn = spawn

    # -- signing -----------------------------------------------------------------------------

    async def run_forever(self, channel: Channel, lane: Lane) -> None:
        work = channel.work[lane]
        while not self.station.stopped.is_set():
            await work.wait()
            work.clear()
            channel.urgent_busy = lane is Lane.URGENT or channel.urgent_busy
            # Sign nothing ahead while the peer is unreachable: sequence numbers are given in
            # precedence order at the moment of sending, so a FLASH queued during an outage
            # still overtakes the ROUTINE traffic queued before it.
            while self.may_sign(channel) and (room := channel.ledger.room(lane)) > 0:
                if lane is Lane.ORDINARY and channel.ordinary_holds_back():
                    break  # the urgent lane wakes us when it is done
                queued = await self.station.store.next_queued(channel.party, min(room, DISPATCH_BATCH), lane.ranks)
                if not queued or not self.may_sign(channel):  # a hello read meanwhile may forbid it
                    break
                await self._dispatch(channel, lane, queued)
            if lane is Lane.URGENT:
                channel.urgent_busy = False
                if not channel.ledger.count_in_flight(Lane.URGENT):
                    channel.work[Lane.ORDINARY].set()

    def may_sign(self, channel: Channel) -> bool:
        """A link is up, and our numbering is not behind what the peer holds."""
        return channel.has_link() and not self.lookout.signing_stopped(channel.party)

    async def _dispatch(self, channel: Channel, lane: Lane, queued: list[Queued]) -> None:
        # From the first number taken to the store call, nothing here may await: the store then
        # receives every batch in sequence order, and a crash can only lose the newest numbers,
        # never leave a hole the peer would wait for forever. (So the batch is kept small
        # instead of yielding in the middle of it.)
        now_ms = self.station.clock.wall_ms()
        first = channel.ledger.take(len(queued))
        items = [self._sign(channel, q, first + i, now_ms) for i, q in enumerate(queued)]
        await self.station.store.dispatch(items, channel.has_link(), self.positions.take(len(items)))
        self.station.bulletin.post("outbox")
        channel.ledger.add(items)
        for item in items:
            self.dispatched.signed(item.number)
        # The routes may have changed while the commit ran. Urgent envelopes go on every path
        # that is up (a cut then costs them nothing); ordinary ones on the carrier path.
        routes = channel.routes(self.station.clock.monotonic())
        links = routes.urgent if lane is Lane.URGENT else (routes.ordinary,) if routes.ordinary else ()
        envelopes = [item.envelope for item in items]
        size = sum(len(envelope) for envelope in envelopes)
        sent = [link for link in links if link.send_envelopes(envelopes)]
        for link in sent:
            channel.wrote(link, [item.seq for item in items])
            channel.paths.carried(link.path, len(envelopes), size)
        if sent:
            await sent[0].drain()

    def _sign(self, channel: Channel, q: Queued, seq: int, now_ms: int) -> Dispatched:
        envelope = Envelope(
            sender=self.station.party,
            recipient=channel.party,
            seq=seq,
            number=q.number,
            sent_ms=now_ms,
            kind=q.draft.kind,
            kind_version=q.draft.kind_version,
            body=cbor.decode(q.draft.body),
            precedence=Precedence(q.draft.precedence),
            marking=q.draft.marking,
            reply_to=q.draft.reply_to,
        )
        signed = envelope.seal(self.keys.for_peer(channel.party))
        return Dispatched(q.number, channel.party, seq, signed, object_id(signed), now_ms, envelope.precedence.rank)

    def wake(self, channel: Channel) -> None:
        # Urgent traffic goes at once; the ordinary window is refilled in batches rather than
        # one message per receipt.
        channel.work[Lane.URGENT].set()
        if channel.ledger.wants_refill():
            channel.work[Lane.ORDINARY].set()

    # -- the peer's answers ------------------------------------------------------------------

    def on_receipt(self, channel: Channel, event: ev.ReceiptReceived) -> None:
        entries = [(entry.seq, entry.envelope_id) for entry in event.receipt.entries]
        delivered, conflicting = channel.ledger.settle(entries)
        channel.answered([item.seq for item in delivered])
        for seq in conflicting:
            log.critical("peer receipted a different envelope under our sequence number", peer=channel.party, seq=seq)
            item = channel.ledger.get(seq)
            assert item is not None
            facts = {"reason": "receipt-conflict", "detail": f"its receipt names another envelope under sequence {seq}"}
            name = serial(self.station.party, item.number)
            self.spawn(self.lookout.latch(Kind.NUMBERING_REFUSED, channel.party, name, facts))
        if delivered:
            self.lookout.count(channel.party, "delivered", len(delivered))
            self.lookout.answered(channel.party, [item.number for item in delivered if item.rank <= URGENT_RANK])
            positions = {entry.seq: entry.index for entry in event.receipt.entries}
            settled = [(item.seq, positions[item.seq]) for item in delivered]
            now = self.station.clock.wall_ms()
            recorded = self.station.store.record_receipt(
                channel.party, settled, event.opened.raw, now, self.positions.take(1)
            )
            self.spawn(self._post_when_stored(recorded, "outbox"))
            for listener in self.receipted:
                listener(channel.party, [item.number for item in delivered])
            self.wake(channel)

    def on_rejection(self, channel: Channel, event: ev.RejectionReceived) -> None:
        rejection = event.rejection
        item = channel.ledger.find(rejection.envelope_id)
        if item is None:
            return  # not ours in flight: a repeated rejection, already recorded
        name = serial(self.station.party, item.number)
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
            self.spawn(self.lookout.latch(Kind.NUMBERING_REFUSED, channel.party, name, facts))
            return
        if rejection.reason == "serial-reused":  # our serials collide with what the peer holds
            self.spawn(self.lookout.latch(Kind.NUMBERING_REFUSED, channel.party, name, facts))
        for listener in self.rejected:
            listener(channel.party, item.number, rejection.reason, rejection.detail)
        channel.ledger.give_up(item)
        channel.answered([item.seq])
        self.lookout.count(channel.party, "rejected", 1)
        self.lookout.answered(channel.party, [item.number])
        now = self.station.clock.wall_ms()
        recorded = self.station.store.record_rejection(item.envelope_id, event.opened.raw, now, self.positions.take(1))
        self.spawn(self._post_when_stored(recorded, "outbox"))
        self.watchkeeper.rejected(item.number)  # refused: no person there will acknowledge it
        log.warning(
            "message rejected by peer",
            peer=channel.party,
            seq=item.seq,
            reason=rejection.reason,
            detail=rejection.detail,
        )
        self.wake(channel)

    async def _post_when_stored(self, stored: Awaitable[Any], *topics: str) -> None:
        await stored
        self.station.bulletin.post(*topics)  # after the commit: a page that redraws now sees the change
