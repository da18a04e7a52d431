"""Throughput with many messages in flight, with the nodes' memory and CPU meanwhile.

``THROUGHPUT_MESSAGES`` are queued through ``POST /v1/messages/batch``; the figure is the first
``created_ms`` to the last ``delivered_ms``. One way, then both ways at once. Each node's RSS is
sampled every ``RSS_INTERVAL`` seconds for its peak, and its CPU is counted per thread: the
event loop's, and all the others' (the store's writer, the TLS and crypto helpers).
"""

from __future__ import annotations

import contextlib
import math
import os
import sqlite3
import threading
import time
from dataclasses import dataclass
from typing import Any

import psutil

from nodes import BenchNode, max_inbox_seq, max_num, message
from settings import BATCH_SIZE, DELIVERY_TIMEOUT, RSS_INTERVAL, THROUGHPUT_MESSAGES
from stats import r


@dataclass
class Direction:
    sender: str
    receiver: str
    messages: int
    span_s: float
    rate: float
    rejected: int
    received: int
    post_s: float
    signing_moments: int  # distinct signed_ms: at least this many dispatch rounds (fsync'd commits)


@dataclass
class ThroughputResult:
    directions: list[Direction]
    aggregate_rate: float
    wall_s: float
    rss_peak: dict[str, float]
    cpu_s: dict[str, dict[str, float]]  # per node: loop, other (threads), total
    bench_cpu_s: float
    machine_busy_percent: float  # of all cores together
    other_load_percent: float  # of all cores: busy, less the nodes and the bench (other work on the machine)
    steal_percent: float


def one_way_figures(one: ThroughputResult, rss_start: dict[str, float], rss_idle: dict[str, float]) -> dict[str, Any]:
    d = one.directions[0]
    cpu_total = sum(c["total"] for c in one.cpu_s.values()) / d.messages
    return {
        "throughput_msgs_per_s": r(d.rate, 1),
        "throughput_span_s": r(d.span_s),
        "throughput_delivered": d.messages,
        "throughput_rejected": d.rejected,
        "throughput_received": d.received,
        "throughput_enqueue_s": r(d.post_s),
        "rss_start_mb": {k: r(v, 1) for k, v in rss_start.items()},
        "rss_idle_mb_by_node": {k: r(v, 1) for k, v in rss_idle.items()},
        "rss_peak_mb_by_node": {k: r(v, 1) for k, v in one.rss_peak.items()},
        "rss_idle_mb": r(max(rss_idle.values()), 1),
        "rss_peak_mb": r(max(one.rss_peak.values()), 1),
        "cpu_us_per_msg": {
            name: {k: r(v / d.messages * 1e6, 1) for k, v in c.items()} for name, c in one.cpu_s.items()
        },
        "cpu_percent": {name: r(c["total"] / one.wall_s * 100, 1) for name, c in one.cpu_s.items()},
        "cpu_ceiling_msgs_per_s": r((os.cpu_count() or 1) / cpu_total, 0),
        "machine_busy_percent": r(one.machine_busy_percent, 1),
        "other_load_percent": r(one.other_load_percent, 1),
        "msgs_per_signing_moment": r(d.messages / d.signing_moments, 1),
        "steal_percent": r(one.steal_percent, 1),
        "bench_cpu_percent": r(one.bench_cpu_s / one.wall_s * 100, 1),
    }


def both_ways_figures(both: ThroughputResult) -> dict[str, Any]:
    total = sum(x.messages for x in both.directions)
    return {
        "bidir_msgs_per_s": {f"{x.sender}->{x.receiver}": r(x.rate, 1) for x in both.directions},
        "bidir_total_msgs_per_s": r(both.aggregate_rate, 1),
        "bidir_delivered": total,
        "bidir_rejected": sum(x.rejected for x in both.directions),
        "bidir_rss_peak_mb": r(max(both.rss_peak.values()), 1),
        "bidir_cpu_us_per_msg": {
            name: {k: r(v / total * 1e6, 1) for k, v in c.items()} for name, c in both.cpu_s.items()
        },
        "bidir_cpu_percent": {name: r(c["total"] / both.wall_s * 100, 1) for name, c in both.cpu_s.items()},
        "bidir_machine_busy_percent": r(both.machine_busy_percent, 1),
        "bidir_other_load_percent": r(both.other_load_percent, 1),
    }


def system_cpu() -> tuple[float, float, float]:
    """Machine-wide CPU seconds: busy (not idle, not iowait), steal, and total, over all cores."""
    times = psutil.cpu_times()
    total = sum(times)
    idle = times.idle + getattr(times, "iowait", 0.0)
    steal = getattr(times, "steal", 0.0)
    return total - idle - steal, steal, total


def cpu_by_thread(process: psutil.Process) -> dict[str, float]:
    """CPU seconds (user + system) of the event-loop thread and of all other threads."""
    loop = other = 0.0
    for thread in process.threads():
        if thread.id == process.pid:
            loop += thread.user_time + thread.system_time
        else:
            other += thread.user_time + thread.system_time
    return {"loop": loop, "other": other}


class Sampler(threading.Thread):
    """Samples every node's RSS every ``RSS_INTERVAL`` seconds and keeps the peak."""

    def __init__(self, processes: dict[str, psutil.Process]) -> None:
        super().__init__(daemon=True, name="rss-sampler")
        self.processes = processes
        self.peak = dict.fromkeys(processes, 0)
        self.samples = 0
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.is_set():
            for name, process in self.processes.items():
                with contextlib.suppress(psutil.Error):
                    self.peak[name] = max(self.peak[name], process.memory_info().rss)
            self.samples += 1
            self.halt.wait(RSS_INTERVAL)


