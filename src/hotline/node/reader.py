"""Reading for people, off the loop that carries the links.

The node's store runs on the event loop's own thread (group commit: ``storage/sqlite/store.py``
says why), so a query there holds every link for as long as it runs. A watch board read over a
backlog of 50,000 messages took a second there, and five open consoles kept a FLASH's receipt
waiting for three.

What people read (the board, the outbox, the message log, the alarms, the API's lists) is read
instead through a second store, opened read-only on the same file, on a thread of its own with
an event loop of its own: SQLite lets the thread go while it counts and sorts, and a slow page
costs the links no more than the rows it hands back, which each page bounds. WAL gives the
reader the last committed state; the node posts a change to the console only after its commit,
so a page redrawn on that notice sees it.

Reads queue on the one thread, in the order asked: a flood of them slows the pages, not the
links. The reading store is opened at the first read and closed when the node stops.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from hotline.errors import StoreError
from hotline.storage import Store, open_store

T = TypeVar("T")


class Reader:
    def __init__(self, path: Path | str) -> None:
        self._path = path
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._store: Store | None = None  # opened and used on the reading thread only
        self._closed = False

    async def read(self, operation: Callable[[Store], Awaitable[T]]) -> T:
        """Run ``operation`` on the reading store, on its thread, and await its answer here."""
        if self._closed:
            raise StoreError("the node is stopping: nothing more is read")
        loop = self._loop or self._start()
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(self._on_thread(operation), loop))

    async def close(self) -> None:
        self._closed = True
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(self._close_store(), loop))
        loop.call_soon_threadsafe(loop.stop)
        await asyncio.to_thread(thread.join)

    def _start(self) -> asyncio.AbstractEventLoop:
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=self._run, args=(loop,), name="hotline-reader", daemon=True)
        self._loop, self._thread = loop, thread
        thread.start()
        return loop

    @staticmethod
    def _run(loop: asyncio.AbstractEventLoop) -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_forever()
        finally:
            loop.close()

    async def _on_thread(self, operation: Callable[[Store], Awaitable[T]]) -> T:
        if self._store is None:
            self._store = open_store(self._path, read_only=True)
        return await operation(self._store)

    async def _close_store(self) -> None:
        if self._store is not None:
            await self._store.close()
