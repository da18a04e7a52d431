"""Nodes in one process: real TLS on loopback, real SQLite stores, one manual clock.

A test builds two (or more) parties' nodes with ``in_process_network``, each pinned to every
other as ``hotline peer add`` pins them, each listening on a free loopback port with its own
keys and its own store file, all on the test's event loop and on one ``ManualClock``. Then it
acts through each node's ``Desk`` (what the API, the console and the CLI use) and moves the
time on by hand: a ten-minute FLASH deadline passes in milliseconds, with no sleeping.

What still takes real time is the network: a message sent reaches the peer's store after a
few loopback round trips, so a test waits for what the peer does with ``wait_until``, a poll
bounded in real time that fails saying what it waited for. What needs a process of its own
(SIGKILL, the demo, the browser) stays with the subprocess tests.

The nodes start quiet (``STEADY_TIMERS``, ``QUIET_WATCH``): no watch changes, no link tests,
no checkpoints, and heartbeats an hour apart, so that moving the clock on does only what the
test asked for. A test that wants one of them passes its own settings.

Move the clock only while the links it cares about are up (``wait_linked``): a handshake takes
no manual time, but the session core gives a peer ten seconds *of the node's clock* to say
hello, so an advance of more than that while a link is being made buries it. Reconnecting also
waits on the manual clock (backoff): a node stopped and started again dials its peers at once,
but a node whose peer came back waits for the test to move the time past its next attempt.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import dataclasses
import inspect
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar, overload

import structlog

from hotline.node import Desk, Node, NodeConfig, init_node, load_config, vet_new_peer
from hotline.node.config import AlarmSettings, Timers, WatchSettings
from hotline.protocol import Lane
from hotline.storage import Store, open_store
from hotline.testing.fakeclock import ManualClock
from hotline.testing.process import free_port

T = TypeVar("T")

# Party -> the language it writes and reads in: one of each, as the integration tests have.
PARTIES: Mapping[str, str] = {"SACEUR": "en", "GENSTAB": "ru"}
# Heartbeats and path probes an hour apart (a long advance then takes a few steps, not
# thousands, and a peer's answer, which takes real time, is never late in manual time); no
# checkpoints (their offers would be traffic in every test). Reconnecting stays as shipped.
STEADY_TIMERS = Timers(
    heartbeat=3600.0, dead_after=3 * 3600.0, checkpoint_interval=0.0, probe_min=3600.0, silence_min=3 * 3600.0
)
# No readiness checks and no link tests unless a test asks: tests count messages and numbers.
QUIET_WATCH = WatchSettings(changes=(), link_test_interval=0.0)
LINK_WAIT = 10.0  # real seconds for every lane to come up before a test is told it did not
POLL = 0.002  # real seconds between two looks at a condition: the network moves in real time


class InProcessNode:
    """One party's node in this process. ``node`` and ``desk`` are those of the current run
    (None while stopped); a restart makes new ones over the same directory and store file."""

    def __init__(self, config: NodeConfig, clock: ManualClock) -> None:
        self.config = config
        self.clock = clock
        self.node: Node | None = None
        self._desk: Desk | None = None
        self._store: Store | None = None  # opened before the start, for pinning

    @property
    def party(self) -> str:
        return self.config.party

    @property
    def running(self) -> bool:
        return self.node is not None

    @property
    def desk(self) -> Desk:
        """The running node's desk; asking for it while the node is stopped is a test's error."""
        if self._desk is None:
            raise RuntimeError(f"{self.party} is not running: start it first")
        return self._desk

    def _open_store(self) -> Store:
        if self._store is None:
            self._store = open_store(self.config.store_location, party=self.config.party)
        return self._store

    async def pin(self, other: NodeConfig) -> None:
        """Pin another party's card while this node is stopped, as ``hotline peer add`` does."""
        if self.node is not None:
            raise RuntimeError(f"{self.party} is running: pin through its desk (add_peer)")
        store = self._open_store()
        card = other.card()
        vet_new_peer(self.party, await store.peers(), card)
        await store.add_peer(card.as_peer(self.clock.wall_ms()))

    async def start(self) -> None:
        if self.node is not None:
            return
        # What `hotline run` reads again at each start and a run may change: the keys' settings
        # (a key rotation names the log and the next key in config.toml).
        self.config = dataclasses.replace(self.config, keys=load_config(self.config.directory).keys)
        node = Node(self.config, self._open_store(), self.clock)
        self._store = None  # the node owns it now, and closes it when it stops
        # Both nodes log to the one stream of this process, and the node's own lines do not
        # say which node wrote them: every task the node starts inherits this context, so its
        # lines carry node=PARTY (structlog's default configuration merges context variables).
        context = contextvars.copy_context()
        context.run(structlog.contextvars.bind_contextvars, node=self.party)
        try:
            await asyncio.create_task(node.start(), context=context)
        except BaseException:
            await node.stop()  # a node that could not listen has started its dialers already
            raise
        self.node, self._desk = node, Desk(node)

    async def stop(self) -> None:
        node, self.node, self._desk = self.node, None, None
        if node is not None:
            await node.stop()
        if self._store is not None:
            store, self._store = self._store, None
            await store.close()

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    async def linked(self, peer: str | None = None) -> bool:
        """Every lane to ``peer`` (to every peer, if None) is up, as the desk reports it."""
        if self.node is None:
            return False
        status = await self.desk.status()
        wanted = [entry for entry in status if peer is None or entry["peer"] == peer]
        return bool(wanted) and all(all(entry["lanes"].values()) for entry in wanted)