class Posters:
    """One thread per sender, each queueing THROUGHPUT_MESSAGES through the batch API."""

    def __init__(self, nodes: dict[str, BenchNode], senders: list[tuple[str, str]]) -> None:
        self.nodes = nodes
        self.post_time: dict[str, float] = {}
        self.errors: list[BaseException] = []
        self.threads = [threading.Thread(target=self._post_all, args=pair) for pair in senders]

    def _post_all(self, sender: str, receiver: str) -> None:
        try:
            start = time.monotonic()
            batch = [message(receiver)] * BATCH_SIZE
            for _ in range(THROUGHPUT_MESSAGES // BATCH_SIZE):
                self.nodes[sender].api("POST", "/v1/messages/batch", json={"messages": batch})
            self.post_time[sender] = time.monotonic() - start
        except BaseException as exc:
            self.errors.append(exc)

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def join(self) -> None:
        for thread in self.threads:
            thread.join()
        if self.errors:
            raise self.errors[0]


def measure_throughput(nodes: dict[str, BenchNode], senders: list[tuple[str, str]]) -> ThroughputResult:
    """Queue THROUGHPUT_MESSAGES from each (sender, receiver) at once; wait until all are receipted."""
    processes = {name: psutil.Process(node.pid) for name, node in nodes.items()}
    base = {s: max_num(nodes[s]) for s, _ in senders}
    base_in = {r: max_inbox_seq(nodes[r], s) for s, r in senders}
    posters = Posters(nodes, senders)
    cpu_before = {name: cpu_by_thread(p) for name, p in processes.items()}
    me = psutil.Process()
    bench_before = sum(me.cpu_times()[:2])
    system_before = system_cpu()
    sampler = Sampler(processes)
    sampler.start()
    wall_start = time.monotonic()
    posters.start()
    readers = {s: nodes[s].reader() for s, _ in senders}
    try:
        posters.join()
        wait_all_answered(nodes, readers, base)
        wall_s = time.monotonic() - wall_start
    finally:
        sampler.halt.set()
        sampler.join()
    cpu_after = {name: cpu_by_thread(p) for name, p in processes.items()}
    bench_cpu = sum(me.cpu_times()[:2]) - bench_before
    busy, steal, elapsed = (after - before for after, before in zip(system_cpu(), system_before, strict=True))
    directions, aggregate_rate = tally(nodes, senders, readers, base, base_in, posters.post_time)
    cpu: dict[str, dict[str, float]] = {}
    for name in processes:
        loop = cpu_after[name]["loop"] - cpu_before[name]["loop"]
        other = cpu_after[name]["other"] - cpu_before[name]["other"]
        cpu[name] = {"loop": loop, "other": other, "total": loop + other}
    return ThroughputResult(
        directions=directions,
        aggregate_rate=aggregate_rate,
        wall_s=wall_s,
        rss_peak={name: peak / 2**20 for name, peak in sampler.peak.items()},
        cpu_s=cpu,
        bench_cpu_s=bench_cpu,
        machine_busy_percent=busy / elapsed * 100,
        other_load_percent=(busy - bench_cpu - sum(c["total"] for c in cpu.values())) / elapsed * 100,
        steal_percent=steal / elapsed * 100,
    )


def wait_all_answered(
    nodes: dict[str, BenchNode], readers: dict[str, sqlite3.Connection], base: dict[str, int]
) -> None:
    """Until every sender's messages of this run are delivered or rejected, looking every 50 ms."""
    deadline = time.monotonic() + DELIVERY_TIMEOUT
    pending = set(readers)
    while pending:
        for sender in list(pending):
            (done,) = (
                readers[sender]
                .execute(
                    "SELECT count(*) FROM outbox WHERE num>? AND (delivered_ms IS NOT NULL OR rejected_ms IS NOT NULL)",
                    (base[sender],),
                )
                .fetchone()
            )
            if done >= THROUGHPUT_MESSAGES:
                pending.discard(sender)
        if time.monotonic() > deadline:
            for node in nodes.values():
                node.check_alive()
            raise RuntimeError(f"throughput run not delivered within {DELIVERY_TIMEOUT} s: {sorted(pending)}")
        time.sleep(0.05)


def tally(
    nodes: dict[str, BenchNode],
    senders: list[tuple[str, str]],
    readers: dict[str, sqlite3.Connection],
    base: dict[str, int],
    base_in: dict[str, int],
    post_time: dict[str, float],
) -> tuple[list[Direction], float]:
    """Each direction's figures from the sender's store (closing its reader), and the rate of all
    together: every message of the run, over first created to last delivered."""
    directions = []
    first_created, last_delivered = math.inf, 0
    for sender, receiver in senders:
        created, delivered, count, rejected, moments = (
            readers[sender]
            .execute(
                "SELECT min(created_ms), max(delivered_ms), count(delivered_ms), count(rejected_ms), "
                "count(DISTINCT signed_ms) FROM outbox WHERE num>?",
                (base[sender],),
            )
            .fetchone()
        )
        readers[sender].close()
        first_created, last_delivered = min(first_created, created), max(last_delivered, delivered)
        span = (delivered - created) / 1000
        received = max_inbox_seq(nodes[receiver], sender) - base_in[receiver]
        directions.append(
            Direction(sender, receiver, count, span, count / span, rejected, received, post_time[sender], moments)
        )
    total = sum(d.messages for d in directions)
    return directions, total / ((last_delivered - first_created) / 1000)
