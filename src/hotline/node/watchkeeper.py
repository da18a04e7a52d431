"""The node's watchkeeping: acknowledgements by people, their deadlines, escalation, link tests
and the readiness checks sent at each watch change.

The rules are pure (``hotline.watch``); this is the shell that feeds them what the node stores,
sleeps until the next stage, announces it, and queues the messages the watch itself sends.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import itertools
from collections.abc import Awaitable, Callable
from typing import Any

import structlog

from hotline.envelope import Envelope, FieldError, Precedence, cbor, serial
from hotline.errors import AcknowledgeError
from hotline.forms import prepare_body, validate_body
from hotline.forms.ranks import signed_name
from hotline.forms.types import utc_text as form_time
from hotline.node.config import WatchSettings
from hotline.node.intake import SendError, SendRequest
from hotline.node.lookout import Lookout
from hotline.node.station import Station
from hotline.storage import Acknowledgement, AwaitingAck, Draft, InboundStored, InboxRow, Queued
from hotline.watch import Alert, Side, Stage, Tracked, Watch, next_watch_change

log = structlog.get_logger("hotline.watch")
MACHINE = "machine"  # who acknowledges what no person need (link tests)


def utc_text(ms: int) -> str:
    """A time as the forms write it (whole seconds, UTC), from milliseconds."""
    return form_time(dt.datetime.fromtimestamp(ms // 1000, dt.UTC))


def utc_ms(text: str) -> int:
    return int(dt.datetime.fromisoformat(text).timestamp() * 1000)


Enqueue = Callable[[list[SendRequest]], Awaitable[list[Queued]]]


class Watchkeeper:
    def __init__(
        self, station: Station, settings: WatchSettings, witness_only: bool, enqueue: Enqueue, lookout: Lookout
    ) -> None:
        self.station = station
        self.lookout = lookout  # told of acknowledgements and link tests, which bear on its alarms
        self.settings = settings
        self.witness_only = witness_only
        self.enqueue = enqueue  # the node's intake: what the watch sends passes the operator's checks
        self.watch = Watch()
        self.changed = asyncio.Event()
        self.listeners: list[Callable[[Alert], None]] = []  # told of each alert reaching a new stage
        self._probes = itertools.count(1)

    def tracked(self, awaiting: AwaitingAck) -> Tracked:
        policy = self.settings.policy(awaiting.peer)
        return Tracked(
            serial=serial(awaiting.party, awaiting.number),
            side=Side.RECEIVER if awaiting.received else Side.SENDER,
            peer=awaiting.peer,
            precedence=policy.effective_precedence(Precedence(awaiting.precedence), awaiting.kind),
            kind=awaiting.kind,
            start_ms=awaiting.start_ms,
            due_ms=awaiting.due_ms,
        )

    async def start(self) -> None:
        for awaiting in await self.station.store.awaiting_ack(self.station.party):
            self.watch.track(self.tracked(awaiting))

    # -- what the node stores ----------------------------------------------------------------

    def machine_answer(
        self, peer: str, envelope: Envelope, envelope_id: bytes, now_ms: int
    ) -> tuple[Acknowledgement, Draft] | None:
        """A link test is answered by the machine, in the commit that stores it."""
        if envelope.kind != "link_test":
            return None
        ack = Acknowledgement(MACHINE, now_ms, None, auto=True)
        return ack, self.ack_draft(peer, envelope.precedence, envelope.kind, envelope.marking, envelope_id, ack)

    def queued(self, queued: list[Queued]) -> None:
        """We queued messages: those a person must acknowledge are watched from now on."""
        for q in queued:
            d = q.draft
            if d.due_ms is not None and q.new:  # a retried ref is tracked (or settled) already
                awaiting = AwaitingAck(
                    False, d.peer, self.station.party, q.number, d.precedence, d.kind, d.created_ms, d.due_ms
                )
                self.watch.track(self.tracked(awaiting))
        self.changed.set()
        self.station.bulletin.post("outbox", "alerts")

    def received(self, rows: list[InboxRow], result: InboundStored) -> None:
        """A received batch is stored: watch what a person here must acknowledge, and settle
        what the peer's people acknowledged."""
        for row in rows:
            if row.due_ms is not None and row.ack is None:
                awaiting = AwaitingAck(
                    True, row.peer, row.peer, row.number, row.precedence, row.kind, row.received_ms, row.due_ms
                )
                self.watch.track(self.tracked(awaiting))
            if row.acknowledges is not None:
                log.info("acknowledged by peer", peer=row.peer, by=row.acknowledges.by, auto=row.acknowledges.auto)
        for number in result.acknowledged:
            self.watch.settle(Side.SENDER, serial(self.station.party, number))
        if rows and result.acknowledged:
            self.lookout.acknowledged(rows[0].peer, result.acknowledged)
        self.changed.set()
        self.station.bulletin.post("inbox", "alerts", *(["outbox"] if result.acknowledged else []))

    def rejected(self, number: int) -> None:
        self.watch.settle(Side.SENDER, serial(self.station.party, number))
        self.changed.set()
        self.station.bulletin.post("outbox", "alerts")

    # -- people ------------------------------------------------------------------------------

    def ack_draft(
        self, peer: str, precedence: Precedence | str, kind: str, marking: str, envelope_id: bytes, ack: Acknowledgement
    ) -> Draft:
        body: dict[str, Any] = {"by": ack.by, "at": utc_text(ack.at_ms), "auto": ack.auto}
        if ack.remark:
            body["remark"] = ack.remark
        version = 1  # a peer that knows only version 1 reads every acknowledgement without a rank
        if ack.rank and self.station.channels[peer].peer_ack_version >= 2:
            body["rank"], version = ack.rank, 2
        elif ack.rank:  # a peer of an older release: the rank as words in the name, in English
            body["by"] = signed_name(ack.by, ack.rank, "en")[:64]
        prepared = prepare_body("ack", version, body)
        validate_body("ack", version, prepared, reply_to=envelope_id)
        return Draft(
            peer=peer,
            # As fast as what it acknowledges is due: a readiness check's answer travels as FLASH.
            precedence=self.settings.policy(peer).effective_precedence(Precedence(precedence), kind).value,
            marking=marking,
            kind="ack",
            kind_version=version,
            body=cbor.encode(prepared),
            reply_to=envelope_id,
            created_ms=ack.at_ms,
        )

    async def acknowledge(
        self, row: InboxRow, by: str, remark: str | None, now_ms: int, rank: str | None = None
    ) -> None:
        """A person here acknowledges a peer's message; the acknowledgement is queued to the peer."""
        name = serial(row.peer, row.number)
        if row.due_ms is None:
            raise AcknowledgeError(f"{name} is a message of kind {row.kind}, which no person acknowledges")
        if row.ack is not None:
            raise AcknowledgeError(f"{name} was already acknowledged by {row.ack.by} at {utc_text(row.ack.at_ms)}")
        ack = Acknowledgement(by.strip(), now_ms, remark or None, rank=rank or None)
        try:
            carrier = self.ack_draft(row.peer, row.precedence, row.kind, row.marking, row.envelope_id, ack)
        except FieldError as exc:
            raise SendError(exc.field.removeprefix("body."), exc.detail) from None
        queued = await self.station.store.acknowledge(row.envelope_id, ack, carrier)
        self.lookout.queued([queued])  # a FLASH's acknowledgement is watched for delivery too
        self.watch.settle(Side.RECEIVER, name)
        self.changed.set()
        self.station.bulletin.post("inbox", "alerts")
        self.station.channels[row.peer].wake()
        log.info("acknowledged", message=name, by=ack.by)

    # -- the clock ---------------------------------------------------------------------------

    async def announce_forever(self) -> None:
        """Announce each alert as it reaches a new stage, then sleep until the next one."""
        now = self.station.clock.wall_ms
        while True:
            self.changed.clear()
            at = now()
            advanced = self.watch.advance(at)
            if advanced:
                self.station.bulletin.post("alerts")
            for alert in advanced:
                report = log.critical if alert.loudest or alert.stage is Stage.OVERDUE else log.warning
                report(
                    "acknowledgement " + alert.stage.value,
                    message=alert.serial,
                    side=alert.side.value,
                    peer=alert.peer,
                    precedence=alert.precedence.value,
                    level=alert.level.label,
                    due=utc_text(alert.due_ms),
                )
                for listener in self.listeners:
                    listener(alert)
            wake = self.watch.wake_ms(at)
            timeout = None if wake is None else max(0.0, (wake - now()) / 1000)
            with contextlib.suppress(TimeoutError):
                async with self.station.clock.timeout(timeout):
                    await self.changed.wait()

    async def readiness_checks_forever(self) -> None:
        """At each watch change, a readiness check to every peer: a person must answer it."""
        now = self.station.clock.wall_ms
        while True:
            at = next_watch_change(now(), self.settings.changes)
            if at is None:
                return
            await self.station.clock.sleep(max(0.0, (at - now()) / 1000))
            await self.send_readiness_checks(at)

    async def send_readiness_checks(self, at_ms: int) -> list[Queued]:
        requests = [
            SendRequest(
                to=party,
                kind="readiness_check",
                body={"watch_change": utc_text(at_ms)},
                precedence="FLASH",
                ref=f"readiness-{party}-{at_ms}",  # a restart at the same moment never sends it twice
            )
            for party, channel in sorted(self.station.channels.items())
            # nobody there to answer: a witness, or a peer whose traffic we hold (suspended, removed)
            if not channel.peer.witness and not self.witness_only and not channel.held
        ]
        queued = await self.enqueue(requests) if requests else []
        log.info("readiness checks sent", watch_change=utc_text(at_ms), peers=len(queued))
        return queued

    async def link_tests_forever(self, party: str) -> None:
        """A link test to the peer when the link first comes up, then every interval."""
        channel = self.station.channels[party]
        while True:
            await channel.link_up.wait()  # during an outage no tests pile up: one when it ends
            await self.send_link_test(party, self.station.clock.wall_ms())
            await self.station.clock.sleep(self.settings.link_test_interval)

    async def send_link_test(self, party: str, now_ms: int) -> Queued:
        body = {"probe": next(self._probes), "sent": utc_text(now_ms)}
        test = SendRequest(to=party, kind="link_test", body=body, precedence="PRIORITY", by_machine=True)
        (queued,) = await self.enqueue([test])
        self.lookout.link_test_sent(party, queued.number, now_ms)
        return queued

    async def link_test_status(self, party: str, now_ms: int) -> dict[str, Any] | None:
        row = await self.station.store.last_link_test(party)
        if row is None:
            return None
        answered = row.ack_received_ms
        if answered is not None:
            state = "ok"
        elif now_ms - row.created_ms > self.settings.link_test_timeout * 1000:
            state = "failed"
        else:
            state = "pending"
        return {
            "serial": serial(self.station.party, row.number),
            "at_ms": row.created_ms,
            "state": state,
            "rtt_ms": None if answered is None or row.sent_ms is None else answered - row.sent_ms,
        }


def acknowledgement_in(envelope: Envelope) -> Acknowledgement | None:
    """The acknowledgement an ``ack`` envelope carries (its body was validated on receipt)."""
    if envelope.kind != "ack":
        return None
    body = envelope.body
    rank = body.get("rank") if envelope.kind_version >= 2 else None
    return Acknowledgement(str(body["by"]), utc_ms(str(body["at"])), body.get("remark"), bool(body["auto"]), rank)
