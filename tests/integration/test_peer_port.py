"""The peer port holds against a hostile network (issue #14, item 1).

A real pair, SACEUR and GENSTAB. GENSTAB reaches SACEUR through a relay in front of SACEUR's port
(so that the test can cut GENSTAB's links), and SACEUR cannot reach GENSTAB: every link is one
GENSTAB dialed and SACEUR accepted. SACEUR is started as a shell with the common default would start it, with a soft
limit of 1,024 file handles; GENSTAB with a hard limit of 512, below what its bounds need.

The attack (``hotline.testing.flood``, a process of its own): 1,100 plain TCP connections from
eight loopback addresses (127.0.0.2-9), each held idle for as long as SACEUR keeps it and opened
again two seconds after it is closed, so that every handshake slot stays taken for as long as
the attack runs. Before the peer port admitted
connections ahead of TLS, each cost 0.3 MB (330 MB in all), and at 1,024 handles SACEUR stopped
accepting for a second at a time, a traceback in the log each time.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import resource
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from hotline.node.config import Bounds
from hotline.testing.flood import start_flood
from tests.integration.harness import (
    QUIET_WATCH,
    NodeProcess,
    Relay,
    configure,
    free_port,
    pin,
    query,
    reload,
    stop_all,
    wait_for,
)

ATTACKERS = [f"127.0.0.{n}" for n in range(2, 10)]
CONNECTIONS = 1100  # more than the 1,024 handles SACEUR starts with
DEFAULTS = Bounds()  # SACEUR keeps the default bounds of the peer port: 64 handshakes, 8 per source, 5 s
HANDSHAKES = DEFAULTS.peer_handshakes
# Stated figures: the handshakes under way cost about 0.3 MB each (64: about 20 MB); the attack
# may take no more than twice that, and no more handles than the slots and a margin.
MEMORY_BOUND_MB = 40
HANDLES_BOUND = HANDSHAKES + 32
NEW_LINK_BOUND_S = 0.100
FLASHES = 5


@dataclass(eq=False)
class LimitedNode(NodeProcess):
    """A node process started with a given limit on file handles (soft, hard), as a shell or a
    service manager would start it."""

    nofile: tuple[int, int] | None = None

    def command(self) -> list[str]:
        if self.nofile is None:
            return super().command()
        soft, hard = self.nofile
        limit = (
            "import os, resource, sys;"
            f" resource.setrlimit(resource.RLIMIT_NOFILE, ({soft}, {hard}));"
            " os.execv(sys.executable, [sys.executable, *sys.argv[1:]])"
        )
        return [sys.executable, "-c", limit, *super().command()[1:]]


class TimedRelay(Relay):
    """A relay that notes when each connection reaches it (the peer's dial, as SACEUR sees it)."""

    def __init__(self, target_port: int) -> None:
        super().__init__(target_port)
        self.arrivals: list[float] = []

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.arrivals.append(time.time())
        await super()._relay(reader, writer)


@dataclass
class Scene:
    saceur: LimitedNode
    genstab: LimitedNode
    relay: TimedRelay


@pytest.fixture
async def scene(tmp_path: Path) -> AsyncIterator[Scene]:
    saceur = LimitedNode.create(tmp_path, "SACEUR", settings={"watch": QUIET_WATCH})
    # GENSTAB advertises an address where nothing listens: every link is one GENSTAB dialed, so
    # that its new links after a cut are accepted by SACEUR, under attack.
    nowhere = (f"127.0.0.1:{free_port()}",)
    genstab = LimitedNode.create(tmp_path, "GENSTAB", language="ru", advertise=nowhere, settings={"watch": QUIET_WATCH})
    saceur.nofile = (1024, resource.getrlimit(resource.RLIMIT_NOFILE)[1])
    genstab.nofile = (512, 512)
    relay = TimedRelay(int(saceur.config.listen.rsplit(":", 1)[1]))
    await relay.start()
    configure(saceur.config.directory, {"advertise": [relay.address]})
    reload(saceur)
    pin(saceur, genstab.config)
    pin(genstab, saceur.config)
    nodes = (saceur, genstab)
    try:
        for node in nodes:
            await node.start()
        for node, peer in ((nodes[0], "GENSTAB"), (nodes[1], "SACEUR")):
            await wait_for(lambda node=node, peer=peer: kept_links(node, peer), 20, f"{node.party}'s links")
        yield Scene(nodes[0], nodes[1], relay)
    finally:
        try:
            stop_all(nodes)
        finally:
            for node in nodes:
                await node.aclose()
            await relay.close()


async def kept_links(node: NodeProcess, peer: str) -> bool:
    """Both lanes up, on the links GENSTAB dialed (through the relay, for SACEUR)."""
    [status] = [p for p in (await node.api("GET", "/v1/status"))["peers"] if p["peer"] == peer]
    return all(status["lanes"].values()) and set(status["dialed_by"].values()) == {"GENSTAB"}


async def port_state(node: NodeProcess, what: str, at_least: int) -> bool:
    """Whether the peer port's handshakes under way (``handshakes``), or its refusals of one
    cause, are at least ``at_least`` (``/v1/status``)."""
    port = (await node.api("GET", "/v1/status")).get("peer_port", {})
    value = port.get(what) if what == "handshakes" else port.get("refused", {}).get(what)
    return value is not None and value >= at_least


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def handles(pid: int) -> int:
    return sum(1 for _ in Path(f"/proc/{pid}/fd").iterdir())


def soft_limit(pid: int) -> int:
    [line] = [line for line in Path(f"/proc/{pid}/limits").read_text().splitlines() if "open files" in line]
    return int(line.split()[3])


async def flash_latencies(sender: NodeProcess, to: str) -> list[int]:
    """Milliseconds from queued to delivered (the sender's own stamps), one FLASH at a time."""
    latencies = []
    for n in range(FLASHES):
        body = {"text": f"FLASH {n} to {to}", "lang": "en"}
        sent = await sender.api("POST", "/v1/messages", json={"to": to, "precedence": "FLASH", "body": body})

        async def delivered(number: int = sent["number"]) -> tuple[int, int] | None:
            [(created, done)] = query(sender, "SELECT created_ms, delivered_ms FROM outbox WHERE num=?", number)
            return None if done is None else (int(created), int(done))

        created, done = await wait_for(delivered, 10, f"FLASH {n} from {sender.party} to be delivered", interval=0.005)
        latencies.append(done - created)
    return latencies


def stored(node: NodeProcess) -> set[tuple[Any, ...]]:
    inbox = query(node, "SELECT 'in', peer, seq, envelope, receipt_id, acked_ms FROM inbox")
    outbox = query(node, "SELECT 'out', num, seq, envelope, state, delivered_ms FROM outbox")
    return set(inbox) | set(outbox)


LINK_UP = re.compile(r"^(\S+) \[info\s*\] link up\s.*dialed_by=GENSTAB")


async def links_up(log: Path, moment: float) -> bool:
    """Both of GENSTAB's links came up at SACEUR after ``moment``."""
    return len(links_up_after(log, moment)) >= 2


def links_up_after(log: Path, moment: float) -> list[float]:
    """When SACEUR logged each link GENSTAB dialed coming up, after ``moment`` (Unix time)."""
    times = []
    for line in log.read_text().splitlines():
        if found := LINK_UP.match(line):
            at = dt.datetime.fromisoformat(found.group(1)).timestamp()
            if at > moment:
                times.append(at)
    return times


async def test_an_attack_on_the_peer_port_takes_bounded_memory_and_handles_and_keeps_no_peer_out(
    scene: Scene,
) -> None:
    saceur, genstab = scene.saceur, scene.genstab
    assert soft_limit(saceur.pid) > 1024, "SACEUR raises the limit it was started with to what its bounds need"
    status = await saceur.api("GET", "/v1/status")
    assert status["file_handles"]["limit"] == soft_limit(saceur.pid) >= status["file_handles"]["needed"]
    assert not status["file_handles"]["short"]
    usual = await flash_latencies(saceur, "GENSTAB") + await flash_latencies(genstab, "SACEUR")
    before = stored(saceur)
    memory, open_handles = rss_mb(saceur.pid), handles(saceur.pid)

    flood = await start_flood(saceur.config.listen, CONNECTIONS, ATTACKERS)
    try:
        grown, taken = rss_mb(saceur.pid) - memory, handles(saceur.pid) - open_handles
        assert grown < MEMORY_BOUND_MB, f"SACEUR took {grown:.0f} MB more under attack"
        assert taken < HANDLES_BOUND, f"SACEUR holds {taken} more file handles under attack"

        # Every slot is held by the attack when GENSTAB's links are cut: its new ones take a slot
        # and come up at once, the attack notwithstanding.
        await wait_for(lambda: port_state(saceur, "handshakes", HANDSHAKES), 10, "every handshake slot taken")
        cut = time.time()
        scene.relay.reset()
        await wait_for(lambda: links_up(saceur.log_path, cut), 20, "GENSTAB's new links at SACEUR")
        for up in links_up_after(saceur.log_path, cut):
            dialed = max(at for at in scene.relay.arrivals if at < up)
            assert up - dialed < NEW_LINK_BOUND_S, f"a new link took {(up - dialed) * 1000:.0f} ms"
        assert await kept_links(saceur, "GENSTAB")

        under_attack = await flash_latencies(saceur, "GENSTAB") + await flash_latencies(genstab, "SACEUR")
        assert sorted(under_attack)[len(usual) // 2] <= max(2 * sorted(usual)[len(usual) // 2], 50), (
            f"FLASH under attack {under_attack} ms, usually {usual} ms"
        )
        assert max(under_attack) < 500, f"FLASH under attack {under_attack} ms"
        assert rss_mb(saceur.pid) - memory < MEMORY_BOUND_MB
        assert handles(saceur.pid) - open_handles < HANDLES_BOUND
        timeout = DEFAULTS.peer_handshake_timeout
        await wait_for(lambda: port_state(saceur, "timeout", 1), 2 * timeout, "idle handshakes to time out")
    finally:
        flood.terminate()
        assert flood.stdout is not None
        report_line = await flood.stdout.readline()  # "connected N": what reached the node's port
        await flood.wait()

    assert before <= stored(saceur), "nothing stored before the attack was lost or changed"
    # Every connection that reached the port and did not hold a handshake slot at the end was
    # refused, for one cause or another, and counted as it left the accept queue: on a loaded
    # machine some connects time out behind the full backlog (tried, never taken), and some are
    # still queued when the flood ends, so the count is held against what the flood says it
    # connected, and awaited (it only grows) rather than read once.
    assert report_line.startswith(b"connected "), report_line
    connected = int(report_line.split()[1])
    assert connected >= HANDSHAKES, f"the flood connected {connected} times only"
    await wait_for(lambda: refusals_counted(saceur, connected - HANDSHAKES), 20, "the flood's refusals counted")
    report = await saceur.api("GET", "/v1/status")
    refused = report["peer_port"]["refused"]
    assert refused["source"] >= CONNECTIONS // 2, refused  # most, by far, are refused before any handshake
    # GENSTAB's first new link took an attacker's slot (its second may take the slot the first
    # gave back when its handshake passed).
    assert refused["evicted"] >= 1, refused
    assert report["peer_port"]["handshakes_limit"] == HANDSHAKES
    metrics = (await saceur.client.get("/metrics")).text
    # Connections the flood left in the kernel's accept queue are still being refused after it
    # stopped, so the counter is read between two status reports rather than against one.
    counted = re.search(r'^hotline_peer_port_refused_total\{reason="source"\} (\S+)$', metrics, re.MULTILINE)
    assert counted, "the peer port's refusals are in the metrics"
    after = (await saceur.api("GET", "/v1/status"))["peer_port"]["refused"]["source"]
    assert refused["source"] <= float(counted.group(1)) <= after
    assert "hotline_file_handles_open " in metrics
    assert f"hotline_file_handles_limit {float(soft_limit(saceur.pid))}" in metrics

    log = saceur.log_path.read_text()
    assert "Traceback" not in log
    said = [line for line in log.splitlines() if "peer port:" in line]
    assert len(said) <= 8, "each cause is said once (with a count), not once per connection:\n" + "\n".join(said)
    assert any("peer_handshakes_per_source" in line and "count=1" in line for line in said)
    assert "file handle limit raised" in log

    # GENSTAB's hard limit (512) is below what its bounds need: said at start, and in its status.
    handles_at_genstab = (await genstab.api("GET", "/v1/status"))["file_handles"]
    assert handles_at_genstab["short"] is True
    assert handles_at_genstab["limit"] == 512 < handles_at_genstab["needed"]
    assert "the hard limit on file handles is below what the bounds need" in genstab.log_path.read_text()


async def refusals_counted(node: LimitedNode, at_least: int) -> bool:
    report = await node.api("GET", "/v1/status")
    return bool(sum(report["peer_port"]["refused"].values()) >= at_least)
