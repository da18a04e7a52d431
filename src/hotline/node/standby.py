"""A node of a party that does not hold the lease: it stands by.

Several nodes of a party share one PostgreSQL store; one of them, the holder of the lease, is
active (``storage/postgres/lease.py``). The others:

* hold no peer links. A peer that dials one is told, in a ``standby`` frame it can read, which
  node is active and at which addresses, and moves on at once (``Links.standing_by``);
* try for the lease every ``POLL_S``, so that a takeover follows within that of the lease
  falling free (at once when the active node dies, ``IDLE_LIMIT_MS`` when it hangs);
* tell operators what they are: ``snapshot`` feeds the standby's API and console.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from dataclasses import dataclass
from typing import Any

import structlog

from hotline import storage
from hotline.errors import ConfigError, StoreError
from hotline.node.card import parse_address
from hotline.node.clock import Clock
from hotline.node.config import NodeConfig
from hotline.node.logs import OncePerCause
from hotline.node.peer_port import PeerPort
from hotline.node.tls import tls_context
from hotline.protocol import FrameType, Lane, encode_frame
from hotline.protocol.paths import MAX_PATHS

log = structlog.get_logger("hotline.node")
POLL_S = 0.2  # seconds between tries for the lease


@dataclass(frozen=True)
class ActiveNode:
    """The party's active node, as the lease names it (None before any node was active)."""

    number: int | None
    epoch: int
    since_ms: int
    api: str | None = None
    addresses: tuple[str, ...] = ()


class Standby:
    def __init__(self, config: NodeConfig, store: storage.PostgresStore, clock: Clock) -> None:
        self.config = config
        self.store = store
        self.clock = clock
        self.active = ActiveNode(None, 0, 0)
        self.port: PeerPort | None = None
        self._nodes: list[storage.PartyNode] = []
        self._repeats = OncePerCause(clock)
        self.answered = 0  # peers' connections told where the active node is

    async def start(self) -> None:
        """Answer the peers' connections on this node's peer address."""
        peers = await self.store.peers()
        cert, key = self.config.tls_files()
        context = tls_context(True, cert, key, [p.tls_cert for p in peers])
        context.set_alpn_protocols([lane.path_alpn(path) for path in range(MAX_PATHS) for lane in Lane])
        self.port = PeerPort(self.config.bounds, context, self.clock, self._repeats)
        host, port = parse_address(self.config.listen)
        try:
            self.port.listen(host, port, self._answer)
        except OSError as exc:
            await self.port.close()
            self.port = None
            reason = os.strerror(exc.errno) if exc.errno else str(exc)
            raise ConfigError(f"cannot listen on {self.config.listen} for peers: {reason}") from None

    async def wait_for_lease(self, stop: asyncio.Event) -> int | None:
        """Stand by until this node takes the lease (its epoch) or ``stop`` is set (None)."""
        while not stop.is_set():
            await self._look()
            epoch = await self.store.take_lease(self.config.node, self.clock.wall_ms())
            if epoch is not None:
                log.warning("this node took the lease: it is now the party's active node", node=self.config.node,
                            epoch=epoch, after_node=self.active.number)  # fmt: skip
                return epoch
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(POLL_S):
                    await stop.wait()
        return None

    async def _look(self) -> None:
        """Who is active now; said once each time it changes."""
        lease = await self.store.lease()
        if lease.holder == self.active.number and lease.epoch == self.active.epoch:
            return
        if not self._nodes or all(n.number != lease.holder for n in self._nodes):
            self._nodes = await asyncio.to_thread(storage.party_nodes, self.store.url)
        holder = next((n for n in self._nodes if n.number == lease.holder), None)
        self.active = ActiveNode(
            lease.holder,
            lease.epoch,
            lease.since_ms,
            holder.api if holder else None,
            holder.advertise if holder else (),
        )
        log.info("standing by", node=self.config.node, active_node=lease.holder, epoch=lease.epoch)

    async def _answer(self, _reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # Only handshakes that verified against a pinned certificate reach here.
        frame = encode_frame(
            FrameType.STANDBY,
            party=self.config.party,
            epoch=self.active.epoch,
            active=self.active.number,
            addresses=list(self.active.addresses),
        )
        self.answered += 1
        try:
            writer.write(frame)
            await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    def snapshot(self) -> dict[str, Any]:
        """What ``GET /v1/status`` says on a standby."""
        active = self.active
        return {
            "role": "standby",
            "party": self.config.party,
            "node": self.config.node,
            "store": storage.describe_database(self.store.url),
            "active": {
                "node": active.number,
                "epoch": active.epoch,
                "since_ms": active.since_ms or None,
                "api": active.api,
                "addresses": list(active.addresses),
            },
            "peers_told": self.answered,
        }

    def refusal(self) -> str:
        """Why a standby takes no message, naming where to send it."""
        active = self.active
        if active.number is None:
            return f"this is node {self.config.node} of {self.config.party}, standing by; no node is active yet"
        if active.number == self.config.node:
            return (
                f"this is node {self.config.node} of {self.config.party}, starting: its previous run still holds the"
                f" lease until its database session ends (within {storage.IDLE_LIMIT_MS / 1000:g} s); try again then"
            )
        at = f" at {active.addresses[0]}" if active.addresses else ""
        api = f", whose operator API is {active.api} on its machine" if active.api else ""
        return (
            f"this is node {self.config.node} of {self.config.party}, standing by: use the active node, node"
            f" {active.number}{at}{api}"
        )

    async def close(self) -> None:
        if self.port is not None:
            await self.port.close()
            self.port = None


async def open_standby(config: NodeConfig, store: storage.PostgresStore, clock: Clock) -> Standby:
    standby = Standby(config, store, clock)
    try:
        await store.name_session(config.node)  # the active node sees this node connected, ready
        await standby._look()
        await standby.start()
    except StoreError:
        await standby.close()
        raise
    return standby
