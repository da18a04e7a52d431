"""Failover under traffic, against real processes: ALPHA runs two nodes on one PostgreSQL store,
BRAVO one node on SQLite, and messages flow both ways ten times a second while ALPHA's active
node is SIGKILLed and, later, the node that took over is frozen (SIGSTOP) for 15 s.

Afterwards every message accepted is in the other side's inbox exactly once, BRAVO's inbox from
ALPHA is one gapless sequence, no equivocation alarm stands anywhere, both transcripts audit
clean, and no transcript entry of an older lease epoch follows one of a newer: the frozen node
wrote nothing after it lost the lease.

ALPHA's messages go in through whichever of its nodes answers, each with a ``ref`` (the API's
idempotency key): a send whose answer was lost is sent again, with the same ref, to the other
node, and the shared store keeps it once.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg

from hotline.node import join_node
from hotline.testing.postgres import PostgresServer, postgres_bindir
from hotline.testing.process import free_port, pair, run_cli
from tests.integration.harness import QUIET_WATCH, NodeProcess, stop_all, wait_for

RATE = 10  # messages a second, each way
FREEZE_S = 15.0


@dataclass
class Sender:
    """Sends one message every 1/RATE s through the first of ``nodes`` that takes it."""

    name: str
    to: str
    nodes: list[NodeProcess]
    accepted: dict[str, str] = field(default_factory=dict)  # text -> serial
    refused: int = 0
    _count: itertools.count[int] = field(default_factory=itertools.count)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            started = time.monotonic()
            n = next(self._count)
            await self._send(f"{self.name}-{n}", stop)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(0.0, 1 / RATE - (time.monotonic() - started))):
                    await stop.wait()

    async def _send(self, text: str, stop: asyncio.Event) -> None:
        body = {"to": self.to, "body": {"text": text, "lang": "en"}, "ref": text}
        for attempt in itertools.count():
            node = self.nodes[attempt % len(self.nodes)]
            try:
                answer = await node.client.post("/v1/messages", json=body, timeout=1.0)
            except httpx.HTTPError:
                answer = None
            if answer is not None and answer.status_code in (200, 201):
                self.accepted[text] = answer.json()["serial"]
                return
            self.refused += 1
            if stop.is_set() and attempt > 40:
                raise AssertionError(f"{text} was never accepted")
            await asyncio.sleep(0.05)


async def role(node: NodeProcess) -> str | None:
    try:
        answer = await node.client.get("/v1/status", timeout=1.0)
        return str(answer.json().get("role")) if answer.status_code == 200 else None
    except (httpx.HTTPError, ValueError):
        return None


async def active_of(nodes: list[NodeProcess]) -> NodeProcess | None:
    for node in nodes:
        if node.running() and await role(node) == "active":
            return node
    return None


async def inbox(node: NodeProcess) -> list[dict[str, object]]:
    items: list[dict[str, object]] = await node.api("GET", "/v1/inbox?limit=10000")
    return items


async def holds_all(node: NodeProcess, sender: Sender) -> bool:
    return {str(m["text"]) for m in await inbox(node)} >= set(sender.accepted)


async def delivered_after(sender: Sender, receiver: NodeProcess, since: int) -> float:
    """When a message of ``sender`` numbered ``since`` or later first reached ``receiver``."""
    while True:
        texts = {str(m["text"]) for m in await inbox(receiver)}
        if any(int(t.rsplit("-", 1)[1]) >= since for t in texts if t.startswith(sender.name + "-")):
            return time.monotonic()
        await asyncio.sleep(0.05)


def two_parties(root: Path, url: str) -> tuple[NodeProcess, NodeProcess, NodeProcess]:
    """ALPHA's two nodes on the database ``url`` and BRAVO on SQLite, pinned to each other."""
    first = NodeProcess.create(root, "ALPHA", settings={"watch": QUIET_WATCH}, store=url)
    listen, api = f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"
    console = {"listen": f"127.0.0.1:{free_port()}"}  # the second node's console over HTTPS
    second = NodeProcess(join_node(root / "alpha2", first.config.directory, listen, api, console=console),
                         root / "alpha2.log")  # fmt: skip
    first.reload()  # the card now names both nodes
    bravo = NodeProcess.create(root, "BRAVO", language="ru", settings={"watch": QUIET_WATCH})
    pair(first, bravo)
    return first, second, bravo


