"""The hotline benchmark: two real nodes on loopback, measured against this machine's floor.

Run with ``make bench`` (``.venv/bin/python bench/run.py``). It is a benchmark, not a test: it
prints figures and never fails on a missed goal. Every figure is printed on its own line beside
the floor or goal it should be compared with; the last line printed is one JSON object with
every figure, for tools.

What it does, in order, one module per figure:

1. ``floor.py``: the floor, measured on this machine in this run: one fsync'd SQLite commit, one
   TLS 1.3 round trip between two processes with mutual authentication, Ed25519 sign and verify.
2. ``diagnostics.py``: the node's own pieces alone: the protocol core's CPU per message and one
   awaited operation on its SQLite store.
3. ``transcript.py``: the co-signed transcript's tree at a million leaves.
4. ``nodes.py``: two fresh node directories (and a second pair that signs no checkpoints),
   pinned to each other through the real CLI, started as real ``python -m hotline run``
   processes.
5. ``latency.py``: latency with one message in flight, in turns with the second pair.
5a. ``paths.py``: a third pair behind two relays each (two paths): the idle cost of probing,
   latency with one path against two, and failover after silent cuts of the path in use.
6. ``console.py``: from ``send`` at one node to the FLASH alarm painted in the other's browser.
7. ``throughput.py``: 10,000 messages one way, then each way at once, with the nodes' memory
   (RSS, idle and at its peak) and CPU per message in each process and thread.
8. ``flash.py``: a FLASH alone, and a FLASH behind 10,000 queued ROUTINE messages.
9. ``drain.py``: 10,000 queued while the receiver is down, drained when it starts (API and
   channel apart), with a FLASH queued last that must leave first.
10. ``attacks.py``: a FLASH to a node under attack (1,000 idle connections on its peer port, a
   password flood, 12 consoles on a board of 50,000 waiting messages), beside a FLASH alone.
10a. ``transparency.py``: the *Transparency* page with twenty years of declarations from both
   sides, at the node that holds those 50,000 messages too.
10b. ``network.py``: a full mesh of 57 nodes (the OSCE's participating States), pinned from one
   card list: links up, a FLASH to all and its last receipt, memory per node and per peer, the
   idle mesh's CPU (shipped timers, then a network's), and a FLASH with one party cut off.
11. ``postgres.py``: a party on PostgreSQL: the server's own commit time, latency and throughput
   beside SQLite's, and takeovers by a standby node after SIGKILL and SIGSTOP of the active one.

``report.py`` prints the table and the summary lines.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import platform
import signal
import sqlite3
import ssl
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any

import psutil
from rich.console import Console

from hotline.testing.mesh import OSCE_STATES

sys.path.insert(0, str(Path(__file__).parent))  # run as a script: its sibling modules
from attacks import BOARD_BACKLOG, CONSOLES, IDLE_CONNECTIONS, attack_figures
from console import alarm_figures
from diagnostics import diagnostic_figures
from drain import drain_figures
from flash import flash_figures
from floor import Floor, measure_floor
from latency import api_health_figures, latency_figures
from network import network_figures
from nodes import BenchNode, make_pair, start_pair, stop_nodes
from paths import path_figures
from postgres import postgres_figures
from report import report
from settings import (
    ALARM_SAMPLES,
    FAILOVER_CUTS,
    FLASH_BACKLOG,
    FLASH_LOADED_SAMPLES,
    FLASH_UNLOADED_SAMPLES,
    LATENCY_SAMPLES,
    LATENCY_TURNS,
    PARTIES,
    PLAIN_PARTIES,
    TAKEOVERS,
    THROUGHPUT_MESSAGES,
)
from stats import r
from throughput import both_ways_figures, measure_throughput, one_way_figures
from transcript import LEAVES, measure_log
from transparency import SAMPLES as TRANSPARENCY_SAMPLES
from transparency import YEARS as TRANSPARENCY_YEARS
from transparency import transparency_figures

progress = Console(stderr=True, highlight=False)


def say(text: str) -> None:
    progress.print(f"[dim]bench:[/] {text}")


def run() -> dict[str, Any]:
    results: dict[str, Any] = {"date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "machine": machine()}
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="hotline-bench-") as tmp:
        root = Path(tmp)
        say("measuring the floor: fsync'd commit, TLS round trip, Ed25519")
        floor = measure_floor(root)
        results |= floor.figures()
        say("measuring the node's own pieces alone: protocol core CPU, store round trip")
        results |= diagnostic_figures(root)
        say(f"transcript: a log of {LEAVES:,} entries, then appends and inclusion proofs at that size")
        log = measure_log(root)
        results |= {k: (v if isinstance(v, int) else r(v, 1)) for k, v in log.items()}
        main_pair: list[BenchNode] = []
        plain_pair: list[BenchNode] = []
        try:
            results |= measure_nodes(root, main_pair, plain_pair, floor)
        finally:
            stop_nodes(plain_pair)
            codes = stop_nodes(main_pair)
            say(f"nodes stopped (exit codes {codes})")
        results["node_exit_codes"] = codes
        say(
            f"network: {len(OSCE_STATES)} nodes in a full mesh, pinned from one card list; FLASH to all,"
            " memory, idle CPU, one party cut off"
        )
        results |= network_figures(root, floor, results["rss_idle_mb"])
        say(f"PostgreSQL: commit floor, latency and throughput, then {TAKEOVERS} takeovers of a party's active node")
        results |= postgres_figures(root)
        results["bench_seconds"] = r(time.monotonic() - began, 1)
    return results


def measure_nodes(root: Path, main: list[BenchNode], plain: list[BenchNode], floor: Floor) -> dict[str, Any]:
    """Every figure of real nodes, in order; ``main`` and ``plain`` are filled with the nodes as
    they are made, for the caller to stop whatever happens."""
    say("starting a second pair that signs no checkpoints (the tree's hashes are always kept)")
    plain += make_pair(root, PLAIN_PARTIES, {"checkpoint_interval": 0})
    start_pair(plain)
    say("creating, pinning and starting two nodes")
    main += make_pair(root, PARTIES)
    start_pair(main)
    a, b = main
    nodes = {node.party: node for node in main}
    processes = {node.party: psutil.Process(node.pid) for node in main}
    rss_start = {name: p.memory_info().rss / 2**20 for name, p in processes.items()}
    figures = api_health_figures(a)
    say(
        f"latency: {LATENCY_SAMPLES} messages, one in flight, in {LATENCY_TURNS} turns with"
        " the pair that signs no checkpoints"
    )
    figures |= latency_figures(main, plain, floor)
    stop_nodes(plain)
    say(f"paths: a pair behind two relays each; idle cost, one path against two, {FAILOVER_CUTS} silent cuts")
    two_paths: list[BenchNode] = []
    try:
        figures |= path_figures(root, main, two_paths)
    finally:
        stop_nodes(two_paths)
    say(f"console: {ALARM_SAMPLES} FLASH, send at {a.party} -> alarm painted in {b.party}'s board (chromium)")
    figures |= alarm_figures(a, b, ALARM_SAMPLES)
    time.sleep(1.0)  # a second idle: the nodes' memory at rest, before any load
    rss_idle = {name: p.memory_info().rss / 2**20 for name, p in processes.items()}
    say(f"throughput: {THROUGHPUT_MESSAGES:,} messages {a.party} -> {b.party}")
    figures |= one_way_figures(measure_throughput(nodes, [(a.party, b.party)]), rss_start, rss_idle)
    say(f"throughput: {THROUGHPUT_MESSAGES:,} messages each way at once")
    figures |= both_ways_figures(measure_throughput(nodes, [(a.party, b.party), (b.party, a.party)]))
    say(
        f"FLASH: {FLASH_UNLOADED_SAMPLES} alone, then {FLASH_LOADED_SAMPLES} each behind"
        f" {FLASH_BACKLOG:,} queued ROUTINE"
    )
    figures |= flash_figures(a, b)
    say(f"drain: {THROUGHPUT_MESSAGES:,} queued at {a.party} while {b.party} is down, then {b.party} starts")
    figures |= drain_figures(a, b, figures["flash_unloaded_signed_p50_ms"])
    say(
        f"attacks on {b.party}: FLASH alone, then with {IDLE_CONNECTIONS:,} idle peer-port connections, during a"
        f" password flood, and while {CONSOLES} consoles watch a board of {BOARD_BACKLOG:,} waiting messages"
    )
    figures |= attack_figures(a, b)
    say(f"transparency: {2 * 2 * TRANSPARENCY_YEARS} declarations, then {b.party}'s page, {TRANSPARENCY_SAMPLES} times")
    figures |= transparency_figures(a, b)
    return figures


def machine() -> dict[str, Any]:
    model = None
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "openssl": ssl.OPENSSL_VERSION,
        "platform": platform.platform(),
    }


@contextlib.contextmanager
def terminate_cleanly() -> Iterator[None]:
    """Turn SIGTERM into SystemExit, so that ``finally`` blocks stop the nodes."""

    def handler(signum: int, _frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main() -> int:
    with terminate_cleanly():
        results = run()
    report(results)
    print(json.dumps(results, sort_keys=True), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
