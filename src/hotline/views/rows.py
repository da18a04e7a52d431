"""How stored rows look to operators: plain JSON, times in UTC ISO 8601, ids in hex."""

from __future__ import annotations

import base64
from collections import Counter
from collections.abc import Iterable
from typing import Any

from hotline.envelope import Rejection, cbor, open_signed, serial
from hotline.forms.types import visible
from hotline.storage import Acknowledgement, InboxRow, OutboxRow, StoredAlarm
from hotline.watch import Alert, Stage
from hotline.watch.alarms import Alarm, Kind
from hotline.watch.wording import calls_for, summary, title
from hotline.watch.wording import iso as iso_ms


def iso(ms: int | None) -> str | None:
    return None if ms is None else iso_ms(ms)


def b64(data: bytes | None) -> str | None:
    return None if data is None else base64.b64encode(data).decode()


def outbox_item(row: OutboxRow, sender: str) -> dict[str, Any]:
    item: dict[str, Any] = {
        "number": row.number,
        "serial": serial(sender, row.number),
        "id": row.envelope_id.hex() if row.envelope_id else None,
        "to": row.peer,
        "seq": row.seq,
        "state": row.display_state,
        "precedence": row.precedence,
        "marking": row.marking,
        "kind": row.kind,
        "kind_version": row.kind_version,
        "body": cbor.decode(row.body),
        "reply_to": row.reply_to.hex() if row.reply_to else None,
        "ref": row.ref,
        "created": iso(row.created_ms),
        "sent": iso(row.sent_ms),
        "delivered": iso(row.delivered_ms),
        "rejected": iso(row.rejected_ms),
        "due": iso(row.due_ms),
        "acknowledged": ack_item(row.ack),
        # A damaged copy is not offered as proof (storage/sql/messages.py says how it is seen).
        "receipt": None if row.receipt_damaged else b64(row.receipt),
        "receipt_damaged": row.receipt_damaged,
        "rejection": None,
        # One copy of a message to several parties: the serial of the first copy names the
        # whole, and an entry read as one lists every addressee's copy, the first included.
        "broadcast": None if row.broadcast is None else serial(sender, row.broadcast),
        "addressees": [addressee_item(copy, sender) for copy in every_copy(row)] if row.copies else None,
    }
    if row.rejection is not None:
        item["rejection"] = _rejection(row.rejection)
    return item


# The states of a message's copies, in the order a tally lists them: what needs the watch first.
TALLY_ORDER = ("overdue", "rejected", "queued", "sent", "delivered", "acknowledged")


def state_tally(states: Iterable[str]) -> list[tuple[str, int]]:
    """How many copies of a message to several parties stand in each state, the states that
    need the watch first (``TALLY_ORDER``; any other last)."""
    counts = Counter(states)
    return sorted(counts.items(), key=lambda item: TALLY_ORDER.index(item[0]) if item[0] in TALLY_ORDER else 99)


def every_copy(row: OutboxRow) -> list[OutboxRow]:
    """A message to several parties read from one of its copies: every copy, in party order."""
    return sorted((row, *row.copies), key=lambda copy: copy.peer)


def addressee_item(row: OutboxRow, sender: str) -> dict[str, Any]:
    """One addressee's copy of a message to several parties: where it stands with that party."""
    return {
        "to": row.peer,
        "serial": serial(sender, row.number),
        "id": row.envelope_id.hex() if row.envelope_id else None,
        "seq": row.seq,
        "state": row.display_state,
        "sent": iso(row.sent_ms),
        "delivered": iso(row.delivered_ms),
        "rejected": iso(row.rejected_ms),
        "rejection": None if row.rejection is None else _rejection(row.rejection),
        "due": iso(row.due_ms),
        "acknowledged": ack_item(row.ack),
    }


def _rejection(signed: bytes) -> dict[str, Any]:
    rejection = Rejection.from_opened(open_signed(signed, "rejection"))
    return {"reason": rejection.reason, "detail": visible(rejection.detail)}


def inbox_item(row: InboxRow) -> dict[str, Any]:
    body = cbor.decode(row.body)
    return {
        "from": row.peer,
        "seq": row.seq,
        "serial": serial(row.peer, row.number),
        "id": row.envelope_id.hex(),
        "precedence": row.precedence,
        "marking": row.marking,
        "kind": row.kind,
        "kind_version": row.kind_version,
        "body": body,
        "reply_to": row.reply_to.hex() if row.reply_to else None,
        "text": body.get("text") if row.kind == "free_text" else None,
        "sent": iso(row.sent_ms),
        "received": iso(row.received_ms),
        "due": iso(row.due_ms),
        "acknowledged": ack_item(row.ack),
        "receipt": None if row.receipt_damaged else b64(row.receipt),
        "receipt_damaged": row.receipt_damaged,
    }


def ack_item(ack: Acknowledgement | None) -> dict[str, Any] | None:
    if ack is None:
        return None
    return {"by": ack.by, "rank": ack.rank, "at": iso(ack.at_ms), "remark": ack.remark, "auto": ack.auto}


def alarm_item(alarm: Alarm, lang: str, now_ms: int) -> dict[str, Any]:
    """A standing alarm: what it is, whom it calls, and what it says in the reader's language."""
    return {
        "id": alarm.key,
        "number": alarm.number,  # set for latched alarms: the number to close them by
        "kind": alarm.kind.value,
        "peer": alarm.peer,
        "subject": alarm.subject,
        "level": alarm.level.label,
        "calls_for": calls_for(alarm.level, lang),
        "loudest": alarm.loudest,
        "latched": alarm.latched,
        "title": title(alarm, lang),
        "summary": summary(alarm, lang, now_ms),
        "since": iso(alarm.since_ms),
        "count": alarm.count,
        "facts": alarm.facts,
    }


def stored_alarm_item(row: StoredAlarm) -> dict[str, Any]:
    """A latched alarm as the store keeps it, open or closed."""
    return {
        "number": row.number,
        "kind": row.kind,
        "peer": row.peer,
        "subject": row.subject,
        "level": row.level,
        "facts": row.facts,
        "raised": iso(row.raised_ms),
        "last_seen": iso(row.last_ms),
        "count": row.count,
        "closed": iso(row.closed_ms),
        "closed_by": row.closed_by,
        "remark": row.remark,
    }


def _reason(alarm: Alarm) -> str:
    if alarm.kind is Kind.SUSPENDED:  # who held the traffic, not only with whom
        by = "us" if alarm.facts.get("by") == "us" else alarm.peer
        return f"traffic with {alarm.peer} suspended by {by}"
    return f"{alarm.kind.value}{' ' + alarm.peer if alarm.peer else ''}"


def health_view(
    party: str, alarms: list[Alarm], alerts: list[Alert], stopping: bool, unlinked: tuple[str, ...] = ()
) -> dict[str, Any]:
    """What a monitor polling ``/v1/health`` needs: ok only when nothing calls for anyone.

    Not ok while a peer has no link (at once: the alarm waits for its grace, a monitor decides
    its own), while an alarm stands, while an acknowledgement is overdue, or while the node
    stops; each reason is one short line in English (monitors and their logs are read by
    engineers).
    """
    reasons = [f"{peer}: no path up" for peer in unlinked]
    reasons += [f"{_reason(a)}: calls for {a.level.label}" for a in alarms]
    reasons += [
        f"acknowledgement overdue: {a.serial} ({a.side.value}): calls for {a.level.label}"
        for a in alerts
        if a.stage is Stage.OVERDUE
    ]
    if stopping:
        reasons.insert(0, "the node is stopping")
    return {"ok": not reasons, "party": party, "reasons": reasons}
