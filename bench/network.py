"""A network of 57 parties (issue 19): a full mesh of real nodes on this machine.

The 57 participating States of the OSCE, one ``python -m hotline run`` process each, pinned to
one another as a network pins: one list of every card and fingerprint, read by each node with
``hotline peer add --file`` (``hotline.testing.mesh``). Measured:

- *Setup*: the seconds to make and pin the nodes, to start them, and for every link to come up.
- *FLASH to all*: ``POST /v1/messages`` with ``to: '*'`` at one node, and the time from the send
  to each of the 56 receipts, by the sender's own stamps; the last receipt is the figure. The
  floor beside it: signing 56 copies and verifying 56 receipts, two commits, a TLS round trip.
- *Memory*: each node's resident memory, and its proportional share of it (PSS: the pages
  shared among the 57, the interpreter's and the libraries', counted in shares); per peer, what
  a node of the mesh holds beyond a node with no peer, started alone just before the mesh, over
  its 56 peers.
- *Idle CPU*: all 57 processes together over ``NETWORK_IDLE_SECONDS``, in cores, a few seconds
  after every link is up and before any message, in ``NETWORK_IDLE_WINDOWS`` windows one after
  another: the median, and the worst (the goal is judged on the worst).
- *One party cut off*: its process frozen (SIGSTOP: every path silent, sockets open), a FLASH to
  all reaches the other 55, and the time until the sender's alarm names the absent party.
"""

from __future__ import annotations

import os
import signal
import statistics
import time
from pathlib import Path
from typing import Any

from floor import Floor
from hotline.testing.mesh import (
    OSCE_STATES,
    MeshNode,
    make_mesh,
    start_mesh,
    stop_mesh,
    timed_broadcast,
    wait_linked,
)
from hotline.testing.mesh import cpu_over as mesh_cpu
from hotline.testing.process import QUIET_WATCH, wait_until
from settings import NETWORK_FLASHES, NETWORK_IDLE_SECONDS, NETWORK_IDLE_WINDOWS
from stats import r

SETTLE_S = 5.0  # seconds after every link is up before the idle mesh is measured
UNREACHABLE_S = 1  # the alarm's grace here, so that the cut's alarm is measured in seconds
SETTINGS: dict[str, Any] = {"watch": QUIET_WATCH, "alarms": {"peer_unreachable": UNREACHABLE_S}}


def network_figures(root: Path, floor: Floor, pair_rss_mb: float) -> dict[str, Any]:
    nodes: list[MeshNode] = []
    try:
        return _measure(root, floor, pair_rss_mb, nodes)
    finally:
        for node in nodes:
            node.close()


def _measure(root: Path, floor: Floor, pair_rss_mb: float, nodes: list[MeshNode]) -> dict[str, Any]:
    lone_rss_mb = _lone_rss_mb(root)
    try:
        began = time.monotonic()
        nodes += make_mesh(root / "network", OSCE_STATES, SETTINGS)
        made = time.monotonic() - began
        began = time.monotonic()
        start_mesh(nodes, 300)
        started = time.monotonic() - began
        linked = wait_linked(nodes, 300)
        figures = {
            "network_parties": len(nodes),
            "network_make_s": r(made, 1),
            "network_start_s": r(started, 1),
            "network_linked_s": r(linked, 1),
            "network_flash_floor_ms": r(_broadcast_floor_ms(floor, len(nodes) - 1)),
        }
        time.sleep(SETTLE_S)  # the first probes and checkpoints of every new link, over
        idle = [mesh_cpu(nodes, NETWORK_IDLE_SECONDS) for _ in range(NETWORK_IDLE_WINDOWS)]
        figures["network_idle_cores"] = r(statistics.median(idle), 3)
        figures["network_idle_cores_max"] = r(max(idle), 3)
        figures |= _memory_figures(nodes, pair_rss_mb, lone_rss_mb)
        figures |= _flash_figures(nodes)
        figures |= _cut_figures(nodes)
    finally:
        stop_mesh(nodes, close=False)
    return figures


