"""The node's file handles: how many its bounds need, and the limit raised to that at start.

Every connection is a file handle. A process starts with the limit its shell gave it, often
1,024 (systemd's default soft limit); a node that reaches it can accept nothing, and asyncio then
stops accepting on the port for a whole second each time, pinned peers included. The bounds
(``[bounds]``) say how many connections the node can hold at once; the limit is raised at start
(``raise_limit``) to twice what they need, as far as the hard limit allows, and a hard limit
below the need is said in a WARNING at start and in ``hotline status`` (``file_handles``).

Twice, because not all that holds a handle is bounded: a refused or cut connection keeps its
handle until its transport has closed, the alarm hook's command has its pipes, the store its
files, and the API's connection bound (uvicorn's) refuses a connection only after accepting it.
"""

from __future__ import annotations

import resource
from dataclasses import dataclass
from pathlib import Path

from hotline.node.config import Bounds
from hotline.protocol.paths import MAX_PATHS

# What holds handles without a bound of its own: the store (SQLite's database, journal and
# shared-memory files, on the writer and the readers), the standard streams, the event loop's
# own, the alarm hook's pipes, the CA bundle and the randomness source.
BASELINE = 64
LINKS_PER_PATH = 4  # two lanes, each possibly linked twice while the tie-break settles
FUTURE_PEERS = 4  # peers that may be pinned while the node runs


@dataclass(frozen=True)
class HandleLimit:
    needed: int  # what the bounds need
    soft: int  # the limit now (after raising it)
    hard: int  # what the soft limit may be raised to without privileges
    was: int  # the soft limit the node started with

    @property
    def short(self) -> bool:
        """The hard limit is below what the bounds need: a bound may not hold."""
        return self.soft < self.needed


def needed(bounds: Bounds, peers: int, console: bool = False) -> int:
    """Handles the bounds need at once: handshakes under way (the console's too, if it has a
    listener of its own), every peer's links on every path (and a few more peers), the API's
    connections and event streams, and the rest."""
    links = (peers + FUTURE_PEERS) * MAX_PATHS * LINKS_PER_PATH
    handshakes = bounds.peer_handshakes + (bounds.console_handshakes if console else 0)
    return handshakes + links + bounds.api_connections + bounds.event_streams + BASELINE


def raise_limit(need: int) -> HandleLimit:
    """Raise the soft limit on file handles to twice ``need`` (module docstring), as far as the
    hard limit allows; never lower it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 2 * need if hard == resource.RLIM_INFINITY else min(2 * need, hard)
    if want > soft != resource.RLIM_INFINITY:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    now, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return HandleLimit(needed=need, soft=now, hard=hard, was=soft)


def open_handles() -> int | None:
    """Handles the process holds now (Linux's /proc; None where there is none)."""
    try:
        return sum(1 for _ in Path("/proc/self/fd").iterdir())
    except OSError:
        return None
