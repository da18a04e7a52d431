"""Two real nodes over real mutual TLS: messages both ways, receipts verified. (Messages queued
while the peer is down: tests/inprocess/test_exchange.py, on one clock in one process.)"""

import asyncio
import base64

from hotline.crypto import VerifyKey
from hotline.envelope import Receipt, open_signed
from tests.integration.harness import NodeProcess, wait_for


async def test_messages_flow_both_ways_with_verified_receipts(pair: tuple[NodeProcess, NodeProcess]) -> None:
    a, b = pair
    await wait_for(lambda: a.connected("GENSTAB"), 20, "the link to come up")
    sent = await a.api(
        "POST",
        "/v1/messages",
        json={
            "to": "GENSTAB",
            "body": {"text": "Exercise STEADFAST begins 0600Z.", "lang": "en"},
            "precedence": "FLASH",
        },
    )
    assert sent["serial"] == "SACEUR-000001"
    assert len(sent["id"]) == 64
    reply = await b.api(
        "POST", "/v1/messages", json={"to": "SACEUR", "body": {"text": "Уведомление получено.", "lang": "ru"}}
    )
    assert reply["serial"] == "GENSTAB-000001"

    async def delivered(node: NodeProcess) -> list[dict[str, object]] | None:
        items: list[dict[str, object]] = await node.api("GET", "/v1/outbox")
        return items if all(i["state"] == "delivered" for i in items) else None

    [out_a] = await wait_for(lambda: delivered(a), 20, "SACEUR's message to be delivered")
    await wait_for(lambda: delivered(b), 20, "GENSTAB's message to be delivered")

    [received] = await b.api("GET", "/v1/inbox")
    assert received["from"] == "SACEUR"
    assert received["serial"] == "SACEUR-000001"
    assert received["seq"] == 1
    assert received["precedence"] == "FLASH"
    assert received["text"] == "Exercise STEADFAST begins 0600Z."
    assert received["id"] == out_a["id"]

    # The receipt SACEUR holds is GENSTAB's signature over the very envelope SACEUR sent.
    receipt_bytes = base64.b64decode(str(out_a["receipt"]))
    opened = open_signed(receipt_bytes, "receipt")
    opened.verify(VerifyKey(b.config.signing_key().verify_key.raw))
    receipt = Receipt.from_opened(opened)
    assert (receipt.sender, receipt.recipient) == ("GENSTAB", "SACEUR")
    [entry] = receipt.entries
    assert (entry.seq, entry.envelope_id.hex()) == (1, out_a["id"])

    status = await a.api("GET", "/v1/status")
    [peer] = status["peers"]
    assert peer["connected"]
    assert peer["queue_depth"] == 0
    assert peer["last_contact_ms"] is not None


async def test_two_way_bulk_traffic_of_large_messages_completes(pair: tuple[NodeProcess, NodeProcess]) -> None:
    """Both sides send more than the sockets can buffer at once. Neither may stop reading until
    the other reads (a deadlock seen once: each side waited for its own writes to drain)."""
    a, b = pair
    await wait_for(lambda: a.connected("GENSTAB"), 20, "the link to come up")
    big = "Ж" * 20_000  # 40 kB of UTF-8 per message

    async def flood(node: NodeProcess, to: str) -> None:
        for _ in range(8):
            batch = [{"to": to, "body": {"text": big, "lang": "ru"}} for _ in range(100)]
            await node.api("POST", "/v1/messages/batch", json={"messages": batch})

    await asyncio.gather(flood(a, "GENSTAB"), flood(b, "SACEUR"))  # both ways at once

    async def all_delivered(node: NodeProcess) -> bool:
        items = await node.api("GET", "/v1/outbox", params={"limit": 1000})
        return len(items) == 800 and all(i["state"] == "delivered" for i in items)

    await wait_for(lambda: all_delivered(a), 60, "SACEUR's 800 large messages to be delivered", 0.5)
    await wait_for(lambda: all_delivered(b), 60, "GENSTAB's 800 large messages to be delivered", 0.5)
