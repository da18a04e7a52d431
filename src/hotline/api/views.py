"""How stored rows look to operators: plain JSON, times in UTC ISO 8601, ids in hex."""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

from hotline.envelope import Rejection, cbor, open_signed, serial
from hotline.storage import Acknowledgement, InboxRow, OutboxRow


def iso(ms: int | None) -> str | None:
    if ms is None:
        return None
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


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
        "receipt": b64(row.receipt),
        "rejection": None,
    }
    if row.rejection is not None:
        rejection = Rejection.from_opened(open_signed(row.rejection, "rejection"))
        item["rejection"] = {"reason": rejection.reason, "detail": rejection.detail}
    return item


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
        "receipt": b64(row.receipt),
    }


def ack_item(ack: Acknowledgement | None) -> dict[str, Any] | None:
    if ack is None:
        return None
    return {"by": ack.by, "at": iso(ack.at_ms), "remark": ack.remark, "auto": ack.auto}
