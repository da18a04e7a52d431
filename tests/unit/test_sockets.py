"""The kernel watches each peer connection (``node/sockets.py``): an ordinary link that sends
nothing of its own while idle is still found dead, by TCP, within about ``dead_after``."""

from __future__ import annotations

import socket

from hotline.node.sockets import KEEPALIVE_PROBES, watch_connection


def test_a_peer_socket_is_probed_when_idle_and_given_up_on_within_dead_after() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        assert watch_connection(sock, heartbeat=5.0, dead_after=15.0)
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
        idle = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE)
        interval = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL)
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT) == KEEPALIVE_PROBES
        assert (idle, interval) == (5, 4)
        assert idle + KEEPALIVE_PROBES * interval <= 15 + KEEPALIVE_PROBES  # about dead_after
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT) == 15_000


def test_a_socket_that_is_not_tcp_is_left_alone() -> None:
    left, right = socket.socketpair()
    with left, right:
        assert not watch_connection(left, heartbeat=5.0, dead_after=15.0)
        assert not watch_connection(None, heartbeat=5.0, dead_after=15.0)
        assert left.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 0


def test_timers_beyond_the_kernels_range_leave_the_link_to_its_own_heartbeat() -> None:
    """Linux takes at most 32,767 s of keepalive idle time: the node is told the link keeps its
    own heartbeat (and does not lean on another), and nothing is raised."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        assert not watch_connection(sock, heartbeat=100_000.0, dead_after=300_000.0)