class InProcessNetwork:
    """The nodes of one test, by party; iterating gives them in the order they were named, so
    that ``saceur, genstab = network`` reads as it should."""

    def __init__(self, nodes: list[InProcessNode], clock: ManualClock) -> None:
        self.nodes = {n.party: n for n in nodes}
        self.clock = clock

    def __getitem__(self, party: str) -> InProcessNode:
        return self.nodes[party]

    def __iter__(self) -> Iterator[InProcessNode]:
        return iter(self.nodes.values())

    def __len__(self) -> int:
        return len(self.nodes)

    async def start(self) -> None:
        """Start every node not running, one after the other: the last one's dialers find
        every listener up, so no lane waits for a (manual-time) reconnect backoff."""
        for node in self:
            await node.start()

    async def stop(self) -> None:
        """Stop every node at once, so that each link's TLS close is answered at once."""
        results = await asyncio.gather(*(node.stop() for node in self), return_exceptions=True)
        failures = [r for r in results if isinstance(r, BaseException)]
        if failures:
            raise failures[0]

    async def linked(self) -> bool:
        """Every running node has every lane of every channel up to every other running one."""
        running = [n for n in self if n.running]
        for node in running:
            for peer in running:
                if peer is not node and not await node.linked(peer.party):
                    return False
        return True

    async def wait_linked(self, timeout: float = LINK_WAIT) -> None:
        """Until every lane between the running nodes is up (``Lane``: urgent and ordinary)."""
        lanes = "/".join(lane.value for lane in Lane)
        await wait_until(self.linked, f"the {lanes} lanes between {', '.join(self.nodes)} to come up", timeout)


async def build_network(
    root: Path,
    parties: Mapping[str, str] = PARTIES,
    *,
    clock: ManualClock | None = None,
    timers: Timers = STEADY_TIMERS,
    watch: WatchSettings = QUIET_WATCH,
    alarms: AlarmSettings | None = None,
) -> InProcessNetwork:
    """Node directories under ``root`` for ``parties`` (party -> language), each pinned to every
    other, none started. ``timers``, ``watch`` and ``alarms`` replace those sections of every
    node's configuration (the node's defaults for ``alarms`` if None)."""
    clock = clock or ManualClock()
    nodes = []
    for party, language in parties.items():
        listen = f"127.0.0.1:{free_port()}"
        directory = root / party.lower()
        init_node(directory, party, listen, f"127.0.0.1:{free_port()}", (listen,), language)
        config = load_config(directory)
        config = replace(config, timers=timers, watch=watch, alarms=alarms or config.alarms)
        nodes.append(InProcessNode(config, clock))
    for node in nodes:
        for other in nodes:
            if other is not node:
                await node.pin(other.config)
    return InProcessNetwork(nodes, clock)


@contextlib.asynccontextmanager
async def in_process_network(
    root: Path,
    parties: Mapping[str, str] = PARTIES,
    *,
    clock: ManualClock | None = None,
    timers: Timers = STEADY_TIMERS,
    watch: WatchSettings = QUIET_WATCH,
    alarms: AlarmSettings | None = None,
    start: bool = True,
) -> AsyncIterator[InProcessNetwork]:
    """``build_network``, started and linked (unless ``start`` is False), stopped after."""
    network = await build_network(root, parties, clock=clock, timers=timers, watch=watch, alarms=alarms)
    try:
        if start:
            await network.start()
            await network.wait_linked()
        yield network
    finally:
        await network.stop()


@overload
async def wait_until(condition: Callable[[], Awaitable[T | None]], what: str, timeout: float = 5.0) -> T: ...


@overload
async def wait_until(condition: Callable[[], T | None], what: str, timeout: float = 5.0) -> T: ...


async def wait_until(condition: Callable[[], Any], what: str, timeout: float = 5.0) -> Any:
    """Look at ``condition`` (a function, or a coroutine function) until it gives something
    true, and return that; fail after ``timeout`` real seconds, saying ``what`` was awaited.
    Between two looks the loop runs for a short real moment: what is awaited is the network's
    doing, which takes real time. The manual clock does not move."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s (real time) waiting for {what}")
        await asyncio.sleep(POLL)
