"""Queue while the peer is down, then drain: what the API costs apart from what the channel costs.

``THROUGHPUT_MESSAGES`` are queued while the receiver is stopped, then a FLASH behind them all;
the receiver starts and the backlog drains. The FLASH must leave first.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import psutil

from nodes import BenchNode, max_num, message
from settings import BATCH_SIZE, DELIVERY_TIMEOUT, THROUGHPUT_MESSAGES
from stats import r
from throughput import cpu_by_thread


@dataclass
class DrainResult:
    enqueue_rate: float  # messages/s queued through the API while the peer was down
    drain_rate: float  # messages/s from the first transmission to the last receipt
    sender_cpu_us: dict[str, float]  # per message, during the drain
    receiver_cpu_us: dict[str, float]  # per message, from the receiver's start to the end of the drain
    flash_position: int  # where the FLASH queued last left, among this run's envelopes (1 = first)
    flash_signed_to_delivered_ms: float


def drain_figures(sender: BenchNode, receiver: BenchNode, flash_unloaded_signed_p50_ms: float) -> dict[str, Any]:
    drain = measure_drain(sender, receiver)
    return {
        "enqueue_msgs_per_s": r(drain.enqueue_rate, 1),
        "drain_msgs_per_s": r(drain.drain_rate, 1),
        "drain_sender_cpu_us_per_msg": {k: r(v, 1) for k, v in drain.sender_cpu_us.items()},
        "drain_receiver_cpu_us_per_msg": {k: r(v, 1) for k, v in drain.receiver_cpu_us.items()},
        "outage_flash_position": drain.flash_position,
        "outage_flash_signed_to_delivered_ms": r(drain.flash_signed_to_delivered_ms),
        "outage_flash_over_unloaded": r(drain.flash_signed_to_delivered_ms / flash_unloaded_signed_p50_ms, 2),
    }


def measure_drain(sender: BenchNode, receiver: BenchNode) -> DrainResult:
    """Queue THROUGHPUT_MESSAGES while the receiver is down, then start it and time the drain.
    This separates what the API costs (enqueueing) from what the channel costs (delivering)."""
    base = max_num(sender)
    receiver.stop()
    start = time.monotonic()
    batch = [message(receiver.party)] * BATCH_SIZE
    for _ in range(THROUGHPUT_MESSAGES // BATCH_SIZE):
        sender.api("POST", "/v1/messages/batch", json={"messages": batch})
    enqueue_s = time.monotonic() - start
    # A FLASH queued last, behind them all: it must leave first when the peer returns.
    flash = int(sender.api("POST", "/v1/messages", json={**message(receiver.party), "precedence": "FLASH"})["number"])
    time.sleep(0.5)  # let the dispatcher finish signing its window while nobody listens
    process = psutil.Process(sender.pid)
    before = cpu_by_thread(process)
    receiver.start()
    receiving = psutil.Process(receiver.pid)
    receiver_before = cpu_by_thread(receiving)
    db = sender.reader()
    try:
        deadline = time.monotonic() + DELIVERY_TIMEOUT
        while True:
            (done,) = db.execute("SELECT count(delivered_ms) FROM outbox WHERE num>?", (base,)).fetchone()
            if done >= THROUGHPUT_MESSAGES + 1:
                break
            if time.monotonic() > deadline:
                sender.check_alive()
                receiver.check_alive()
                raise RuntimeError(f"drain not finished within {DELIVERY_TIMEOUT} s ({done} delivered)")
            time.sleep(0.05)
        after = cpu_by_thread(process)
        receiver_after = cpu_by_thread(receiving)
        first_sent, last_delivered, count = db.execute(
            "SELECT min(sent_ms), max(delivered_ms), count(delivered_ms) FROM outbox WHERE num>?", (base,)
        ).fetchone()
        flash_seq, flash_signed, flash_delivered = db.execute(
            "SELECT seq, signed_ms, delivered_ms FROM outbox WHERE num=?", (flash,)
        ).fetchone()
        (first_seq,) = db.execute("SELECT min(seq) FROM outbox WHERE num>?", (base,)).fetchone()
    finally:
        db.close()
    return DrainResult(
        enqueue_rate=THROUGHPUT_MESSAGES / enqueue_s,
        drain_rate=count / ((last_delivered - first_sent) / 1000),
        sender_cpu_us={k: (after[k] - before[k]) / count * 1e6 for k in before},
        receiver_cpu_us={k: (receiver_after[k] - receiver_before[k]) / count * 1e6 for k in receiver_before},
        flash_position=flash_seq - first_seq + 1,
        flash_signed_to_delivered_ms=float(flash_delivered - flash_signed),
    )
