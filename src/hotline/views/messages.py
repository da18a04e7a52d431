"""One message as an operator reads it: rendered in a language, with its whole history.

The history is told in the reader's language too; times stay in UTC, as on a watch log.
"""

from __future__ import annotations

from typing import Any

from hotline.envelope import FieldError, Rejection, cbor, open_signed, serial
from hotline.forms import precedence_name, render, translations
from hotline.forms.ranks import signed_name
from hotline.forms.types import visible
from hotline.node import Message
from hotline.storage import Acknowledgement, InboxRow, OutboxRow
from hotline.views.rows import every_copy, inbox_item, iso, outbox_item
from hotline.watch import outcome


def message_view(message: Message, party: str, lang: str, now_ms: int) -> dict[str, Any]:
    _ = translations(lang).gettext
    if message.sent is not None:
        row: OutboxRow | InboxRow = message.sent
        item = outbox_item(message.sent, party)
        item["direction"] = "sent"
        for addressee, copy in zip(item["addressees"] or [], every_copy(message.sent), strict=False):
            addressee["outcome"] = _outcome(copy, now_ms)  # each addressee's deadline is its own
        item["from"] = party
        history = _sent_history(message.sent, _, lang)
    else:
        assert message.received is not None
        row = message.received
        item = inbox_item(message.received)
        item["direction"] = "received"
        item["to"] = party
        history = _received_history(message.received, message, _, lang)
    body = cbor.decode(row.body)
    try:
        rendering = render(row.kind, row.kind_version, body, lang)
        item["rendered"] = {"lang": lang, "title": rendering.title, "text": rendering.text, "fields": rendering.fields}
    except FieldError as exc:  # stored before a catalogue change: show the fields, say why
        item["rendered"] = {"lang": lang, "title": row.kind, "text": str(exc), "fields": []}
    item["precedence_name"] = precedence_name(row.precedence, lang)
    item["outcome"] = _outcome(row, now_ms)
    item["history"] = history
    replies = [(r.created_ms, serial(party, r.number), r.kind, "sent") for r in message.replies_sent]
    replies += [(r.received_ms, serial(r.peer, r.number), r.kind, "received") for r in message.replies_received]
    item["replies"] = [
        {"at": iso(at), "serial": name, "kind": kind, "direction": direction}
        for at, name, kind, direction in sorted(replies)
    ]
    return item


def _outcome(row: OutboxRow | InboxRow, now_ms: int) -> str | None:
    if row.due_ms is None:
        return None
    if isinstance(row, OutboxRow) and row.rejection is not None:
        return None
    # Our own clock judges: a sent message by when the peer's acknowledgement reached us (the
    # time the peer writes in it is its claim), a received one by when our person acknowledged.
    acked = row.ack_received_ms if isinstance(row, OutboxRow) else (row.ack.at_ms if row.ack else None)
    return outcome(row.due_ms, acked, now_ms).value


def _event(at_ms: int | None, event: str, text: str) -> dict[str, Any]:
    return {"at": iso(at_ms), "event": event, "text": text}


def _sent_history(row: OutboxRow, _: Any, lang: str) -> list[dict[str, Any]]:
    events = [_event(row.created_ms, "queued", _("Queued for {peer}.").format(peer=row.peer))]
    if row.sent_ms is not None:
        events.append(_event(row.sent_ms, "sent", _("Signed and sent as sequence number {seq}.").format(seq=row.seq)))
    if row.delivered_ms is not None:
        events.append(
            _event(
                row.delivered_ms,
                "delivered",
                _("Receipt signed by {peer}: the message is stored there.").format(peer=row.peer),
            )
        )
    if row.rejection is not None:
        rejection = Rejection.from_opened(open_signed(row.rejection, "rejection"))
        text = _("Rejected by {peer}: {reason} ({detail}).").format(
            peer=row.peer, reason=rejection.reason, detail=visible(rejection.detail)
        )
        events.append(_event(row.rejected_ms, "rejected", text))
    if row.ack is not None:
        late = row.due_ms is not None and row.ack_received_ms is not None and row.ack_received_ms > row.due_ms
        events.append(_ack_event(row.ack, late, _, lang))
    return events


def _received_history(row: InboxRow, message: Message, _: Any, lang: str) -> list[dict[str, Any]]:
    events = [
        _event(row.sent_ms, "sent", _("Signed and sent by {peer}.").format(peer=row.peer)),
        _event(row.received_ms, "received", _("Received and stored; receipt returned.")),
    ]
    if row.ack is not None:
        late = row.due_ms is not None and row.ack.at_ms > row.due_ms
        events.append(_ack_event(row.ack, late, _, lang))
        carrier = next((r for r in message.replies_sent if r.number == row.ack_number), None)
        if carrier is not None and carrier.delivered_ms is not None:
            text = _("{peer} has received the acknowledgement.").format(peer=row.peer)
            events.append(_event(carrier.delivered_ms, "ack-delivered", text))
    return events


def _ack_event(ack: Acknowledgement, late: bool, _: Any, lang: str) -> dict[str, Any]:
    if ack.auto:
        text = _("Answered automatically.")
    else:
        text = _("Acknowledged by {name}.").format(name=signed_name(ack.by, ack.rank, lang))
        if late:
            text += " " + _("Acknowledged after the deadline.")
    if ack.remark:
        text += " " + _("Remark: {remark}").format(remark=ack.remark)
    return _event(ack.at_ms, "acknowledged", text)
