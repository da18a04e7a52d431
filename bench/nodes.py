"""The benchmark's nodes: real ``python -m hotline run`` processes on loopback, made, paired,
started and stopped by ``hotline.testing.process`` as the tests' and the demo's are.

The bench watches a node through a read-only connection to its store: that costs the node
nothing, where asking its API would be part of what is measured.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hotline.testing.process import QUIET_WATCH, BlockingNode, NodeProcessError, pair, wait_until
from settings import TEXT


@dataclass(eq=False)
class BenchNode(BlockingNode):
    # Not unbuffered: with PYTHONUNBUFFERED every log line costs two write() calls.
    unbuffered: bool | None = False
    timeout: float = 60.0

    def reader(self) -> sqlite3.Connection:
        """A read-only connection to the node's store: watching it costs the node nothing."""
        return sqlite3.connect(f"file:{self.config.store_path}?mode=ro", uri=True, isolation_level=None)

    def linked(self, peer: str) -> bool:
        self.check_alive()
        return self.connected(peer)


def make_pair(root: Path, parties: tuple[str, str], timers: dict[str, Any] | None = None) -> list[BenchNode]:
    """Two nodes pinned to each other through the real CLI; only the bench's own traffic: no
    automatic link tests or readiness checks during a run."""
    settings: dict[str, Any] = {"watch": QUIET_WATCH}
    if timers is not None:
        settings["timers"] = timers
    nodes = [BenchNode.create(root, party, settings=settings) for party in parties]
    pair(*nodes)
    return nodes


def start_pair(nodes: list[BenchNode]) -> None:
    a, b = nodes
    for node in nodes:
        node.start()
    wait_until(lambda: a.linked(b.party) and b.linked(a.party), 30.0, "the link to come up")


def stop_nodes(nodes: list[BenchNode]) -> dict[str, int | None]:
    """Stop each; one that overran its bound was killed, and its exit code says so."""
    codes: dict[str, int | None] = {}
    for node in nodes:
        try:
            codes[node.party] = node.stop()
        except NodeProcessError:
            codes[node.party] = node.process.returncode if node.process else None
        node.close()
    return codes


def message(to: str) -> dict[str, Any]:
    return {"to": to, "body": {"text": TEXT, "lang": "en"}}


def max_num(node: BenchNode) -> int:
    db = node.reader()
    try:
        (last,) = db.execute("SELECT max(num) FROM outbox").fetchone()
        return int(last or 0)
    finally:
        db.close()


def max_inbox_seq(node: BenchNode, peer: str) -> int:
    db = node.reader()
    try:
        (last,) = db.execute("SELECT max(seq) FROM inbox WHERE peer=?", (peer,)).fetchone()
        return int(last or 0)
    finally:
        db.close()
