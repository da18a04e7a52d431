"""How the channel checks itself, on the manual clock: link tests when a link comes up and every
interval, answered by the machine; heartbeats that keep a quiet link up and bury a silent one."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path
from typing import Any

from hotline.protocol import Lane
from hotline.testing import QUIET_WATCH, STEADY_TIMERS, InProcessNode, in_process_network, wait_until

INTERVAL = 60.0


async def link_test(node: InProcessNode) -> dict[str, Any] | None:
    [status] = await node.desk.status()
    test: dict[str, Any] | None = status["link_test"]
    return test


async def answered(node: InProcessNode, at_ms: int) -> dict[str, Any]:
    """Wait until ``node``'s latest link test is the one sent at ``at_ms``, and answered."""

    async def ok() -> dict[str, Any] | None:
        test = await link_test(node)
        return test if test is not None and test["at_ms"] == at_ms and test["state"] == "ok" else None

    result: dict[str, Any] = await wait_until(ok, f"{node.party}'s link test of {at_ms} to be answered")
    return result


async def link_tests_sent(node: InProcessNode) -> list[int]:
    return sorted(r.created_ms for r in await node.desk.outbox() if r.kind == "link_test")


async def test_link_tests_go_when_the_link_comes_up_and_every_interval_answered_by_the_machine(
    tmp_path: Path,
) -> None:
    watch = replace(QUIET_WATCH, link_test_interval=INTERVAL)
    async with in_process_network(tmp_path, watch=watch) as network:
        clock = network.clock
        start = clock.wall_ms()
        every = round(INTERVAL * 1000)
        for node in network:
            test = await answered(node, start)
            assert test["rtt_ms"] == 0  # the round trip took no manual time

        await clock.advance(INTERVAL - 0.001)
        for node in network:
            assert await link_tests_sent(node) == [start]
        await clock.advance(0.001)
        for node in network:
            await answered(node, start + every)
        await clock.advance(INTERVAL)
        for node in network:
            await answered(node, start + 2 * every)
            assert await link_tests_sent(node) == [start, start + every, start + 2 * every]

        for node in network:
            # Each side answered the other's three tests by machine; no person was asked.
            inbox = await node.desk.inbox()
            tests_in = [r for r in inbox if r.kind == "link_test"]
            assert len(tests_in) == 3
            assert all(r.ack is not None and (r.ack.by, r.ack.auto) == ("machine", True) for r in tests_in)
            assert all(r.due_ms is None for r in inbox)
            assert (node.desk.alerts(), node.desk.alarms()) == ([], [])


async def test_heartbeats_keep_a_quiet_link_up_and_a_silent_peer_is_buried(tmp_path: Path) -> None:
    timers = replace(STEADY_TIMERS, heartbeat=5.0, dead_after=15.0)  # as shipped
    async with in_process_network(tmp_path, timers=timers) as network:
        saceur = network["SACEUR"]
        clock = network.clock
        start = clock.wall_ms()
        await clock.advance(600)  # 120 heartbeats each way, each answered
        assert await network.linked()
        # Only on the urgent link: the ordinary one leans on it, and says nothing of its own.
        for node in network:
            assert node.node is not None
            [channel] = node.node.channels.values()
            urgent, ordinary = channel.links[(0, Lane.URGENT)], channel.links[(0, Lane.ORDINARY)]
            assert ordinary.session.leans_on is not None
            assert ordinary.session.leans_on() is urgent.session
            assert ordinary.session.pings_sent == 0
        assert sum(n.node.channels[p].links[(0, Lane.URGENT)].session.pings_sent
                   for n, p in ((saceur, "GENSTAB"), (network["GENSTAB"], "SACEUR")) if n.node) >= 110  # fmt: skip
        [status] = await saceur.desk.status()
        assert status["last_contact_ms"] >= start + 595_000
        # So does each path's: a healthy path is heard all the time, not only when it came up.
        [path] = status["paths"]
        assert path["last_contact_ms"] >= start + 595_000
        assert status["rtt_ms"] == 0.0

        # SACEUR stops hearing GENSTAB (a cable that silently drops everything one way).
        assert saceur.node is not None
        links = list(saceur.node.channels["GENSTAB"].links.values())
        for link in links:
            transport = link.writer.transport
            assert isinstance(transport, asyncio.Transport)
            transport.pause_reading()
        heard_last = clock.wall_ms()
        await clock.advance(14.999)
        assert not any(link.closed.is_set() for link in links)
        await clock.advance(0.001)
        assert clock.wall_ms() == heard_last + 15_000
        await wait_until(lambda: all(link.closed.is_set() for link in links), "SACEUR to bury the silent links")
        # It redials at once, and new links carry the traffic again.
        await network.wait_linked()
        assert not set(saceur.node.channels["GENSTAB"].links.values()) & set(links)
