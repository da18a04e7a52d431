"""Benchmark pieces for the co-signed transcript (issue 4): the tree at a million leaves.

A store file is filled to ``LEAVES`` transcript entries the way the node appends them (entry
rows and tree hashes in one transaction), then measured: appends at that size, committed and
fsync'd in batches of ``APPEND_BATCH`` as the node's group commit does, and inclusion proofs
computed from the stored hashes. Not a test: run by ``bench/run.py``.
"""

from __future__ import annotations

import random
import statistics
import time
from pathlib import Path
from typing import Any

from hotline.log import inclusion_proof, leaf_hash, verify_inclusion
from hotline.storage.sql.transcript import append_many as _append_many
from hotline.storage.sql.treelog import subtree_hashes, tree_root
from hotline.storage.sqlite import connect

LEAVES = 1_000_000
FILL_BATCH = 10_000
APPEND_BATCH = 64  # entries per commit, as a dispatch batch
APPEND_COMMITS = 200
PROOF_SAMPLES = 500
ENTRY = bytes(range(256)) + bytes(100)  # about the size of a signed envelope


def entry(index: int) -> bytes:
    return index.to_bytes(8, "big") + ENTRY


def measure_log(directory: Path, leaves: int = LEAVES) -> dict[str, Any]:
    conn = connect(directory / "log-bench.db")
    try:
        began = time.perf_counter()
        size = 0
        while size < leaves:
            count = min(FILL_BATCH, leaves - size)
            conn.execute("BEGIN IMMEDIATE")
            _append_many(conn, size, [("envelope", entry(size + i), 0) for i in range(count)])
            conn.execute("COMMIT")
            size += count
        fill_s = time.perf_counter() - began

        began = time.perf_counter()
        for _ in range(APPEND_COMMITS):
            conn.execute("BEGIN IMMEDIATE")
            _append_many(conn, size, [("envelope", entry(size + i), 0) for i in range(APPEND_BATCH)])
            conn.execute("COMMIT")  # fsync'd: the store runs with synchronous=FULL
            size += APPEND_BATCH
        append_s = time.perf_counter() - began

        get_hash = subtree_hashes(conn)
        root = tree_root(conn, size)
        rng = random.Random(7)
        timings = []
        for _ in range(PROOF_SAMPLES):
            index = rng.randrange(size)
            start = time.perf_counter()
            proof = inclusion_proof(index, size, get_hash)
            timings.append(time.perf_counter() - start)
            verify_inclusion(leaf_hash(entry(index)), index, size, proof, root)  # and it is right
        db_mb = (directory / "log-bench.db").stat().st_size / 1e6
    finally:
        conn.close()
    return {
        "log_leaves": size,
        "log_fill_appends_per_s": leaves / fill_s,
        "log_appends_per_s_at_size": APPEND_COMMITS * APPEND_BATCH / append_s,
        "log_append_commit_ms": append_s / APPEND_COMMITS * 1000,
        "log_proof_p50_us": statistics.median(timings) * 1e6,
        "log_proof_p99_us": sorted(timings)[int(len(timings) * 0.99)] * 1e6,
        "log_proof_hashes": len(proof),
        "log_db_mb": db_mb,
    }
