"""Several paths to a peer, and failover in under a second.

Each node advertises two addresses, each a relay in front of its listening port (two cables);
path 1 joins the two parties' first relays, path 2 their second ones. The tests cut a path
silently (the relays hold every byte and close nothing, as a cut cable behind a router does),
reset it, heal it, and look at what the nodes deliver and what they tell their operators.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from hotline.envelope import Envelope, open_signed
from hotline.node import wall_ms
from hotline.testing.relay import relays_in_front
from tests.integration.browser import add_account
from tests.integration.harness import NodeProcess, Relay, configure, make_node, pin, reload, stop_all, wait_for
from tests.integration.test_cli import hotline
from tests.integration.test_console_security import PASSWORD, signed_in

# Quick alarms, so that a test sees in seconds what a watch sees in half a minute.
ALARMS = {"peer_unreachable": 1, "path_down": 1, "flash_undelivered": 30, "immediate_undelivered": 120}
FAILOVER_BOUND_MS = 1000


@dataclass
class TwoPaths:
    nodes: tuple[NodeProcess, NodeProcess]
    relays: dict[str, list[Relay]]  # party -> its relays, path 1 first

    def cut(self, path: int) -> None:
        """A silent cut of one path: both parties' relays of it hold every byte."""
        for relays in self.relays.values():
            relays[path - 1].hold()

    def heal(self, path: int) -> None:
        for relays in self.relays.values():
            relays[path - 1].release()

    async def paths(self, node: NodeProcess) -> list[dict[str, Any]]:
        [peer] = (await node.api("GET", "/v1/status"))["peers"]
        paths: list[dict[str, Any]] = peer["paths"]
        return paths

    async def up(self, node: NodeProcess, expected: list[int]) -> bool:
        return [p["path"] for p in await self.paths(node) if p["up"]] == expected

    async def carrier(self, node: NodeProcess) -> int | None:
        return next((p["path"] for p in await self.paths(node) if "ordinary" in p["carries"]), None)


@contextlib.asynccontextmanager
async def two_paths(root: Path) -> AsyncIterator[TwoPaths]:
    a = make_node(root, "SACEUR", "en")
    b = make_node(root, "GENSTAB", "ru")
    relays: dict[str, list[Relay]] = {}
    for node in (a, b):
        relays[node.party] = await relays_in_front(node.config.listen, 2)
        advertise = [relay.address for relay in relays[node.party]]
        configure(node.config.directory, {"advertise": advertise, "alarms": ALARMS})
        reload(node)
    pin(a, b.config)
    pin(b, a.config)
    net = TwoPaths((a, b), relays)
    try:
        await a.start()
        await b.start()
        for node in (a, b):
            await wait_for(lambda node=node: net.up(node, [1, 2]), 20, f"{node.party}'s two paths to come up")
        yield net
    finally:
        try:
            stop_all((a, b))
        finally:
            for node in (a, b):
                await node.aclose()
            for party_relays in relays.values():
                for relay in party_relays:
                    await relay.close()


async def send(node: NodeProcess, to: str, text: str, precedence: str) -> None:
    body = {"text": text, "lang": "en"}
    await node.api("POST", "/v1/messages", json={"to": to, "precedence": precedence, "body": body, "ref": text})


async def delivered_all(node: NodeProcess) -> bool:
    return all(state == "delivered" for state, _, _ in outbox(node))


async def at_least(node: NodeProcess, count: int, created_after: int = 0) -> bool:
    """Whether ``count`` messages created after ``created_after`` are delivered."""
    return sum(1 for _, created, done in outbox(node) if created > created_after and done) >= count


def outbox(node: NodeProcess) -> list[tuple[str, int, int | None]]:
    """(state, created, delivered) of every message the test sent (not link tests or acks)."""
    conn = sqlite3.connect(node.config.store_path)
    try:
        rows = conn.execute("SELECT state, created_ms, delivered_ms FROM outbox WHERE ref IS NOT NULL").fetchall()
    finally:
        conn.close()
    return [
        (str(state), int(created), None if delivered is None else int(delivered)) for state, created, delivered in rows
    ]


def inbox_texts(node: NodeProcess, sender: str) -> tuple[list[int], list[str]]:
    conn = sqlite3.connect(node.config.store_path)
    try:
        rows = conn.execute("SELECT seq, kind, envelope FROM inbox WHERE peer=? ORDER BY seq", (sender,)).fetchall()
    finally:
        conn.close()
    texts = [
        Envelope.from_opened(open_signed(raw, "envelope")).body["text"] for _, kind, raw in rows if kind == "free_text"
    ]
    return [seq for seq, _, _ in rows], texts


async def traffic(node: NodeProcess, to: str, stop: asyncio.Event, sent: list[str]) -> None:
    """A message every 20 ms until told to stop; every third a FLASH, the rest ROUTINE."""
    while not stop.is_set():
        text = f"{node.party} #{len(sent):04d}"
        await send(node, to, text, "FLASH" if len(sent) % 3 == 0 else "ROUTINE")
        sent.append(text)
        await asyncio.sleep(0.02)  # the pace of the traffic, not a wait for anything


