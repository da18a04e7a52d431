"""A party on PostgreSQL: its commit floor, its latency and throughput beside SQLite's, and
the time a standby takes to carry on after the active node is killed or frozen.

A PostgreSQL server of its own (``hotline.testing.postgres``: Debian's, fsync on, on loopback).

1. The floor: one ``INSERT`` and ``COMMIT`` with ``synchronous_commit=on`` from a client on
   this machine (a round trip to the server and its WAL fsync), the median of many.
2. ALPHA on PostgreSQL (one node) sending to BRAVO on SQLite: latency with one message in
   flight (``created_ms`` to ``delivered_ms``, the sender's stamps), and throughput
   (``POSTGRES_MESSAGES`` through the batch API, first created to last delivered).
3. ALPHA with two nodes: ``TAKEOVERS`` faults of the active node, SIGKILL and SIGSTOP in turn.
   Each figure is from the fault until BRAVO holds a message ALPHA accepted after the fault
   (sent through whichever node takes it, as an operator's tool would), and until the standby
   says it is active. The killed node is started again, the frozen one woken; each stands by.
"""

from __future__ import annotations

import os
import signal
import statistics
import time
from pathlib import Path
from typing import Any

import httpx
import psycopg

from hotline.node import join_node
from hotline.testing.postgres import PostgresServer, postgres_bindir
from hotline.testing.process import QUIET_WATCH, free_port, pair, wait_until
from nodes import BenchNode, message, stop_nodes
from settings import BATCH_SIZE, POLL_INTERVAL, POSTGRES_LATENCY_SAMPLES, POSTGRES_MESSAGES, TAKEOVERS
from stats import percentile, r


def postgres_figures(root: Path) -> dict[str, Any]:
    bindir = postgres_bindir()
    if bindir is None:
        return {"postgres": "not measured: PostgreSQL's server programs are not installed"}
    server = PostgresServer(bindir).init().start()
    nodes: list[BenchNode] = []
    try:
        figures = commit_floor(server.create_database("floor"))
        url = server.create_database("party")
        alpha = BenchNode.create(root / "pg", "ALPHA", settings={"watch": QUIET_WATCH}, store=url)
        bravo = BenchNode.create(root / "pg", "BRAVO", settings={"watch": QUIET_WATCH})
        pair(alpha, bravo)
        nodes += [alpha, bravo]
        for node in nodes:
            node.start()
        wait_until(lambda: alpha.connected("BRAVO") and bravo.connected("ALPHA"), 30, "the link to come up")
        figures |= latency(alpha, bravo, url)
        figures |= throughput(alpha, url)
        stop_nodes(nodes)
        nodes.clear()
        figures |= takeovers(root / "ha", server.create_database("ha"), nodes)
        return figures
    finally:
        stop_nodes(nodes)
        server.remove()


def commit_floor(url: str, samples: int = 300) -> dict[str, Any]:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET synchronous_commit = on")
        conn.execute("CREATE TABLE t (n BIGINT, at BIGINT)")
        took = []
        for n in range(samples):
            start = time.perf_counter()
            with conn.transaction():
                conn.execute("INSERT INTO t VALUES (%s, %s)", (n, n))
            took.append((time.perf_counter() - start) * 1000)
    return {"postgres_commit_p50_ms": r(statistics.median(took)), "postgres_commit_p99_ms": r(percentile(took, 99))}


def latency(alpha: BenchNode, bravo: BenchNode, url: str) -> dict[str, Any]:
    internal = []
    with psycopg.connect(url, autocommit=True) as db:
        for i in range(POSTGRES_LATENCY_SAMPLES + 10):
            number = int(alpha.api("POST", "/v1/messages", json=message(bravo.party))["number"])
            deadline = time.monotonic() + 10
            while True:
                row = db.execute("SELECT created_ms, delivered_ms FROM outbox WHERE num = %s", (number,)).fetchone()
                if row is not None and row[1] is not None:
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"message {number} not delivered within 10 s")
                time.sleep(POLL_INTERVAL)
            if i >= 10:
                internal.append(float(row[1] - row[0]))
    return {
        "postgres_latency_p50_ms": r(statistics.median(internal)),
        "postgres_latency_p99_ms": r(percentile(internal, 99)),
    }


