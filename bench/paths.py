"""Several paths: failover after a silent cut, the idle cost of probing, one path against two.

A third pair of nodes, each behind two relays (``hotline.testing.relay``, on an asyncio loop in
a thread of the bench): path 1 joins their first relays, path 2 their second ones. A silent cut
holds every byte of both relays of a path and closes nothing.

- *Failover*: the path carrying the ordinary traffic is cut, a ROUTINE message is queued at once,
  and its sender's own stamps say when it was delivered; the cut heals, the path comes back, and
  the next cut takes the other one. A ROUTINE message is the case that waits for the failover: a
  FLASH goes on every path and does not notice a cut (measured too).
- *Idle cost*: CPU time of each node and bytes through the relays over a few idle seconds,
  beside the single-path pair idle in the same seconds.
- *Latency*: one message in flight, ROUTINE and FLASH, on the two-path pair and on the main
  (single-path) pair, in turns.
"""

from __future__ import annotations

import asyncio
import statistics
import threading
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import psutil

from hotline.testing.process import QUIET_WATCH, configure, pair, wait_until
from hotline.testing.relay import Relay, relays_in_front
from nodes import BenchNode, message, start_pair
from settings import DELIVERY_TIMEOUT, FAILOVER_CUTS, IDLE_SECONDS, PATH_LATENCY_SAMPLES, PATH_PARTIES, POLL_INTERVAL
from stats import r

T = TypeVar("T")


class RelayLoop:
    """The relays' event loop, in a thread of its own: the bench itself blocks."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="relays", daemon=True)
        self.thread.start()

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(30.0)

    def call(self, act: Callable[[], object]) -> None:
        self.run(_call(act))

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10.0)
        self.loop.close()


async def _call(act: Callable[[], object]) -> None:
    act()


class TwoPathPair:
    def __init__(self, root: Path, relays: RelayLoop) -> None:
        self.relays = relays
        self.nodes = [BenchNode.create(root, party, settings={"watch": QUIET_WATCH}) for party in PATH_PARTIES]
        self.by_party: dict[str, list[Relay]] = {}
        for node in self.nodes:
            self.by_party[node.party] = relays.run(relays_in_front(node.config.listen, 2))
            configure(node.config.directory, {"advertise": [relay.address for relay in self.by_party[node.party]]})
            node.reload()
        pair(*self.nodes)

    def of_path(self, path: int) -> list[Relay]:
        return [relays[path - 1] for relays in self.by_party.values()]

    def hold(self, path: int) -> None:
        for relay in self.of_path(path):
            self.relays.call(relay.hold)

    def release(self, path: int) -> None:
        for relay in self.of_path(path):
            self.relays.call(relay.release)

    def bytes_passed(self) -> int:
        return sum(relay.bytes_passed for relays in self.by_party.values() for relay in relays)

    def paths(self, node: BenchNode) -> list[dict[str, Any]]:
        [peer] = node.api("GET", "/v1/status")["peers"]
        paths: list[dict[str, Any]] = peer["paths"]
        return paths

    def all_up(self) -> bool:
        return all(all(p["up"] for p in self.paths(node)) for node in self.nodes)

    def carrier(self, node: BenchNode) -> int:
        return int(next(p["path"] for p in self.paths(node) if "ordinary" in p["carries"]))

    def close(self) -> None:
        for relays in self.by_party.values():
            for relay in relays:
                self.relays.run(relay.close())


def delivered_in(sender: BenchNode, receiver: BenchNode, precedence: str) -> tuple[int, float]:
    """Queue one message and wait for its receipt: (created, delivered - created) in ms, the
    sender's own stamps."""
    number = int(
        sender.api("POST", "/v1/messages", json={**message(receiver.party), "precedence": precedence})["number"]
    )
    db = sender.reader()
    try:
        deadline = time.monotonic() + DELIVERY_TIMEOUT
        while True:
            row = db.execute("SELECT created_ms, delivered_ms FROM outbox WHERE num=?", (number,)).fetchone()
            if row is not None and row[1] is not None:
                return int(row[0]), float(row[1] - row[0])
            if time.monotonic() > deadline:
                sender.check_alive()
                raise RuntimeError(f"message {number} not delivered within {DELIVERY_TIMEOUT} s")
            time.sleep(POLL_INTERVAL)
    finally:
        db.close()


