"""Exactly-once, in-order delivery while paths are cut and nodes are killed at random moments.

1,000 messages each way over two paths (a relay per path in front of each node). Meanwhile the
paths are cut silently, reset and healed at random, and each node is killed with SIGKILL and
restarted several times. Afterwards every inbox holds every message once, in sequence, every
outbox entry carries a receipt that verifies under the peer's key and names the very envelope
that was sent, and both transcripts audit clean.
"""

import asyncio
import random
import sqlite3
from dataclasses import replace
from pathlib import Path

import httpx

from hotline.envelope import Envelope, Receipt, open_signed
from hotline.evidence import audit
from hotline.testing.relay import relays_in_front
from tests.integration.harness import NodeProcess, Relay, make_node, pin, wait_for

MESSAGES = 1000
BATCH = 25
KILLS_PER_NODE = 4
CUTS = 12


async def send_all(node: NodeProcess, to: str) -> None:
    """Queue every message in batches; retry a batch the node did not answer (it may have been
    killed mid-request). The ref makes a retry idempotent, so nothing is queued twice."""
    for start in range(1, MESSAGES + 1, BATCH):
        batch = [
            {"to": to, "body": {"text": f"{node.party} #{i:04d}", "lang": "en"}, "ref": f"{node.party}-{i:04d}"}
            for i in range(start, min(start + BATCH, MESSAGES + 1))
        ]
        while True:
            try:
                response = await node.client.post("/v1/messages/batch", json={"messages": batch}, timeout=5.0)
                if response.status_code == 201:
                    break
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)  # the node is down; it is being restarted by the chaos task
        await asyncio.sleep(random.uniform(0.0, 0.06))  # spread sending over the chaos


async def chaos(nodes: list[NodeProcess], paths: list[list[Relay]], rng: random.Random) -> None:
    """``paths``: for each path, the relays of it (one in front of each node)."""
    actions = ["hold", "reset", "release"] * (CUTS // 3)  # which path, and when, is left to chance
    events = actions + [f"kill:{n}" for n in range(len(nodes)) for _ in range(KILLS_PER_NODE)]
    rng.shuffle(events)
    for event in events:
        await asyncio.sleep(rng.uniform(0.05, 0.6))  # a random moment, not a synchronisation
        if not event.startswith("kill:"):
            for relay in rng.choice(paths):
                getattr(relay, event)()
        else:
            node = nodes[int(event.split(":")[1])]
            node.kill()
            await node.start()
    for relays in paths:  # every cut heals in the end
        for relay in relays:
            relay.release()


async def all_delivered(node: NodeProcess) -> bool:
    try:
        items = await node.api("GET", "/v1/outbox", params={"limit": MESSAGES + 10})
    except httpx.HTTPError:
        return False
    return len(items) == MESSAGES and all(i["state"] == "delivered" for i in items)


def check_inbox(db: Path, sender: str) -> None:
    conn = sqlite3.connect(db)
    rows = conn.execute("SELECT seq, envelope FROM inbox WHERE peer=? ORDER BY seq", (sender,)).fetchall()
    conn.close()
    assert [seq for seq, _ in rows] == list(range(1, MESSAGES + 1)), "gapless, each sequence number once"
    texts = [Envelope.from_opened(open_signed(raw, "envelope")).body["text"] for _, raw in rows]
    assert texts == [f"{sender} #{i:04d}" for i in range(1, MESSAGES + 1)], "every message once, in order"


def check_outbox(db: Path, receiver: NodeProcess) -> None:
    key = receiver.config.signing_key().verify_key
    conn = sqlite3.connect(db)
    rows = conn.execute(
        "SELECT seq, env_id, state, r.obj FROM outbox o JOIN receipts r ON r.id = o.receipt_id ORDER BY num"
    ).fetchall()
    conn.close()
    assert len(rows) == MESSAGES
    for seq, env_id, state, receipt_bytes in rows:
        assert state == "delivered"
        opened = open_signed(receipt_bytes, "receipt")
        opened.verify(key)
        entry = Receipt.from_opened(opened).entry(seq)
        assert entry is not None, f"the receipt stored for {seq} does not name it"
        assert entry.envelope_id == env_id


async def test_exactly_once_in_order_through_cuts_and_kills(tmp_path: Path) -> None:
    rng = random.Random()
    seed = rng.randrange(2**32)
    rng.seed(seed)
    print(f"chaos seed {seed}")
    # Each node's card advertises its two relays (two paths), so every byte between the nodes
    # crosses a relay the test can cut.
    a = make_node(tmp_path, "SACEUR")
    b = make_node(tmp_path, "GENSTAB")
    relays: dict[str, list[Relay]] = {}
    for node in (a, b):
        relays[node.party] = await relays_in_front(node.config.listen, 2)
        node.config = replace(node.config, advertise=tuple(relay.address for relay in relays[node.party]))
    proxies = [relay for party in relays.values() for relay in party]
    paths = [[relays[a.party][k], relays[b.party][k]] for k in range(2)]
    pin(a, b.config)
    pin(b, a.config)
    await a.start()
    await b.start()
    try:
        await asyncio.gather(send_all(a, "GENSTAB"), send_all(b, "SACEUR"), chaos([a, b], paths, rng))
        await wait_for(lambda: all_delivered(a), 120, "all of SACEUR's messages to be delivered", 0.5)
        await wait_for(lambda: all_delivered(b), 120, "all of GENSTAB's messages to be delivered", 0.5)
    finally:
        assert a.stop() == 0
        assert b.stop() == 0
        for proxy in proxies:
            await proxy.close()
        await a.client.aclose()
        await b.client.aclose()
    assert a.starts == b.starts == 1 + KILLS_PER_NODE
    assert sum(p.resets for p in proxies) == 2 * (CUTS // 3)  # each reset reaches the path's two relays
    assert sum(p.holds for p in proxies) >= 2  # the first silent cut at least found its path flowing
    check_inbox(b.config.store_path, "SACEUR")
    check_inbox(a.config.store_path, "GENSTAB")
    check_outbox(a.config.store_path, b)
    check_outbox(b.config.store_path, a)
    for node in (a, b):  # every kill -9 left the transcript's tree whole and consistent
        report = audit(node.config.directory)
        assert report.problems == []
        assert report.entries > 2000
        conn = sqlite3.connect(node.config.store_path)
        assert conn.execute("SELECT count(*) FROM equivocations").fetchone() == (0,), "no false alarm"
        conn.close()
