"""Diagnostics: the node's own pieces, measured alone, to explain the figures of the whole.

The protocol core's CPU per message (signing, verifying, canonical CBOR, form checks) and one
awaited operation on the node's SQLite store.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from pathlib import Path
from typing import Any

from settings import PARTIES, RECEIPT_BATCH, TEXT
from stats import r


def diagnostic_figures(directory: Path) -> dict[str, Any]:
    core = measure_core_cpu()
    store_write_ms, store_read_ms = measure_store_round_trip(directory)
    # Each node is one CPython process, so in effect one core: its share of the protocol core
    # alone caps what one node can carry.
    core_sender = core["sender_seal_envelope_us"] + core["sender_check_receipt_us"]
    core_receiver = core["receiver_check_and_receipt_us"]
    return {
        "core_ceiling_msgs_per_s": r(1e6 / max(core_sender, core_receiver), 0),
        "core_cpu_us": {k: r(v, 1) for k, v in core.items() if k != "envelope_bytes"},
        "envelope_bytes": int(core["envelope_bytes"]),
        "store_write_round_trip_ms": r(store_write_ms),
        "store_read_round_trip_ms": r(store_read_ms),
    }


def measure_core_cpu() -> dict[str, float]:
    """Median microseconds of the node's pure per-message work (its own code, no I/O): what the
    sender does to sign an envelope and check its receipt, and what the receiver does to check an
    envelope and sign the receipt. Every message costs at least this much CPU, whatever the I/O.
    Under load one receipt names a whole batch, so its cost is shared: measured here for a batch
    of RECEIPT_BATCH envelopes and divided among them."""
    from hotline.crypto import generate_signing_key
    from hotline.envelope import Envelope, Receipt, ReceiptEntry, cbor, object_id, open_signed
    from hotline.forms import validate_body

    sender, receiver = generate_signing_key(), generate_signing_key()
    body = cbor.encode({"text": TEXT, "lang": "en"})
    seal_us, check_us, receipt_us, sign_receipt_us, envelope_bytes = [], [], [], [], 0
    entries: list[ReceiptEntry] = []
    for i in range(500):
        start = time.perf_counter_ns()
        envelope = Envelope(
            sender=PARTIES[0],
            recipient=PARTIES[1],
            seq=i + 1,
            number=i + 1,
            sent_ms=1_700_000_000_000 + i,
            kind="free_text",
            body=cbor.decode(body),
        ).seal(sender)
        object_id(envelope)
        middle = time.perf_counter_ns()
        opened = open_signed(envelope, "envelope")
        opened.verify(sender.verify_key)
        parsed = Envelope.from_opened(opened)
        validate_body(parsed.kind, parsed.kind_version, parsed.body)
        entries.append(ReceiptEntry(parsed.seq, opened.id, 2 * i))
        cbor.encode(parsed.body)
        end = time.perf_counter_ns()
        seal_us.append((middle - start) / 1e3)
        check_us.append((end - middle) / 1e3)
        envelope_bytes = len(envelope)
        if len(entries) == RECEIPT_BATCH:
            start = time.perf_counter_ns()
            receipt = Receipt(PARTIES[1], PARTIES[0], 1_700_000_000_000 + i, tuple(entries)).seal(receiver)
            middle = time.perf_counter_ns()
            opened_receipt = open_signed(receipt, "receipt")
            opened_receipt.verify(receiver.verify_key)
            Receipt.from_opened(opened_receipt)
            end = time.perf_counter_ns()
            sign_receipt_us.append((middle - start) / 1e3 / RECEIPT_BATCH)
            receipt_us.append((end - middle) / 1e3 / RECEIPT_BATCH)
            entries = []
    return {
        "sender_seal_envelope_us": statistics.median(seal_us),
        "receiver_check_and_receipt_us": statistics.median(check_us) + statistics.median(sign_receipt_us),
        "sender_check_receipt_us": statistics.median(receipt_us),
        "envelope_bytes": envelope_bytes,
    }


async def _store_round_trips(path: Path) -> tuple[list[float], list[float]]:
    from hotline.storage import Draft, PeerRecord, SqliteStore

    store = SqliteStore(path)
    try:
        await store.add_peer(PeerRecord(PARTIES[1], b"\0" * 32, b"", ("127.0.0.1:1",), "", 0))
        writes, reads = [], []
        for i in range(220):
            draft = Draft(PARTIES[1], "ROUTINE", "UNCLASSIFIED", "free_text", 1, b"x" * 200, None, i)
            start = time.perf_counter_ns()
            await store.enqueue([draft])
            middle = time.perf_counter_ns()
            await store.queue_depth(PARTIES[1])
            end = time.perf_counter_ns()
            if i >= 20:
                writes.append((middle - start) / 1e6)
                reads.append((end - middle) / 1e6)
        return writes, reads
    finally:
        await store.close()


def measure_store_round_trip(directory: Path) -> tuple[float, float]:
    """Median ms of one awaited operation on the node's own SqliteStore, from an event loop: a
    one-message enqueue (a commit with fsync) and a read (no fsync). Beside the raw commit, this
    shows what the writer thread and the hand-off to and from the event loop add per hop."""
    writes, reads = asyncio.run(_store_round_trips(directory / "store-diag.db"))
    return statistics.median(writes), statistics.median(reads)
