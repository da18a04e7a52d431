"""What the console's pages show, read from the node: the board, the outbox, the alarms, the
message log.

Each function gathers one page's facts into plain values (times as milliseconds since the epoch,
texts already in the reader's language) so that the templates only lay them out. Every list is
one page of at most ``[bounds] page_rows`` rows with the count of all, read off the event loop
(``Desk``'s reading methods): what a page costs the loop that carries the links is the rows it
shows, whatever the backlog.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from hotline.envelope import Precedence, serial
from hotline.forms import FORMS, precedence_name, render
from hotline.forms.i18n import translations
from hotline.forms.ranks import signed_name
from hotline.node import Desk
from hotline.storage import AwaitingAck, LoggedMessage, MessageFilter, OutboxRow
from hotline.views.rows import every_copy, state_tally
from hotline.watch import Alert, Side, Tracked
from hotline.watch.alarms import Alarm
from hotline.watch.wording import calls_for, summary, title

RECENT = 20  # received messages listed under those awaiting acknowledgement


def utc(ms: int | None, seconds: bool = True) -> str:
    """A time as a watch log writes it: UTC, to the second, said as the notices say it ("UTC"),
    the same on every page."""
    if ms is None:
        return ""
    moment = dt.datetime.fromtimestamp(ms / 1000, dt.UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M") + " UTC"


def countdown(due_ms: int, now_ms: int) -> str:
    """The time between now and a deadline, either way, as the board shows it: minutes and
    seconds, hours too when there are any. The page's script keeps it counting."""
    hours, rest = divmod(abs(due_ms - now_ms) // 1000, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes:02d}:{seconds:02d}"


def form_title(kind: str, version: int, lang: str) -> str:
    spec = FORMS.get((kind, version))
    return translations(lang).gettext(spec.title) if spec else kind


@dataclass(frozen=True)
class Awaiting:
    """A peer's message a person here has yet to acknowledge."""

    serial: str
    peer: str
    precedence: str  # the effective one: a readiness check is chased as FLASH
    precedence_label: str
    title: str
    received_ms: int
    due_ms: int
    stage: str | None  # the alert standing for it, if any
    level: str | None

    @property
    def alarm(self) -> bool:
        return self.precedence == Precedence.FLASH.value


async def board(desk: Desk, lang: str, offset: int) -> dict[str, Any]:
    """The watch board's facts: the same for every reader of one language (``shared.Shared``)."""
    now = desk.now_ms()
    alerts = desk.alerts(now)
    standing = {(a.side, a.serial): a for a in alerts}
    waiting = await desk.awaiting_here(offset)
    recent = await desk.message_log(MessageFilter(sent=False), 0, RECENT)
    return {
        **await alarm(desk, lang, standing),
        "awaiting": [_awaiting(item, tracked, standing, lang) for item, tracked in waiting.rows],
        "awaiting_count": waiting.total,
        "escalations": [_escalation(a, lang) for a in alerts[: desk.page_rows]],
        "escalations_count": len(alerts),
        "peers": await desk.status(),
        "recent": [_received(row, lang) for row in recent.rows],
    }


async def alarm(desk: Desk, lang: str, standing: dict[tuple[Side, str], Alert] | None = None) -> dict[str, Any]:
    """The FLASH alarm and the channel's alarms, which every page shows."""
    now = desk.now_ms()
    if standing is None:
        standing = {(a.side, a.serial): a for a in desk.alerts(now)}
    flash = await desk.awaiting_here(0, flash_only=True)
    return {
        "now_ms": now,
        "alarm": [_awaiting(item, tracked, standing, lang) for item, tracked in flash.rows],
        "alarm_count": flash.total,
        "channel_alarms": [channel_alarm(a, lang, now) for a in desk.alarms(now)],
    }


def _awaiting(item: AwaitingAck, tracked: Tracked, standing: dict[tuple[Side, str], Alert], lang: str) -> Awaiting:
    name = serial(item.party, item.number)
    alert = standing.get((Side.RECEIVER, name))
    return Awaiting(
        serial=name,
        peer=item.peer,
        precedence=tracked.precedence.value,
        precedence_label=precedence_name(tracked.precedence.value, lang),
        title=form_title(item.kind, 1, lang),
        received_ms=item.start_ms,
        due_ms=item.due_ms,
        stage=alert.stage.value if alert else None,
        level=alert.level.label if alert else None,
    )


def _received(row: LoggedMessage, lang: str) -> dict[str, Any]:
    return {
        "serial": serial(row.party, row.number),
        "peer": row.peer,
        "precedence": row.precedence,
        "precedence_label": precedence_name(row.precedence, lang),
        "title": form_title(row.kind, row.kind_version, lang),
        "received_ms": row.at_ms,
        "ack": {"by": signed_name(row.ack_by, row.ack_rank, lang), "at_ms": row.ack_ms} if row.ack_by else None,
        "needs_ack": row.due_ms is not None,
    }


def channel_alarm(alarm: Alarm, lang: str, now_ms: int) -> dict[str, Any]:
    """An alarm about the channel itself, as the banner and the alarms page show it."""
    return {
        "key": alarm.key,
        "number": alarm.number,
        "latched": alarm.latched,
        "loudest": alarm.loudest,
        "level": alarm.level.label,
        "calls_for": calls_for(alarm.level, lang),
        "title": title(alarm, lang),
        "summary": summary(alarm, lang, now_ms),
        "since_ms": alarm.since_ms,
        "peer": alarm.peer,
    }


async def alarms(desk: Desk, lang: str, offset: int) -> dict[str, Any]:
    """The alarms page: what stands now, and a page of the latched alarms closed in the past,
    with their remarks."""
    now = desk.now_ms()
    standing = desk.alarms(now)
    closed = await desk.closed_alarms(offset)
    return {
        "now_ms": now,
        "channel_alarms": [channel_alarm(a, lang, now) for a in standing[: desk.page_rows]],
        "standing_count": len(standing),
        "history": closed.rows,
        "history_count": closed.total,
    }


def _escalation(alert: Alert, lang: str) -> dict[str, Any]:
    return {
        "serial": alert.serial,
        "side": alert.side.value,
        "peer": alert.peer,
        "precedence": alert.precedence.value,
        "precedence_label": precedence_name(alert.precedence.value, lang),
        "title": form_title(alert.kind, 1, lang),
        "stage": alert.stage.value,
        "level": alert.level.label,
        "loudest": alert.loudest,
        "due_ms": alert.due_ms,
    }


async def outbox(desk: Desk, lang: str, offset: int) -> tuple[list[dict[str, Any]], int]:
    """A page of our messages (the machine's traffic and acknowledgements are shown with what
    they answer), and how many there are in all."""
    now = desk.now_ms()
    found = await desk.outbox_page(offset)
    rows = [_outbox_row(row, desk.party, now, lang) for row in found.rows]
    return rows, found.total


def _outbox_row(row: OutboxRow, party: str, now: int, lang: str) -> dict[str, Any]:
    return {
        "serial": serial(party, row.number),
        "peer": row.peer,
        "precedence": row.precedence,
        "precedence_label": precedence_name(row.precedence, lang),
        "title": form_title(row.kind, row.kind_version, lang),
        "state": _copy_state(row, now),
        "created_ms": row.created_ms,
        "delivered_ms": row.delivered_ms,
        "ack": row.ack,
        "ack_by": signed_name(row.ack.by, row.ack.rank, lang) if row.ack else None,
        "ack_received_ms": row.ack_received_ms,
        "due_ms": row.due_ms,
        # A message to several parties is one entry: each addressee's copy, and a count of the
        # copies in each state, the ones that need the watch first.
        "addressees": [_addressee(copy, party, now, lang) for copy in every_copy(row)] if row.copies else None,
        "tally": _tally(row, now) if row.copies else None,
        # The soonest deadline of a copy still unacknowledged: none once every party has answered.
        "open_due_ms": min(
            (c.due_ms for c in every_copy(row) if c.due_ms and c.ack_received_ms is None and c.rejection is None),
            default=None,
        ),
    }


def _copy_state(row: OutboxRow, now: int) -> str:
    overdue = row.due_ms is not None and row.ack_received_ms is None and row.rejection is None and now > row.due_ms
    return "overdue" if overdue else row.display_state


def _addressee(row: OutboxRow, party: str, now: int, lang: str) -> dict[str, Any]:
    return {
        "peer": row.peer,
        "serial": serial(party, row.number),
        "state": _copy_state(row, now),
        "ack_by": signed_name(row.ack.by, row.ack.rank, lang) if row.ack else None,
    }


def _tally(row: OutboxRow, now: int) -> list[tuple[str, int]]:
    return state_tally(_copy_state(copy, now) for copy in every_copy(row))


async def message_log(desk: Desk, lang: str, found: MessageFilter, offset: int) -> tuple[list[dict[str, Any]], int]:
    """A page of the message log: every message sent and received that the search asks for."""
    page = await desk.message_log(found, offset)
    rows = [
        {
            "sent": row.sent,
            "serial": serial(row.party, row.number),
            "peer": row.peer,
            "precedence": row.precedence,
            "precedence_label": precedence_name(row.precedence, lang),
            "title": form_title(row.kind, row.kind_version, lang),
            "at_ms": row.at_ms,
            "state": row.state,
            "needs_ack": row.due_ms is not None,
            "ack_by": signed_name(row.ack_by, row.ack_rank, lang) if row.ack_by else None,
            "ack_ms": row.ack_ms,
        }
        for row in page.rows
    ]
    return rows, page.total


def previews(kind: str, body: dict[str, Any]) -> dict[str, Any]:
    """The message as each side will read it."""
    return {lang: render(kind, 1, body, lang) for lang in ("en", "ru")}