async def start_parties(first: NodeProcess, second: NodeProcess, bravo: NodeProcess) -> None:
    """The first node takes the lease, then the second stands by and BRAVO links with ALPHA."""
    await first.start()
    await wait_for(lambda: active_of([first]), 20, "the first node to be active")
    await second.start()
    await bravo.start()
    await wait_for(lambda: bravo.connected("ALPHA"), 20, "BRAVO to link with ALPHA")


async def test_traffic_both_ways_survives_a_kill_and_a_freeze_of_the_active_node(
    tmp_path: Path, postgres: PostgresServer
) -> None:
    url = postgres.create_database("soak")
    first, second, bravo = two_parties(tmp_path, url)
    alpha = [first, second]
    stop = asyncio.Event()
    out = Sender("ALPHA", "BRAVO", alpha)
    back = Sender("BRAVO", "ALPHA", [bravo])
    took: dict[str, float] = {}
    try:
        await start_parties(first, second, bravo)
        assert "standby-banner" in await console_page(second), "the standby's console over HTTPS says what it is"
        traffic = [asyncio.create_task(s.run(stop)) for s in (out, back)]
        await asyncio.sleep(3)

        # SIGKILL the active node; the standby takes over; the killed one comes back to stand by.
        fault, mark = time.monotonic(), len(out.accepted) + 1
        first.kill()
        took["SIGKILL"] = await asyncio.wait_for(delivered_after(out, bravo, mark), 30) - fault
        await first.start()
        await wait_for(lambda: role_is(first, "standby"), 20, "the killed node, restarted, to stand by")
        assert "standby-banner" not in await console_page(second), "the same listener serves the active node's console"
        await asyncio.sleep(3)

        # Freeze the node that took over for 15 s: the other takes over; the frozen one wakes,
        # finds the lease gone and stands by, having written nothing.
        frozen = await active_of(alpha)
        assert frozen is second
        fault, mark = time.monotonic(), len(out.accepted) + 1
        os.kill(frozen.pid, signal.SIGSTOP)
        try:
            took["SIGSTOP"] = await asyncio.wait_for(delivered_after(out, bravo, mark), 30) - fault
            await asyncio.sleep(max(0.0, FREEZE_S - (time.monotonic() - fault)))
        finally:
            os.kill(frozen.pid, signal.SIGCONT)
        await wait_for(lambda: role_is(frozen, "standby"), 20, "the frozen node to stand by when it wakes")
        await asyncio.sleep(3)
        stop.set()
        await asyncio.gather(*traffic)

        active = await active_of(alpha)
        assert active is first
        await wait_for(lambda: holds_all(bravo, out), 60, "ALPHA's messages all at BRAVO")
        await wait_for(lambda: holds_all(active, back), 60, "BRAVO's messages all at ALPHA")

        got = await inbox(bravo)
        assert sorted(int(str(m["seq"])) for m in got) == list(range(1, len(got) + 1)), "BRAVO's inbox is gapless"
        texts = [str(m["text"]) for m in got]
        assert sorted(texts) == sorted(out.accepted), "every message ALPHA accepted reached BRAVO, once"
        got_back = [str(m["text"]) for m in await inbox(active)]
        assert sorted(got_back) == sorted(back.accepted), "every message BRAVO accepted reached ALPHA, once"
        for node in (active, bravo):
            alarms = await node.api("GET", "/v1/alarms")
            assert not [a for a in alarms if a["kind"] == "equivocation"], alarms
    finally:
        stop.set()
        for node in alpha:
            if node.running():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(node.pid, signal.SIGCONT)
        stop_all((first, second, bravo))
        for node in (first, second, bravo):
            await node.aclose()

    for node in (first, bravo):
        report = json.loads(run_cli("log", "audit", "--json", "--dir", str(node.config.directory)))
        assert report["problems"] == [], report
    with psycopg.connect(url) as conn:
        epochs = [epoch for (epoch,) in conn.execute("SELECT epoch FROM transcript ORDER BY idx").fetchall()]
    assert epochs == sorted(epochs), "an entry of an older lease epoch follows one of a newer"
    assert len(set(epochs)) == 3, f"three epochs wrote the transcript: {sorted(set(epochs))}"
    print(
        f"\naccepted ALPHA {len(out.accepted)} (refused tries {out.refused}), BRAVO {len(back.accepted)};"
        f" ALPHA delivered again after SIGKILL {took['SIGKILL']:.2f} s, after SIGSTOP {took['SIGSTOP']:.2f} s"
    )
    assert took["SIGKILL"] < 5, took
    assert took["SIGSTOP"] < 5, took


