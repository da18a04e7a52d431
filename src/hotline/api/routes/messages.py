"""Messages: sending, one by one or in a batch; the forms they are written on; one message with
its history; acknowledging; the outbox and the inbox."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

from fastapi import APIRouter

from hotline.api.deps import Lang, Limit, NodeDesk
from hotline.api.models import AckIn, BatchIn, MessageIn, to_request
from hotline.envelope import serial
from hotline.errors import NotFoundError
from hotline.node import Desk, Message, several
from hotline.views import forms_view, inbox_item, message_view, outbox_item

router = APIRouter()


@router.post("/v1/messages", status_code=201)
async def send(message: MessageIn, desk: NodeDesk) -> dict[str, Any]:
    rows = await desk.send([to_request(message)], wait_dispatch=1.0)
    if not several(message.to):
        return outbox_item(rows[0], desk.party)
    # To several parties: one entry, the first copy carrying the others.
    first = next((row for row in rows if row.number == row.broadcast), rows[0])
    return outbox_item(replace(first, copies=tuple(row for row in rows if row is not first)), desk.party)


@router.post("/v1/messages/batch", status_code=201)
async def send_batch(batch: BatchIn, desk: NodeDesk) -> list[dict[str, Any]]:
    """Queue many messages at once; answers with each one's number, serial and ref (the
    full records are in the outbox)."""
    queued = await desk.enqueue([to_request(m) for m in batch.messages])
    return [{"number": q.number, "serial": serial(desk.party, q.number), "ref": q.draft.ref} for q in queued]


@router.get("/v1/forms")
async def forms(desk: NodeDesk, lang: Lang = None) -> list[dict[str, Any]]:
    return forms_view(lang or desk.language)


@router.get("/v1/messages/{key}")
async def message(key: str, desk: NodeDesk, lang: Lang = None) -> dict[str, Any]:
    """One message by serial or id, rendered in ``lang``, with its delivery and
    acknowledgement history."""
    found = await desk.find_message(key)
    item = message_view(found, desk.party, lang or desk.language, desk.now_ms())
    item["in_reply_to"] = await reply_target(desk, found)
    return item


async def reply_target(desk: Desk, found: Message) -> dict[str, str] | None:
    """Which message this one answers, as people name it."""
    row = found.sent or found.received
    if row is None or row.reply_to is None:
        return None
    try:
        target = await desk.find_message(row.reply_to.hex())
    except NotFoundError:
        return {"serial": row.reply_to.hex(), "kind": "unknown"}
    if target.sent is not None:
        return {"serial": serial(desk.party, target.sent.number), "kind": target.sent.kind}
    assert target.received is not None
    return {"serial": serial(target.received.peer, target.received.number), "kind": target.received.kind}


@router.post("/v1/messages/{key}/ack")
async def acknowledge(key: str, ack: AckIn, desk: NodeDesk, lang: Lang = None) -> dict[str, Any]:
    """A person acknowledges a received message; the acknowledgement is sent to its sender."""
    row = await desk.acknowledge(key, ack.by, ack.remark, ack.rank)
    found = await desk.find_message(row.envelope_id.hex())
    return message_view(found, desk.party, lang or desk.language, desk.now_ms())


# The lists are read off the loop that carries the links (the desk's reading store), and turned
# into JSON in a worker thread: ten thousand rows take a few hundred milliseconds of decoding.
@router.get("/v1/outbox")
async def outbox(desk: NodeDesk, limit: Limit = 1000) -> list[dict[str, Any]]:
    rows = await desk.outbox(limit)
    return await asyncio.to_thread(lambda: [outbox_item(r, desk.party) for r in rows])


@router.get("/v1/inbox")
async def inbox(desk: NodeDesk, limit: Limit = 1000) -> list[dict[str, Any]]:
    rows = await desk.inbox(limit)
    return await asyncio.to_thread(lambda: [inbox_item(r) for r in rows])