async def test_a_silent_cut_of_the_path_in_use_moves_its_traffic_in_under_a_second(tmp_path: Path) -> None:
    async with two_paths(tmp_path) as net:
        a, b = net.nodes
        for node in (a, b):  # the first advertised carries (once it has held, if path 2 came up first)
            await wait_for(lambda node=node: _carries(net, node, 1), 10, f"{node.party}'s path 1 to carry")
        stop = asyncio.Event()
        sent: dict[str, list[str]] = {a.party: [], b.party: []}
        flows = [
            asyncio.create_task(traffic(a, b.party, stop, sent[a.party])),
            asyncio.create_task(traffic(b, a.party, stop, sent[b.party])),
        ]
        try:
            for node in (a, b):
                await wait_for(lambda node=node: at_least(node, 20), 20, f"{node.party}'s traffic to flow")
            net.cut(1)
            cut_ms = wall_ms()
            for node in (a, b):  # traffic created after the cut flows on path 2
                await wait_for(
                    lambda node=node: at_least(node, 30, cut_ms), 20, f"{node.party}'s messages after the cut to go"
                )
        finally:
            stop.set()
            await asyncio.gather(*flows)
        for node in (a, b):
            [_, second] = await net.paths(node)
            assert second["probes_sent"] >= second["probes_answered"] > 0  # measured, as its loss
            await wait_for(lambda node=node: delivered_all(node), 20, "every receipt")
            assert await net.up(node, [2])
            assert await net.carrier(node) == 2
            assert "path silent" in node.log_path.read_text()
        for node, peer in ((a, b), (b, a)):
            rows = outbox(node)
            after = [done - created for _, created, done in rows if created > cut_ms and done is not None]
            print(f"{node.party}: {len(after)} messages created after the cut, slowest {max(after)} ms")
            assert max(after) < FAILOVER_BOUND_MS, f"{node.party}: slowest after the cut {max(after)} ms"
            seqs, texts = inbox_texts(peer, node.party)
            assert seqs == list(range(1, len(seqs) + 1)), "gapless, each sequence number once"
            assert sorted(texts) == sorted(sent[node.party]), "every message once"

        # The cut heals: path 1 comes back by itself and takes the traffic back after its hold.
        net.heal(1)
        for node in (a, b):
            await wait_for(lambda node=node: net.up(node, [1, 2]), 10, f"{node.party}'s path 1 to come back")
            await wait_for(lambda node=node: _carries(net, node, 1), 10, "the traffic to return to path 1")


async def _carries(net: TwoPaths, node: NodeProcess, path: int) -> bool:
    return await net.carrier(node) == path


async def test_every_path_cut_queues_raises_the_loudest_alarm_and_one_healed_path_delivers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # the status tables unwrapped, as on a watch floor's screen
    async with two_paths(tmp_path) as net:
        a, b = net.nodes
        net.cut(1)
        net.cut(2)
        await wait_for(lambda: net.up(a, []), 5, "SACEUR to see both paths down")
        for i in range(5):
            await send(a, b.party, f"queued #{i}", "FLASH" if i == 0 else "ROUTINE")
        [peer] = (await a.api("GET", "/v1/status"))["peers"]
        assert (peer["connected"], peer["queue_depth"]) == (False, 5)  # queued, not signed into the void

        async def unreachable() -> dict[str, Any] | None:
            alarms = await a.api("GET", "/v1/alarms", params={"lang": "en"})
            return next((x for x in alarms if x["kind"] == "peer-unreachable"), None)

        alarm = await wait_for(unreachable, 10, "the alarm at SACEUR")
        assert alarm["loudest"]
        kinds = {x["kind"] for x in await a.api("GET", "/v1/alarms")}
        assert "path-down" not in kinds, "with no path at all, the peer's alarm says enough"

        net.heal(2)
        await wait_for(lambda: net.up(a, [2]), 10, "path 2 to come back")
        await wait_for(lambda: delivered_all(a), 10, "the queued messages to go")
        assert len(outbox(a)) == 5

        async def path_down() -> dict[str, Any] | None:
            alarms = await a.api("GET", "/v1/alarms", params={"lang": "en"})
            return next((x for x in alarms if x["kind"] == "path-down"), None)

        alarm = await wait_for(path_down, 10, "path 1's own alarm, now that path 2 carries")
        assert (alarm["loudest"], alarm["subject"], alarm["level"]) == (False, "1", "duty_officer")
        assert a.config.advertise[0] not in alarm["summary"]  # it names the peer's address for the path
        assert net.relays[b.party][0].address in alarm["summary"]
        assert await unreachable() is None
        # The operators read the same in the status table, each in the node's own language.
        # (In a thread: the relays run on this test's event loop, and a blocked loop is a cut.)
        shown = (await asyncio.to_thread(hotline, "status", directory=a.config.directory)).stdout
        assert "down since" in shown
        assert "outages: 1" in shown
        assert "urgent, ordinary" in shown  # path 2 carries both lanes' traffic
        shown = (await asyncio.to_thread(hotline, "status", directory=b.config.directory)).stdout
        assert "не работает с" in shown
        assert "срочные, обычные" in shown
        # And on the console's watch board, a row per path.
        await asyncio.to_thread(add_account, a, "watch", "operator", PASSWORD, "en")
        async with signed_in(a, "watch") as console:
            board = (await console.get("/board/live")).text
        assert 'data-path="1" data-state="down"' in board
        assert 'data-path="2" data-state="up"' in board
        assert "carries urgent and ordinary traffic" in board

        net.heal(1)
        await wait_for(lambda: net.up(a, [1, 2]), 10, "path 1 to come back")
        await wait_for(lambda: _no_path_alarm(a), 10, "path 1's alarm to clear")


async def _no_path_alarm(node: NodeProcess) -> bool:
    return not any(x["kind"] == "path-down" for x in await node.api("GET", "/v1/alarms"))