def throughput(alpha: BenchNode, url: str) -> dict[str, Any]:
    with psycopg.connect(url, autocommit=True) as db:
        (before,) = db.execute("SELECT coalesce(max(num), 0) FROM outbox").fetchone() or (0,)
        for start in range(0, POSTGRES_MESSAGES, BATCH_SIZE):
            batch = [message("BRAVO") for _ in range(min(BATCH_SIZE, POSTGRES_MESSAGES - start))]
            alpha.api("POST", "/v1/messages/batch", json={"messages": batch})
        deadline = time.monotonic() + 120
        while True:
            (done,) = db.execute(
                "SELECT count(*) FROM outbox WHERE num > %s AND delivered_ms IS NOT NULL", (before,)
            ).fetchone() or (0,)
            if done >= POSTGRES_MESSAGES:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{done} of {POSTGRES_MESSAGES} delivered within 120 s")
            time.sleep(0.05)
        first, last = db.execute(
            "SELECT min(created_ms), max(delivered_ms) FROM outbox WHERE num > %s", (before,)
        ).fetchone() or (0, 0)
    span = (last - first) / 1000
    return {"postgres_throughput_msgs_per_s": r(POSTGRES_MESSAGES / span, 1), "postgres_throughput_span_s": r(span)}


def role(node: BenchNode) -> str | None:
    try:
        answer = node.client.get("/v1/status", timeout=0.5)
        return str(answer.json().get("role")) if answer.status_code == 200 else None
    except (httpx.HTTPError, ValueError):
        return None


def send_anywhere(nodes: list[BenchNode], ref: str) -> None:
    """Send through whichever node takes it (each try waits 0.5 s at most), as a client would."""
    body = {**message("BRAVO"), "ref": ref}
    for attempt in range(400):
        node = nodes[attempt % len(nodes)]
        if not node.running():
            continue
        try:
            if node.client.post("/v1/messages", json=body, timeout=0.5).status_code in (200, 201):
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.02)
    raise RuntimeError(f"{ref} was not accepted by any node")


def takeovers(root: Path, url: str, nodes: list[BenchNode]) -> dict[str, Any]:
    first = BenchNode.create(root, "ALPHA", settings={"watch": QUIET_WATCH}, store=url)
    listen, api = f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"
    second = BenchNode(join_node(root / "alpha2", first.config.directory, listen, api), root / "alpha2.log")
    first.reload()
    bravo = BenchNode.create(root, "BRAVO", settings={"watch": QUIET_WATCH})
    pair(first, bravo)
    alpha = [first, second]
    nodes += [first, second, bravo]
    first.start()
    wait_until(lambda: role(first) == "active", 30, "the first node to be active")
    second.start()
    bravo.start()
    wait_until(lambda: bravo.connected("ALPHA"), 30, "BRAVO to link with ALPHA")
    results: dict[str, list[tuple[float, float]]] = {"SIGKILL": [], "SIGSTOP": []}
    bravo_db = bravo.reader()
    try:
        for n in range(TAKEOVERS):
            fault = "SIGKILL" if n % 2 == 0 else "SIGSTOP"
            active = next(node for node in alpha if role(node) == "active")
            standby = next(node for node in alpha if node is not active)
            send_anywhere(alpha, f"before-{n}")
            wait_until(lambda count=2 * n + 1: held(bravo_db, count), 30, "BRAVO to hold the message before the fault")
            faulted = time.monotonic()
            if fault == "SIGKILL":
                active.kill()
            else:
                os.kill(active.pid, signal.SIGSTOP)
            send_anywhere([standby, active], f"after-{n}")
            wait_until(lambda count=2 * n + 2: held(bravo_db, count), 30, "BRAVO to hold the message after the fault")
            delivered = time.monotonic() - faulted
            wait_until(lambda node=standby: role(node) == "active", 30, "the standby to say it is active")
            results[fault].append((delivered, time.monotonic() - faulted))
            if fault == "SIGKILL":
                active.start()
            else:
                os.kill(active.pid, signal.SIGCONT)
            wait_until(lambda node=active: role(node) == "standby", 30, "the faulted node to stand by")
    finally:
        bravo_db.close()
        for node in alpha:
            if node.running():
                os.kill(node.pid, signal.SIGCONT)
    figures: dict[str, Any] = {"takeovers": TAKEOVERS}
    for fault, times in results.items():
        again = [d for d, _ in times]
        figures[f"takeover_{fault.lower()}_delivered_again_s"] = [r(d) for d in again]
        figures[f"takeover_{fault.lower()}_max_s"] = r(max(again))
        figures[f"takeover_{fault.lower()}_active_s"] = [r(a) for _, a in times]
    return figures


def held(db: Any, count: int) -> bool:
    """BRAVO holds ``count`` messages from ALPHA (each takeover sends two: before, after)."""
    (found,) = db.execute("SELECT count(*) FROM inbox WHERE peer = 'ALPHA'").fetchone()
    return int(found) >= count