def measure_failover(net: TwoPathPair) -> tuple[list[float], list[float]]:
    """Each cut: ms from the cut to the delivery of a ROUTINE queued at once; and the same for
    a FLASH queued with it."""
    a, b = net.nodes
    routine, flash = [], []
    for _ in range(FAILOVER_CUTS):
        wait_until(net.all_up, 30.0, "both paths to be up at both nodes")
        path = net.carrier(a)
        net.hold(path)
        cut_ms = time.time_ns() // 1_000_000
        created, took = delivered_in(a, b, "ROUTINE")
        routine.append(created + took - cut_ms)
        created, took = delivered_in(a, b, "FLASH")
        flash.append(took)
        net.release(path)
    wait_until(net.all_up, 30.0, "both paths to be up at both nodes")
    return routine, flash


def measure_idle(net: TwoPathPair, single: list[BenchNode]) -> dict[str, Any]:
    """CPU of each node and bytes through the relays over IDLE_SECONDS with no traffic."""
    watched = {node.party: psutil.Process(node.pid) for node in [*net.nodes, *single]}
    before = {party: sum(p.cpu_times()[:2]) for party, p in watched.items()}
    bytes_before = net.bytes_passed()
    began = time.monotonic()
    time.sleep(IDLE_SECONDS)  # the measurement itself: idle nodes over a known time
    took = time.monotonic() - began
    cpu_ms_per_s = {party: (sum(p.cpu_times()[:2]) - before[party]) * 1000 / took for party, p in watched.items()}
    two = statistics.mean(cpu_ms_per_s[node.party] for node in net.nodes)
    one = statistics.mean(cpu_ms_per_s[node.party] for node in single)
    return {
        "idle_cpu_ms_per_s": {party: r(v, 2) for party, v in cpu_ms_per_s.items()},
        "idle_cpu_ms_per_s_two_paths": r(two, 2),
        "idle_cpu_ms_per_s_one_path": r(one, 2),
        "idle_cpu_ms_per_s_per_path": r(two / 2, 2),
        "idle_bytes_per_s_per_path": r((net.bytes_passed() - bytes_before) / took / 2, 1),
    }


def measure_latency(net: TwoPathPair, single: list[BenchNode]) -> dict[str, Any]:
    samples: dict[str, list[float]] = {"two_routine": [], "two_flash": [], "one_routine": [], "one_flash": []}
    for _ in range(PATH_LATENCY_SAMPLES):
        for name, (sender, receiver) in (("two", net.nodes), ("one", single)):
            samples[f"{name}_routine"].append(delivered_in(sender, receiver, "ROUTINE")[1])
            samples[f"{name}_flash"].append(delivered_in(sender, receiver, "FLASH")[1])
    for sender, receiver in (net.nodes, single):
        acknowledge_all(receiver, sender.party)
    return {f"latency_{name}_path_p50_ms": r(statistics.median(v)) for name, v in samples.items()}


def acknowledge_all(node: BenchNode, sender: str) -> None:
    """The bench's FLASH messages acknowledged, so that no alarm stands on the board of the pair
    the console figure uses next."""
    for item in node.api("GET", "/v1/inbox", params={"limit": 10_000}):
        if item["from"] == sender and item["due"] and item["acknowledged"] is None:
            node.api("POST", f"/v1/messages/{item['serial']}/ack", json={"by": "bench"})


def path_figures(root: Path, single: list[BenchNode], made: list[BenchNode]) -> dict[str, Any]:
    """Every figure of the paths; ``made`` is filled with the pair's nodes for the caller to stop."""
    relays = RelayLoop()
    net = TwoPathPair(root, relays)
    made += net.nodes
    try:
        start_pair(net.nodes)
        wait_until(net.all_up, 30.0, "both paths to be up at both nodes")
        figures = measure_idle(net, single)
        figures |= measure_latency(net, single)
        routine, flash = measure_failover(net)
        figures |= {
            "failover_samples": len(routine),
            "failover_routine_p50_ms": r(statistics.median(routine)),
            "failover_routine_max_ms": r(max(routine)),
            "failover_routine_samples_ms": [r(x) for x in routine],
            "failover_flash_p50_ms": r(statistics.median(flash)),
            "failover_flash_max_ms": r(max(flash)),
        }
        return figures
    finally:
        net.close()
        relays.close()
