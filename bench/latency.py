"""Latency with one message in flight, and what the co-signed transcript costs it.

``POST /v1/messages``, then wait (polling the sender's SQLite file read-only, not the API) until
the outbox row is ``delivered``. The figure is the node-internal ``created_ms`` ->
``delivered_ms`` (both stamped by the sender's clock, in ms). It is measured in turns with a
second pair that signs no checkpoints, so witnesses nothing, so that both see the same machine
(this VM's speed drifts by a third over minutes).
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import Any

from floor import Floor
from nodes import BenchNode, message
from settings import LATENCY_SAMPLES, LATENCY_TURNS, LATENCY_WARMUP, POLL_INTERVAL
from stats import percentile, r


@dataclass
class LatencySample:
    internal_ms: float  # created_ms -> delivered_ms, the sender's own stamps
    observed_ms: float  # before the POST -> the bench sees the row delivered
    post_ms: float  # the POST round trip (enqueue, durable, then dispatch)
    created_to_signed_ms: float
    signed_to_received_ms: float  # sender's signed_ms -> receiver's received_ms
    received_to_delivered_ms: float  # receiver's received_ms -> sender's delivered_ms


def api_health_figures(node: BenchNode) -> dict[str, Any]:
    """The API's own round trip, with nothing behind it."""
    health = []
    for _ in range(20):
        start = time.perf_counter()
        node.client.get("/v1/health")  # 200 or 503 (alarmed): the same work
        health.append((time.perf_counter() - start) * 1000)
    return {"api_health_round_trip_ms": r(statistics.median(health))}


def latency_figures(main: list[BenchNode], plain: list[BenchNode], floor: Floor) -> dict[str, Any]:
    samples, plain_samples = latency_in_turns(main, plain)
    plain_mean = r(statistics.fmean([s.internal_ms for s in plain_samples]))
    internal = [s.internal_ms for s in samples]
    observed = [s.observed_ms for s in samples]
    p50, p99 = statistics.median(internal), percentile(internal, 99)
    return {
        "latency_no_checkpoints_p50_ms": r(statistics.median([s.internal_ms for s in plain_samples])),
        "latency_no_checkpoints_mean_ms": plain_mean,
        # Means, not medians: the stamps are whole milliseconds, and 10 % of 3 ms is below that.
        "latency_transcript_cost": r(statistics.fmean(internal) / plain_mean - 1, 3),
        "latency_p50_ms": r(p50),
        "latency_p99_ms": r(p99),
        "latency_mean_ms": r(statistics.fmean(internal)),
        "latency_p50_over_floor": r(p50 / floor.floor_ms, 2),
        "latency_p50_over_cold_floor": r(p50 / floor.cold_floor_ms, 2),
        "latency_observed_p50_ms": r(statistics.median(observed)),
        "latency_observed_p99_ms": r(percentile(observed, 99)),
        "post_p50_ms": r(statistics.median([s.post_ms for s in samples])),
        "latency_stages_mean_ms": {
            "created_to_signed": r(statistics.fmean([s.created_to_signed_ms for s in samples])),
            "signed_to_received": r(statistics.fmean([s.signed_to_received_ms for s in samples])),
            "received_to_delivered": r(statistics.fmean([s.received_to_delivered_ms for s in samples])),
        },
    }


def latency_in_turns(main: list[BenchNode], plain: list[BenchNode]) -> tuple[list[LatencySample], list[LatencySample]]:
    ours: list[LatencySample] = []
    theirs: list[LatencySample] = []
    block = LATENCY_SAMPLES // LATENCY_TURNS
    for turn in range(LATENCY_TURNS):
        warmup = LATENCY_WARMUP if turn == 0 else 2
        ours += measure_latency(main[0], main[1], count=block, warmup=warmup)
        theirs += measure_latency(plain[0], plain[1], count=block, warmup=warmup)
    return ours, theirs


def measure_latency(
    sender: BenchNode, receiver: BenchNode, count: int = LATENCY_SAMPLES, warmup: int = LATENCY_WARMUP
) -> list[LatencySample]:
    samples = []
    db = sender.reader()
    peer_db = receiver.reader()
    try:
        for i in range(warmup + count):
            start = time.time()
            row = sender.api("POST", "/v1/messages", json=message(receiver.party))
            posted = time.time()
            number = int(row["number"])
            deadline = time.monotonic() + 10.0
            while True:
                found = db.execute(
                    "SELECT created_ms, signed_ms, delivered_ms, seq FROM outbox WHERE num=?", (number,)
                ).fetchone()
                if found is not None and found[2] is not None:
                    break
                if time.monotonic() > deadline:
                    sender.check_alive()
                    receiver.check_alive()
                    raise RuntimeError(f"message {number} not delivered within 10 s")
                time.sleep(POLL_INTERVAL)
            seen = time.time()
            created_ms, signed_ms, delivered_ms, seq = found
            (received_ms,) = peer_db.execute(
                "SELECT received_ms FROM inbox WHERE peer=? AND seq=?", (sender.party, seq)
            ).fetchone()
            if i >= warmup:
                samples.append(
                    LatencySample(
                        internal_ms=float(delivered_ms - created_ms),
                        observed_ms=(seen - start) * 1000,
                        post_ms=(posted - start) * 1000,
                        created_to_signed_ms=signed_ms - created_ms,
                        signed_to_received_ms=received_ms - signed_ms,
                        received_to_delivered_ms=delivered_ms - received_ms,
                    )
                )
    finally:
        db.close()
        peer_db.close()
    return samples
