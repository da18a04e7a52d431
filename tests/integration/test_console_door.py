"""The console's HTTPS listener holds against a hostile network (issue #16; the peer port's
admission, issue #14, in front of it).

A real node with its console on a listener of its own, bounded to 16 handshakes under way, 4 per
source address. The attack (``hotline.testing.flood``, a process of its own): 300 idle TCP
connections from eight loopback addresses, each opened again after the node closes it. Before
the admission, every one of them held a file handle and asyncio's TLS buffers for as long as
the handshake timeout allowed, and nothing counted them; now the node holds at most the bound,
says what it refused on ``/metrics``, and a browser from another address is served at once.
"""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path

import httpx
import pytest

from hotline.node import parse_address
from hotline.testing.flood import start_flood
from tests.integration.harness import NodeProcess, free_port, make_node, stop_all, wait_for

pytestmark = pytest.mark.slow
ATTACKERS = [f"127.0.0.{n}" for n in range(2, 10)]
CONNECTIONS = 300
HANDSHAKES, PER_SOURCE, HANDSHAKE_S = 16, 4, 3
SERVED_WITHIN_S = 1.0  # a sign-in page over a fresh TLS connection, under the flood


async def metric(node: NodeProcess, name: str, label: str, value: str) -> float:
    text = (await node.client.get("/metrics")).text
    found = re.search(rf'^{name}\{{{label}="{value}"\}} (\S+)$', text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def handles(node: NodeProcess) -> int:
    return sum(1 for _ in Path(f"/proc/{node.pid}/fd").iterdir())


async def sign_in_page(node: NodeProcess) -> float:
    """Seconds for the sign-in page on a new connection (a new TLS handshake), from 127.0.0.1."""
    started = time.monotonic()
    async with httpx.AsyncClient(verify=False, timeout=10.0) as client:
        answer = await client.get(f"{node.config.console_url}/signin")
    assert answer.status_code == 200
    assert "password" in answer.text
    return time.monotonic() - started


async def test_a_flood_of_idle_connections_takes_no_more_than_the_bound(tmp_path: Path) -> None:
    bounds = {"console_handshakes": HANDSHAKES, "console_handshakes_per_source": PER_SOURCE}
    node = make_node(
        tmp_path,
        "SACEUR",
        more={
            "console": {"listen": f"127.0.0.1:{free_port()}"},
            "bounds": {**bounds, "api_header_timeout": HANDSHAKE_S},
        },
    )
    await node.start()
    try:
        await sign_in_page(node)  # the listener serves, and its first handshake is done
        quiet = handles(node)
        flood = await start_flood(node.config.console.listen, CONNECTIONS, ATTACKERS, pause=0.5)
        try:

            async def refused() -> bool:
                return await metric(node, "hotline_front_refusals_total", "cause", "console-handshakes") > 0

            await wait_for(refused, 15, "the console's listener to refuse a connection at its bound")
            taken = await metric(node, "hotline_front_in_use", "what", "console_handshakes")
            assert 0 < taken <= HANDSHAKES
            # The handles the flood holds are the bound's, not the flood's 300 (a margin for the
            # store's and the API's own).
            assert handles(node) - quiet <= HANDSHAKES + 8, f"{handles(node) - quiet} handles more under the flood"
            # The watch floor's browser, from an address of its own, gets in at once: a flooding
            # address's oldest handshake gives its slot up.
            times = [await sign_in_page(node) for _ in range(5)]
            assert max(times) < SERVED_WITHIN_S, times
            assert await metric(node, "hotline_front_refusals_total", "cause", "console-handshake-evicted") > 0
        finally:
            flood.terminate()
            await flood.wait()

        async def calm() -> bool:
            return await metric(node, "hotline_front_in_use", "what", "console_handshakes") == 0

        await wait_for(calm, 2 * HANDSHAKE_S + 5, "the flood's handshakes to end")
        assert await sign_in_page(node) < SERVED_WITHIN_S
        # One address cannot hold more than its share: one more idle connection from it is reset.
        host, port = parse_address(node.config.console.listen)
        held = [await asyncio.open_connection(host, port, local_addr=("127.0.0.20", 0)) for _ in range(PER_SOURCE)]
        try:
            before = await metric(node, "hotline_front_refusals_total", "cause", "console-handshakes-per-source")
            await _reset_at_once(host, port, "127.0.0.20")
            after = await metric(node, "hotline_front_refusals_total", "cause", "console-handshakes-per-source")
            assert after == before + 1
        finally:
            for _, held_writer in held:
                held_writer.close()
        assert node.running(), "the node kept running"
        logged = node.log_path.read_text()
        assert "refused" in logged
        assert "console_handshakes" in logged
        assert "Traceback" not in logged
    finally:
        stop_all((node,))
        await node.aclose()


async def _reset_at_once(host: str, port: int, source: str) -> None:
    """Connect from ``source`` and see the node reset the connection. Under load the reset can
    reach the client before its event loop has seen the connect finish: the connect then fails
    with the reset itself, which is the same refusal."""
    try:
        reader, writer = await asyncio.open_connection(host, port, local_addr=(source, 0))
    except ConnectionResetError:
        return
    try:
        with pytest.raises(ConnectionResetError):
            await reader.read(1)
    finally:
        writer.close()
