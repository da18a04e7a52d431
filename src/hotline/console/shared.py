"""One build of a page's facts, shared by every console that asks for it meanwhile.

Each open board redraws at every change the node posts; with a dozen consoles open, a dozen
identical boards would be built at once, and again at the next change. ``Shared`` builds a key
(a language and a page) once at a time: a request that arrives while a build is under way waits
for the next build, which starts when that one ends and serves every request that arrived
meanwhile. A request never gets facts older than itself, and however many consoles ask, the
node builds at most one board per key at a time, and at most two per key in the time of one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Shared(Generic[K, V]):
    def __init__(self, build: Callable[[K], Awaitable[V]]) -> None:
        self._build = build
        self._running: dict[K, asyncio.Future[V]] = {}
        self._next: dict[K, asyncio.Future[V]] = {}
        self.builds = 0  # how many builds have started (for tests and measurement)

    async def get(self, key: K) -> V:
        # Shielded: a console that goes away does not cancel a build that others wait for.
        waiting = self._next.get(key)
        if waiting is None:
            running = self._running.get(key)
            waiting = self._start(key) if running is None else self._queue(key, running)
        return await asyncio.shield(waiting)

    def _start(self, key: K) -> asyncio.Future[V]:
        self.builds += 1
        future = asyncio.ensure_future(self._build(key))
        self._running[key] = future
        future.add_done_callback(lambda done: self._ended(key, done))
        return future

    def _queue(self, key: K, running: asyncio.Future[V]) -> asyncio.Future[V]:
        loop = asyncio.get_running_loop()
        queued: asyncio.Future[V] = loop.create_future()
        self._next[key] = queued

        def chain(_: asyncio.Future[V]) -> None:
            if self._next.get(key) is queued:
                del self._next[key]
            if queued.cancelled():
                return
            started = self._running.get(key) or self._start(key)
            started.add_done_callback(lambda done: _copy(done, queued))

        running.add_done_callback(chain)
        return queued

    def _ended(self, key: K, done: asyncio.Future[V]) -> None:
        if self._running.get(key) is done:
            del self._running[key]
        if not done.cancelled():
            done.exception()  # retrieved here: a failure reaches every waiter, and is logged by none


def _copy(source: asyncio.Future[V], target: asyncio.Future[V]) -> None:
    if target.done():
        return
    if source.cancelled():
        target.cancel()
    elif (error := source.exception()) is not None:
        target.set_exception(error)
    else:
        target.set_result(source.result())
