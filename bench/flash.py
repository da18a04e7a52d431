"""A FLASH alone, and a FLASH queued behind a backlog of ROUTINE messages: precedence at work.

Each FLASH is timed in the sender's own stamps, created -> delivered (and signed -> delivered,
comparable with a FLASH signed when a link comes up, as in the drain).
"""

from __future__ import annotations

import sqlite3
import statistics
import time
from dataclasses import dataclass
from typing import Any

from hotline.testing.process import wait_until
from nodes import BenchNode, message
from settings import (
    BATCH_SIZE,
    DELIVERY_TIMEOUT,
    FLASH_BACKLOG,
    FLASH_LOADED_SAMPLES,
    FLASH_UNLOADED_SAMPLES,
    POLL_INTERVAL,
)
from stats import r

UNRECEIPTED = "SELECT count(*) FROM outbox WHERE receipt_id IS NULL AND rejection IS NULL"


@dataclass
class FlashResult:
    unloaded_ms: list[float]
    unloaded_signed_ms: list[float]  # signed -> delivered: comparable with a FLASH signed at link-up
    loaded_ms: list[float]
    backlog_at_send: list[int]  # ROUTINE messages still queued or unreceipted when each FLASH left


def flash_figures(sender: BenchNode, receiver: BenchNode) -> dict[str, Any]:
    flash = measure_flash_behind_backlog(sender, receiver)
    flash_unloaded = statistics.median(flash.unloaded_ms)
    flash_loaded = statistics.median(flash.loaded_ms)
    return {
        "flash_unloaded_p50_ms": r(flash_unloaded),
        "flash_unloaded_signed_p50_ms": r(statistics.median(flash.unloaded_signed_ms)),
        "flash_behind_backlog_p50_ms": r(flash_loaded),
        "flash_behind_backlog_max_ms": r(max(flash.loaded_ms)),
        "flash_behind_backlog_samples_ms": [r(x) for x in flash.loaded_ms],
        "flash_backlog_at_send": flash.backlog_at_send,
        "flash_loaded_over_unloaded": r(flash_loaded / flash_unloaded, 2),
    }


def deliver_flash(sender: BenchNode, receiver: BenchNode, db: sqlite3.Connection) -> tuple[float, float]:
    """One FLASH: (created -> delivered, signed -> delivered) in ms, the sender's own stamps."""
    flash = {**message(receiver.party), "precedence": "FLASH"}
    number = int(sender.api("POST", "/v1/messages", json=flash)["number"])
    deadline = time.monotonic() + 30.0
    while True:
        found = db.execute("SELECT created_ms, signed_ms, delivered_ms FROM outbox WHERE num=?", (number,)).fetchone()
        if found is not None and found[2] is not None:
            return float(found[2] - found[0]), float(found[2] - found[1])
        if time.monotonic() > deadline:
            sender.check_alive()
            raise RuntimeError(f"FLASH {number} not delivered within 30 s")
        time.sleep(POLL_INTERVAL)


def measure_flash_behind_backlog(sender: BenchNode, receiver: BenchNode) -> FlashResult:
    db = sender.reader()
    try:
        stages = [deliver_flash(sender, receiver, db) for _ in range(FLASH_UNLOADED_SAMPLES)]
        unloaded = [created for created, _ in stages]
        loaded, backlog = [], []
        for _ in range(FLASH_LOADED_SAMPLES):
            for start in range(0, FLASH_BACKLOG, BATCH_SIZE):
                batch = [message(receiver.party) for _ in range(min(BATCH_SIZE, FLASH_BACKLOG - start))]
                sender.api("POST", "/v1/messages/batch", json={"messages": batch})
            (waiting,) = db.execute(UNRECEIPTED).fetchone()
            backlog.append(int(waiting))
            loaded.append(deliver_flash(sender, receiver, db)[0])
            wait_until(
                lambda: db.execute(UNRECEIPTED).fetchone()[0] == 0,
                DELIVERY_TIMEOUT,
                "the ROUTINE backlog to drain",
                interval=0.2,
            )
    finally:
        db.close()
    return FlashResult(unloaded, [signed for _, signed in stages], loaded, backlog)
