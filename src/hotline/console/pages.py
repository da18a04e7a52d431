"""What the console's pages show, read from the node: the board, the outbox, the transcript.

Each function gathers one page's facts into plain values (times as milliseconds since the epoch,
texts already in the reader's language) so that the templates only lay them out.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from hotline.envelope import Precedence, serial
from hotline.forms import FORMS, precedence_name, render
from hotline.forms.i18n import translations
from hotline.node import Desk
from hotline.watch import Alert, Side
from hotline.watch.alarms import Alarm
from hotline.watch.wording import calls_for, summary, title

RECENT = 20  # received messages listed under those awaiting acknowledgement
AWAITING_SHOWN = 50  # the most urgent of them listed; the count says how many there are in all


def utc(ms: int | None, seconds: bool = True) -> str:
    """A time as a watch log writes it: UTC, to the second."""
    if ms is None:
        return ""
    moment = dt.datetime.fromtimestamp(ms / 1000, dt.UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M") + "Z"


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


async def board(desk: Desk, lang: str) -> dict[str, Any]:
    now = desk.now_ms()
    alerts = desk.alerts(now)
    standing = {(a.side, a.serial): a for a in alerts}
    awaiting = []
    for item, tracked in await desk.awaiting():
        if not item.received:
            continue
        name = serial(item.party, item.number)
        alert = standing.get((Side.RECEIVER, name))
        awaiting.append(
            Awaiting(
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
        )
    awaiting.sort(key=lambda a: (Precedence(a.precedence).rank, a.due_ms))
    recent = [
        {
            "serial": serial(row.peer, row.number),
            "peer": row.peer,
            "precedence": row.precedence,
            "precedence_label": precedence_name(row.precedence, lang),
            "title": form_title(row.kind, row.kind_version, lang),
            "received_ms": row.received_ms,
            "ack": row.ack,
            "needs_ack": row.due_ms is not None,
        }
        for row in await desk.inbox(RECENT)
        if row.kind not in {"ack", "link_test"}
    ]
    return {
        "now_ms": now,
        # Capped: the board is redrawn on the event loop that carries the links, at every change.
        "awaiting": awaiting[:AWAITING_SHOWN],
        "awaiting_count": len(awaiting),
        "alarm": [a for a in awaiting if a.alarm],
        "escalations": [_escalation(a, lang) for a in alerts],
        "channel_alarms": [channel_alarm(a, lang, now) for a in desk.alarms(now)],
        "peers": await desk.status(),
        "recent": recent,
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


async def alarms(desk: Desk, lang: str) -> dict[str, Any]:
    """The alarms page: what stands now, and the latched alarms of the past with their remarks."""
    now = desk.now_ms()
    return {
        "now_ms": now,
        "channel_alarms": [channel_alarm(a, lang, now) for a in desk.alarms(now)],
        "history": [row for row in await desk.alarm_history(200) if row.closed_ms is not None],
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


async def outbox(desk: Desk, lang: str, limit: int = 200) -> list[dict[str, Any]]:
    now = desk.now_ms()
    rows = []
    for row in await desk.outbox(limit):
        if row.kind in {"ack", "link_test"}:
            continue  # the machine's traffic and acknowledgements are shown with what they answer
        overdue = row.due_ms is not None and row.ack_received_ms is None and row.rejection is None and now > row.due_ms
        rows.append(
            {
                "serial": serial(desk.party, row.number),
                "peer": row.peer,
                "precedence": row.precedence,
                "precedence_label": precedence_name(row.precedence, lang),
                "title": form_title(row.kind, row.kind_version, lang),
                "state": "overdue" if overdue else row.display_state,
                "created_ms": row.created_ms,
                "delivered_ms": row.delivered_ms,
                "ack": row.ack,
                "ack_received_ms": row.ack_received_ms,
                "due_ms": row.due_ms,
            }
        )
    return rows


def previews(kind: str, body: dict[str, Any]) -> dict[str, Any]:
    """The message as each side will read it."""
    return {lang: render(kind, 1, body, lang) for lang in ("en", "ru")}
