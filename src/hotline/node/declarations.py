"""The record of declarations, and the watch on their agreed rhythm.

The record is read from the store when asked (``forms/declarations.py`` makes it from the signed
messages). The watch: for each peer with a schedule (``[declarations]``), which scheduled
declarations are not made, ours and theirs; the lookout raises an alarm for each once it is
due, and calls for someone higher as it stays overdue (``watch/declaring.py``). What is expected
is looked at again when messages are stored (a declaration among them clears its alarm), and
when the next scheduled as-of date begins.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from datetime import UTC, date, datetime

import structlog

from hotline.forms.declarations import Declaration, Signed, record
from hotline.node.bulletin import Subscription
from hotline.node.lookout import Lookout
from hotline.node.station import Station
from hotline.watch.declaring import Expected, Schedule, expected, next_as_of_ms

log = structlog.get_logger("hotline.declarations")
SETTLE_S = 1.0  # after messages are stored, look again at most this often (a burst is one look)


class Registrar:
    def __init__(self, station: Station, schedules: Mapping[str, Schedule], lookout: Lookout) -> None:
        self.station = station
        self.schedules = dict(schedules)
        self.lookout = lookout
        self.unreadable: list[str] = []  # declarations whose body no longer reads (serial: why)

    async def record(self) -> list[Declaration]:
        """Every declaration sent or received, oldest as-of date first. One that no longer reads
        as a declaration is left out, logged, and named in ``unreadable`` (the page says so)."""
        rows = await self.station.store.declaration_messages(self.station.party)
        unreadable: list[str] = []
        signed = (
            Signed(r.party, r.number, r.envelope_id, r.kind, r.kind_version, r.body, r.signed_ms, r.log_index,
                   r.reply_to, r.recipient)
            for r in rows
        )  # fmt: skip
        found = record(signed, unreadable)
        for problem in sorted(set(unreadable) - set(self.unreadable)):
            log.warning("a declaration cannot be read and is left out of the record", problem=problem)
        self.unreadable = unreadable
        return found

    async def expected(self) -> list[Expected]:
        """The scheduled declarations not made, for every peer with a schedule, as of now."""
        if not self.schedules:
            return []
        declared = await self.record()
        now = self.station.clock.wall_ms()
        found: list[Expected] = []
        for peer, schedule in sorted(self.schedules.items()):
            channel = self.station.channels.get(peer)
            if channel is None or channel.peer.state == "removed":
                continue  # a party not pinned, or removed: nothing is exchanged with it any more
            paired = datetime.fromtimestamp(channel.peer.added_ms / 1000, UTC).date()
            made: dict[bool, list[date]] = {True: [], False: []}
            for d in declared:
                if d.party == self.station.party and d.recipient == peer:
                    made[True].append(d.as_of)
                elif d.party == peer:
                    made[False].append(d.as_of)
            found += expected(peer, schedule, paired, made, now)
        return found

    async def watch_forever(self) -> None:
        """Tell the lookout what is expected, again whenever messages are stored and when a
        scheduled as-of date begins."""
        if not self.schedules:
            return
        for peer in sorted(set(self.schedules) - set(self.station.channels)):
            log.warning("[declarations] names a party that is not pinned: nothing is expected of it", peer=peer)
        with self.station.bulletin.subscribe() as changes:
            while not self.station.stopped.is_set():
                self.lookout.expect(await self.expected())
                now = self.station.clock.wall_ms()
                wake = min(next_as_of_ms(s, now) for s in self.schedules.values())
                with contextlib.suppress(TimeoutError):
                    async with self.station.clock.timeout(max(0.0, (wake - now) / 1000)):
                        if not await _messages_stored(changes):
                            return  # the node is stopping
                await self.station.clock.sleep(SETTLE_S)  # a burst of messages is one look


async def _messages_stored(changes: Subscription) -> bool:
    """Wait until messages are stored or a peer's state changes (True), or the node stops (False)."""
    while True:
        topics = await changes.next()
        if topics is None:
            return False
        if topics & {"inbox", "outbox", "links"}:  # links: a peer suspended, resumed or removed
            return True
