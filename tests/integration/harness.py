"""Real node processes for integration tests: each node is `python -m hotline run` on loopback.

The processes themselves are ``hotline.testing.process``'s, shared with the benchmark and the
demo; this module keeps the tests' names for them and what only the tests need (a direct look
into a store, the demo's ports; the relay that cuts a path is ``hotline.testing.relay``).
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hotline.testing.process import (
    QUIET_WATCH,
    AsyncNode,
    claim_ports,
    configure,
    free_port,
    kill_leftovers,
    pair,
    pin,
    stop_all,
    wait_for,
)
from hotline.testing.relay import Relay

__all__ = [
    "QUIET_WATCH",
    "NodeProcess",
    "Relay",
    "configure",
    "free_demo_base",
    "free_port",
    "kill_leftovers",
    "make_node",
    "paired",
    "pin",
    "query",
    "reload",
    "stop_all",
    "wait_for",
]


def free_demo_base() -> int:
    """A base port for the demo (it uses base+1, +2, +3, +101, +102, +103), all free now, below
    the kernel's ephemeral range (from which every other test's ports come) and never given twice."""
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768  # Linux's default
    for base in range(20000, low - 103, 211):
        if claim_ports([base + n for n in (1, 2, 3, 101, 102, 103)]):
            return base
    raise RuntimeError("no six free ports for the demo below the ephemeral range")


@dataclass(eq=False)
class NodeProcess(AsyncNode):
    """The tests' node: it logs at DEBUG, line by line, so that a test reads what just happened."""

    run_args: list[str] = field(default_factory=lambda: ["--log-level", "DEBUG"])
    unbuffered: bool | None = True


def make_node(
    root: Path,
    party: str,
    language: str = "en",
    advertise: str | None = None,
    watch: dict[str, Any] | None = None,
    deadlines: dict[str, int] | None = None,
    timers: dict[str, Any] | None = None,
    witness_only: bool = False,
    more: dict[str, Any] | None = None,
) -> NodeProcess:
    """A node of the tests, quiet unless told; ``more``: other tables of its config.toml."""
    settings = {"watch": QUIET_WATCH if watch is None else watch, **(more or {})}
    if deadlines is not None:
        settings["deadlines"] = deadlines
    if timers is not None:
        settings["timers"] = timers
    addresses = (advertise,) if advertise else ()
    return NodeProcess.create(
        root, party, language=language, advertise=addresses, witness_only=witness_only, settings=settings
    )


@contextlib.asynccontextmanager
async def paired(
    root: Path,
    watch: dict[str, Any] | None = None,
    deadlines: dict[str, int] | None = None,
    timers: dict[str, Any] | None = None,
    more: Callable[[], dict[str, Any]] | None = None,
) -> AsyncIterator[tuple[NodeProcess, NodeProcess]]:
    """SACEUR (English) and GENSTAB (Russian), pinned to each other, running; stopped after.
    ``more``: other tables of each node's config.toml, made for each (a port of its own)."""
    a = make_node(root, "SACEUR", "en", watch=watch, deadlines=deadlines, timers=timers, more=more() if more else None)
    b = make_node(root, "GENSTAB", "ru", watch=watch, deadlines=deadlines, timers=timers, more=more() if more else None)
    pair(a, b)
    try:
        await a.start()
        await b.start()
        yield a, b
    finally:
        try:
            stop_all((a, b))
        finally:
            for node in (a, b):
                await node.aclose()


def reload(node: NodeProcess) -> None:
    node.reload()


def query(node: NodeProcess, sql: str, *args: object) -> list[tuple[Any, ...]]:
    """Read a node's store file directly (SQLite WAL lets a reader in beside the running node)."""
    conn = sqlite3.connect(node.config.store_path)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()
