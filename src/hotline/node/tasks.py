"""The node's background tasks, and the transcript positions its parts hand out.

A task that fails stops the node (``on_failure``): a failed store write leaves the node's
counters ahead of the disk, and only a restart recovers them from what was durably stored.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any


class Tasks:
    def __init__(self, on_failure: Callable[[str], None]) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()
        self._on_failure = on_failure

    def spawn(self, coro: Awaitable[Any]) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._reap)
        return task

    def _reap(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        # After a stop began, late work failing against the closed store is expected and
        # harmless: nothing it held was receipted, so the peer sends it again.
        if not task.cancelled() and task.exception() is not None:
            self._on_failure(repr(task.exception()))

    async def cancel_all(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


class Positions:
    """Where the next entries go in our transcript.

    The store applies operations in the order they are called, so entries are numbered as they
    are handed to the store and made durable later; between taking positions and calling the
    store nothing may await, or the transcript would have a hole."""

    def __init__(self, next_index: int = 0) -> None:
        self.next_index = next_index

    def take(self, count: int) -> int:
        first = self.next_index
        self.next_index += count
        return first
