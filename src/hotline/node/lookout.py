"""The lookout: the shell around ``watch/alarms.py``, the channel's watch over its own health.

The node reports what it sees (links up and down, urgent messages queued and answered, link
tests, the peer's clock and resume points); the lookout hands it to the pure ``Health``, and
whenever the standing alarms change it announces the change where people look: the log
(WARNING for the duty officer, CRITICAL above), the console's open pages, and the alarm hook.
Latched alarms are kept in the store, so a restart shows them again; a person closes them with
a remark, which is kept with them.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
from typing import Any

import structlog

from hotline.envelope import Precedence, serial
from hotline.errors import AlarmError
from hotline.node.alarm_hook import AlarmHook
from hotline.node.config import AlarmSettings, WatchSettings
from hotline.node.station import Station
from hotline.storage import Queued
from hotline.storage.alarms import StoredAlarm
from hotline.storage.audit import AuditEntry
from hotline.watch import Alert, Level
from hotline.watch.alarms import LATCHED_LEVELS, Alarm, Change, Event, Health, Hold, Kind, changes
from hotline.watch.declaring import Expected, overdue, thresholds
from hotline.watch.wording import calls_for, iso, summary, title

log = structlog.get_logger("hotline.alarm")
MAX_REMARK = 2000
_URGENT = frozenset(p.value for p in Precedence if p.rank <= 1)


class Lookout:
    def __init__(self, station: Station, settings: AlarmSettings, watch: WatchSettings, witness_only: bool) -> None:
        self.station = station
        self.witness_only = witness_only
        self.health = Health(settings.limits(watch))
        self.hook = AlarmHook(settings.hook_command, settings.hook_url, settings.hook_timeout, self._hook_outcome)
        self.changed = asyncio.Event()
        self.standing: list[Alarm] = []
        self._link_tests: dict[str, int] = {}  # per peer: the number of our latest link test
        # Per (peer, outcome): our messages delivered or rejected, the peer's we refused, since
        # the node started (Prometheus counters: a restart starts them again, as it expects).
        self.traffic: collections.Counter[tuple[str, str]] = collections.Counter()
        self.expected: list[Expected] = []  # scheduled declarations not made (watch/declaring.py)

    def _now(self) -> int:
        return self.station.clock.wall_ms()

    # -- start -------------------------------------------------------------------------------

    async def start(self) -> None:
        """What the store knows: urgent messages still without a receipt, the latest link test
        to each peer, the latched alarms still open (told again: a restart hides nothing)."""
        store, now = self.station.store, self._now()
        for party, channel in self.station.channels.items():
            self.health.watch_peer(party, now, self._sends_link_tests(channel.peer.witness))
            test = await store.last_link_test(party)
            if test is not None:
                self._link_tests[party] = test.number
                self.health.link_test_sent(party, test.sent_ms or test.created_ms)
                if test.ack_received_ms is not None:
                    self.health.link_test_answered(party)
        for row in await store.undelivered_urgent():
            if row.peer not in self.station.channels:
                continue  # a peer no longer pinned: nothing can be delivered to it anyway
            self.health.urgent_queued(
                row.peer, serial(self.station.party, row.number), Precedence(row.precedence), row.created_ms
            )
        await self.reload()
        for alarm in self.health.alarms(now):
            self._log(Event.RAISED, alarm, now, "still open after a restart")
        self.standing = self.health.alarms(now)

    # -- what the node reports ---------------------------------------------------------------

    def expect(self, expected: list[Expected]) -> None:
        """The scheduled declarations not made (``declarations.py``): each an alarm once due."""
        self.expected = expected
        self.changed.set()

    def watch_peer(self, party: str, witness: bool = False) -> None:
        self.health.watch_peer(party, self._now(), self._sends_link_tests(witness))
        self.changed.set()

    def _sends_link_tests(self, witness: bool) -> bool:
        """Link tests go between parties only: neither to nor from a neutral witness."""
        return not (witness or self.witness_only)

    def link_up(self, party: str) -> None:
        self.health.link_up(party, self._now())
        self.changed.set()

    def hold(self, party: str, held: Hold | None, facts: dict[str, Any] | None = None) -> None:
        """Traffic with ``party`` held on purpose, by us or by it (``watch/alarms.py``), or not."""
        self.health.hold(party, held, self._now(), facts)
        self.changed.set()

    def link_down(self, party: str) -> None:
        self.health.link_down(party, self._now())
        self.changed.set()

    def forget_path(self, party: str, path: int) -> None:
        """A path the peer no longer advertises: no alarm stands for it."""
        self.health.path_up(party, path)
        self.changed.set()

    def paths(self, party: str, states: list[tuple[int, bool, str | None]]) -> None:
        """Which paths to the peer are up: (path, counted from 1, up, address)."""
        for path, up, address in states:
            if up:
                self.health.path_up(party, path)
            else:
                self.health.path_down(party, path, address, self._now())
        self.changed.set()

    def queued(self, queued: list[Queued]) -> None:
        for q in queued:  # a batch of 10,000 ROUTINE passes here: only the urgent are looked at
            if q.new and q.draft.precedence in _URGENT:
                precedence = Precedence(q.draft.precedence)
                self.health.urgent_queued(
                    q.draft.peer, serial(self.station.party, q.number), precedence, q.draft.created_ms
                )
                self.changed.set()

    def answered(self, party: str, numbers: list[int]) -> None:
        """The peer receipted or rejected these messages of ours."""
        for number in numbers:
            self.health.urgent_settled(party, serial(self.station.party, number))
        self.changed.set()

    def link_test_sent(self, party: str, number: int, at_ms: int) -> None:
        self._link_tests[party] = number
        self.health.link_test_sent(party, at_ms)
        self.changed.set()

    def acknowledged(self, party: str, numbers: list[int]) -> None:
        if self._link_tests.get(party) in numbers:
            self.health.link_test_answered(party)
            self.changed.set()

    def link_test_received(self, party: str, at_ms: int) -> None:
        self.health.link_test_received(party, at_ms)
        self.changed.set()

    def clock(self, party: str, skew_ms: int, subject: str | None = None) -> None:
        if self.health.clock(party, skew_ms, self._now(), subject):
            self.changed.set()

    def numbering(self, party: str, store_behind: tuple[int, int] | None, peer_behind: tuple[int, int] | None) -> None:
        self.health.numbering(party, store_behind, peer_behind, self._now())
        self.changed.set()

    def count(self, party: str, outcome: str, n: int) -> None:
        self.traffic[party, outcome] += n

    def signing_stopped(self, party: str) -> bool:
        return self.health.signing_stopped(party)

    async def latch(self, kind: Kind, party: str | None, subject: str | None, facts: dict[str, Any]) -> None:
        """Raise a latched alarm (or count one more sighting of it), kept in the store."""
        level = LATCHED_LEVELS[kind]
        await self.station.store.raise_alarm(kind.value, party, subject, level.label, facts, self._now())
        await self.reload()

    async def close(
        self, number: int, by: str, remark: str, role: str | None = None, address: str | None = None
    ) -> StoredAlarm:
        """A person closes a latched alarm; the remark and who made it stay with it, and the
        audit trail records it like every other act of the watch."""
        if not by.strip():
            raise AlarmError("closing an alarm needs the name of who closes it")
        if not remark.strip():
            raise AlarmError("closing an alarm needs a remark: what was found, what was done")
        if len(remark) > MAX_REMARK:
            raise AlarmError(f"a remark is {MAX_REMARK} characters at most; this one has {len(remark)}")
        now = self._now()
        closed = await self.station.store.close_alarm(number, by.strip(), remark.strip(), now)
        await self.station.store.record_audit(
            AuditEntry(now, by.strip(), role, "close-alarm", f"alarm {number} {closed.kind}", remark.strip(), address)
        )
        log.warning("alarm closed", alarm=number, kind=closed.kind, peer=closed.peer, by=by, remark=remark)
        await self.reload()
        return closed

    async def reload(self) -> None:
        """Read the latched alarms again (after the store opened one)."""
        self.health.set_latched(latched_alarm(row) for row in await self.station.store.open_alarms())
        self.changed.set()

    def party(self, differ: dict[int, list[str]], down: list[int]) -> None:
        """Which other nodes of the party run with other settings, and in what (``party_settings``),
        and which are not connected to its database (none of those could take over)."""
        now = self._now()
        self.health.settings(differ, now)
        self.health.standbys(down, now)
        self.changed.set()

    def console(self, trouble: dict[str, str] | None) -> None:
        """What is wrong with the console's HTTPS listener, if anything (``console_tls.trouble``)."""
        if trouble is not None or self.health.console_trouble is not None:
            self.health.console(trouble, self._now())
            self.changed.set()

    def _hook_outcome(self, failure: str | None) -> None:
        if failure is not None or self.health.hook_failure is not None:
            self.health.hook(failure, self._now())
            self.changed.set()

    # -- announcing --------------------------------------------------------------------------

    def alarms(self, now_ms: int | None = None) -> list[Alarm]:
        """Every alarm standing: the channel's health, and scheduled declarations overdue."""
        now = self._now() if now_ms is None else now_ms
        return sorted([*self.health.alarms(now), *overdue(self.expected, now)], key=Alarm.urgency)

    async def watch_forever(self) -> None:
        """Compare what stands with what stood, announce each change, and sleep until the next
        observation or the next threshold a condition can cross on its own."""
        while True:
            self.changed.clear()
            now = self._now()
            current = self.alarms(now)
            found = changes(self.standing, current)
            self.standing = current
            for change in found:
                self._announce(change, now)
            if found:
                self.station.bulletin.post("alerts")
            wake = min(
                (t for t in [self.health.wake_ms(now), *thresholds(self.expected)] if t and t > now), default=None
            )
            timeout = None if wake is None else max(0.0, (wake - self._now()) / 1000)
            with contextlib.suppress(TimeoutError):
                async with self.station.clock.timeout(timeout):
                    await self.changed.wait()

    def _announce(self, change: Change, now_ms: int) -> None:
        self._log(change.event, change.alarm, now_ms)
        if change.alarm.kind is not Kind.HOOK_FAILED:  # the hook is not told that it failed
            self.hook.post(hook_event(self.station.party, change.event.value, change.alarm, now_ms))

    @staticmethod
    def _log(event: Event, alarm: Alarm, now_ms: int, note: str | None = None) -> None:
        fields: dict[str, Any] = {
            "alarm": alarm.key,
            "peer": alarm.peer,
            "calls_for": alarm.level.label,
            "detail": summary(alarm, "en", now_ms),
        }
        if note:
            fields["note"] = note
        if event is Event.CLEARED:
            log.info(f"alarm cleared: {title(alarm, 'en')}", **fields)
            return
        report = log.warning if alarm.level is Level.DUTY_OFFICER and not alarm.loudest else log.critical
        report(f"ALARM {event.value}: {title(alarm, 'en')}", **fields)

    def escalation(self, alert: Alert) -> None:
        """An acknowledgement reached a new stage: the hook hears of it too (a commander called
        for an overdue FLASH must be reached wherever he is)."""
        self.hook.post(
            {
                "node": self.station.party,
                "type": "acknowledgement",
                "event": alert.stage.value,
                "id": f"acknowledgement/{alert.side.value}/{alert.serial}",
                "message": alert.serial,
                "side": alert.side.value,
                "peer": alert.peer,
                "precedence": alert.precedence.value,
                "kind": alert.kind,
                "level": alert.level.label,
                "calls_for": calls_for(alert.level, "en"),
                "loudest": alert.loudest,
                "due": iso(alert.due_ms),
                "at": iso(self._now()),
            }
        )


def latched_alarm(row: StoredAlarm) -> Alarm:
    return Alarm(
        kind=Kind(row.kind),
        peer=row.peer,
        subject=row.subject,
        level=Level[row.level.upper()],
        since_ms=row.raised_ms,
        facts=row.facts,
        number=row.number,
        count=row.count,
    )


def hook_event(party: str, event: str, alarm: Alarm, now_ms: int) -> dict[str, Any]:
    """One alarm change as the hook receives it: plain JSON, in English."""
    return {
        "node": party,
        "type": "alarm",
        "event": event,
        "id": alarm.key,
        "kind": alarm.kind.value,
        "peer": alarm.peer,
        "subject": alarm.subject,
        "level": alarm.level.label,
        "calls_for": calls_for(alarm.level, "en"),
        "loudest": alarm.loudest,
        "title": title(alarm, "en"),
        "summary": summary(alarm, "en", now_ms),
        "since": iso(alarm.since_ms),
        "at": iso(now_ms),
    }