def _broadcast_floor_ms(floor: Floor, peers: int) -> float:
    """What one FLASH to ``peers`` parties cannot go below on this machine: each copy signed and
    its receipt verified at the sender, two commits and one TLS round trip."""
    return peers * (floor.sign_us + floor.verify_us) / 1000 + 2 * floor.fsync_ms + floor.tls_ms


def _flash_figures(nodes: list[MeshNode]) -> dict[str, Any]:
    """``NETWORK_FLASHES`` FLASHes to all, each from another node: the last receipt of each."""
    last, every = [], []
    for sample in range(NETWORK_FLASHES):
        sender = nodes[sample * 7 % len(nodes)]
        others = {node.party for node in nodes if node is not sender}
        sent = timed_broadcast(sender, f"FLASH to all, sample {sample + 1}", others, 60)
        took = list(sent.delivered().values())
        last.append(max(took))
        every += took
    return {
        "network_flash_samples": NETWORK_FLASHES,
        "network_flash_last_p50_ms": r(statistics.median(last), 1),
        "network_flash_last_max_ms": r(max(last), 1),
        "network_flash_receipt_p50_ms": r(statistics.median(every), 1),
    }


def _lone_rss_mb(root: Path) -> float:
    """The resident memory of a node with no peer at all, a few seconds after it started: what
    a mesh node holds beyond it is what its peers cost."""
    node = MeshNode.create(root / "lone", "LONE", settings=SETTINGS)
    try:
        node.launch()
        node.wait_ready(60)
        time.sleep(SETTLE_S)  # as the mesh's nodes settle before they are measured
        return node.rss_kib() / 1024
    finally:
        stop_mesh([node])


def _memory_figures(nodes: list[MeshNode], pair_rss_mb: float, lone_rss_mb: float) -> dict[str, Any]:
    rss = sorted(node.rss_kib() / 1024 for node in nodes)
    pss = sorted(node.pss_kib() / 1024 for node in nodes)
    median = statistics.median(rss)
    return {
        "network_rss_p50_mb": r(median, 1),
        "network_rss_max_mb": r(rss[-1], 1),
        # The same with shared pages counted in shares: what each node costs the machine.
        "network_pss_p50_mb": r(statistics.median(pss), 1),
        "network_pss_max_mb": r(pss[-1], 1),
        "network_pair_rss_mb": r(pair_rss_mb, 1),
        "network_lone_rss_mb": r(lone_rss_mb, 1),
        # Against a node with no peer, not the pair's: that one has carried the throughput runs,
        # and its heap has grown with them.
        "network_kib_per_peer": r((median - lone_rss_mb) * 1024 / (len(nodes) - 1), 0),
    }


def _cut_figures(nodes: list[MeshNode]) -> dict[str, Any]:
    sender, absent = nodes[0], nodes[-1]
    present = {node.party for node in nodes[1:-1]}
    cut = time.monotonic()
    os.kill(absent.pid, signal.SIGSTOP)
    try:
        sent = timed_broadcast(sender, "FLASH while one party is cut off", present, 60)
        took = sent.delivered()

        def alarmed() -> bool:
            alarms = sender.api("GET", "/v1/alarms")
            return any((a["kind"], a["peer"]) == ("peer-unreachable", absent.party) for a in alarms)

        wait_until(alarmed, 60, f"the alarm for the unreachable {absent.party}")
        alarm_s = time.monotonic() - cut
        missing = sorted(set(sent.addressees) - set(took) - {absent.party})
    finally:
        os.kill(absent.pid, signal.SIGCONT)
    return {
        "network_cut_reached": len(took),
        "network_cut_missing": missing,
        "network_cut_flash_last_ms": r(max(took.values()), 1),
        "network_cut_alarm_s": r(alarm_s, 1),
        "network_cut_alarm_grace_s": UNREACHABLE_S,
    }
