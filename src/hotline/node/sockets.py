"""What the kernel watches on a peer connection, so that the node need not wake to watch it.

An ordinary link leans on its path's urgent link for proof that the peer is alive
(``PeerSession.leans_on``), and so sends nothing of its own while idle. What the urgent link
cannot prove is that this other connection still works: a firewall or NAT that forgot it, or a
peer host gone without a word. TCP finds that itself, at no cost to the event loop: keepalive
probes while the connection is idle, and a user timeout while data sent stays unacknowledged.
Either ends the connection with an error the link reads as a lost connection, within about the
session's ``dead_after``, as the heartbeats would have.
"""

from __future__ import annotations

import math
import socket
from typing import Any

import structlog

log = structlog.get_logger("hotline.link")
KEEPALIVE_PROBES = 3  # unanswered keepalive probes before the kernel gives up


def watch_connection(sock: Any, heartbeat: float, dead_after: float) -> bool:
    """Keepalive after ``heartbeat`` idle seconds, then ``KEEPALIVE_PROBES`` probes spread over
    the rest of ``dead_after``; data unacknowledged for ``dead_after`` ends the connection too.
    ``sock``: a socket or asyncio's wrapper of one (``get_extra_info("socket")``); None, or a
    socket that is not TCP, is left alone. Whether the kernel watches it: if not, the link must
    keep its own heartbeat."""
    if sock is None or sock.family not in (socket.AF_INET, socket.AF_INET6) or sock.type != socket.SOCK_STREAM:
        return False
    idle = max(1, math.ceil(heartbeat))
    interval = max(1, math.ceil((dead_after - idle) / KEEPALIVE_PROBES))
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, idle)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, interval)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, KEEPALIVE_PROBES)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT, max(1000, round(dead_after * 1000)))
    except (OSError, AttributeError) as exc:  # timers beyond the kernel's range; a system without them
        log.warning("the kernel will not watch this peer connection; it keeps its own heartbeat",
                    error=str(exc), heartbeat=heartbeat, dead_after=dead_after)  # fmt: skip
        return False
    return True