async def console_page(node: NodeProcess) -> str:
    """The sign-in page from the node's HTTPS listener, as a browser of the watch floor gets it."""
    async with httpx.AsyncClient(verify=False, timeout=10.0) as client:
        answer = await client.get(f"{node.config.console_url}/signin")
    assert answer.status_code == 200, answer.text
    return answer.text.lower()


async def role_is(node: NodeProcess, wanted: str) -> bool:
    return await role(node) == wanted


async def test_the_database_fails_over_and_the_party_carries_on_losing_nothing_receipted(tmp_path: Path) -> None:
    """A primary and a synchronous streaming standby; the nodes name both (libpq's multi-host
    address, read-write only). The primary is SIGKILLed and the standby promoted: the nodes
    find the new primary, one takes the lease under a higher epoch, and traffic carries on."""
    bindir = postgres_bindir()
    assert bindir is not None, "PostgreSQL's server programs are not installed"
    primary = PostgresServer(bindir).init().start()
    try:
        primary.create_database("ha")
        standby = primary.add_standby()
        url = (
            f"postgresql://hotline@{primary.address},{standby.address}/ha"
            "?target_session_attrs=read-write&connect_timeout=2"
        )
        first, second, bravo = two_parties(tmp_path, url)
        alpha = [first, second]
        stop = asyncio.Event()
        out, back = Sender("ALPHA", "BRAVO", alpha), Sender("BRAVO", "ALPHA", [bravo])
        try:
            await start_parties(first, second, bravo)
            traffic = [asyncio.create_task(s.run(stop)) for s in (out, back)]
            await asyncio.sleep(3)

            # What each side holds a receipt for, just before the primary dies.
            receipted_by_alpha = {
                str(m["body"]["text"])
                for m in await bravo.api("GET", "/v1/outbox?limit=10000")
                if m["state"] == "delivered"
            }
            fault, mark = time.monotonic(), len(out.accepted) + 1
            primary.kill()
            standby.promote()
            again = await asyncio.wait_for(delivered_after(out, bravo, mark), 60) - fault
            await asyncio.sleep(3)
            stop.set()
            await asyncio.gather(*traffic)

            active = await active_of(alpha)
            assert active is not None
            await wait_for(lambda: holds_all(bravo, out), 60, "ALPHA's messages all at BRAVO")
            await wait_for(lambda: holds_all(active, back), 60, "BRAVO's messages all at ALPHA")
            held = [str(m["text"]) for m in await inbox(active)]
            assert receipted_by_alpha <= set(held), "a message ALPHA had receipted was lost in the failover"
            assert sorted(held) == sorted(back.accepted), "every message BRAVO accepted reached ALPHA, once"
            got = await inbox(bravo)
            assert sorted(int(str(m["seq"])) for m in got) == list(range(1, len(got) + 1)), "BRAVO's inbox is gapless"
            assert sorted(str(m["text"]) for m in got) == sorted(out.accepted)
            for node in (active, bravo):
                alarms = await node.api("GET", "/v1/alarms")
                assert not [a for a in alarms if a["kind"] == "equivocation"], alarms
        finally:
            stop.set()
            stop_all((first, second, bravo))
            for node in (first, second, bravo):
                await node.aclose()
        report = json.loads(run_cli("log", "audit", "--json", "--dir", str(first.config.directory)))
        assert report["problems"] == [], report
        print(f"\nthe database failed over; ALPHA delivered again {again:.2f} s after the primary was killed")
        standby.stop()
    finally:
        primary.remove()
