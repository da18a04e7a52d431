"""Stopping a node always finishes, and a stopping node takes no more messages.

A node stopped with SIGTERM while a peer advertised two addresses used to dial the peer's next
address as the stop closed its links: the urgent lane came back up, the peer saw its FLASH
messages receipted by a node whose API and console were already gone, and the process could
go on like that until the peer fell silent.
"""

import asyncio
import signal
import time
from pathlib import Path

from hotline.server import STOP_BOUND
from tests.integration.harness import Relay, configure, make_node, pin, reload, wait_for


async def test_a_stopping_node_dials_no_further_address_and_ends_within_its_bound(tmp_path: Path) -> None:
    saceur = make_node(tmp_path, "SACEUR", "en")
    genstab = make_node(tmp_path, "GENSTAB", "ru")
    port = int(saceur.config.listen.rsplit(":", 1)[1])
    first, second = Relay(port), Relay(port)  # two paths to SACEUR, as two cables would be
    await first.start()
    await second.start()
    configure(saceur.config.directory, {"advertise": [f"127.0.0.1:{first.port}", f"127.0.0.1:{second.port}"]})
    reload(saceur)
    pin(saceur, genstab.config)
    pin(genstab, saceur.config)
    await saceur.start()
    await genstab.start()
    try:
        await wait_for(lambda: saceur.connected("GENSTAB"), 20, "both lanes")
        [peer] = (await saceur.api("GET", "/v1/status"))["peers"]
        # GENSTAB sorts first, so both ends keep the links GENSTAB dialed: the stop closes those.
        assert set(peer["dialed_by"].values()) == {"GENSTAB"}
        dialed_before = second.accepted
        assert genstab.process is not None
        began = time.monotonic()
        genstab.process.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(genstab.process.wait, STOP_BOUND + 10)
        took = time.monotonic() - began
        assert code == 0
        assert took < STOP_BOUND, f"the stop took {took:.1f} s"
        assert second.accepted == dialed_before, "the stopping node dialed SACEUR's next address"
        log = genstab.log_path.read_text()
        after_stop = log[log.index("stopping") :]
        assert "link up" not in after_stop
        assert "node stopped" in after_stop
    finally:
        saceur.stop()
        genstab.stop()
        for relay in (first, second):
            await relay.close()
        for node in (saceur, genstab):
            await node.client.aclose()
