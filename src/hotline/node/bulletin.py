"""What changed in the node, for the console's open pages: they refresh only when told.

Topics are coarse (``inbox``, ``outbox``, ``alerts``, ``links``, ``transcript``) and coalesced per
subscriber: a page that is still redrawing after one change gets one notice for all that
happened meanwhile, so ten thousand ROUTINE receipts never queue ten thousand redraws.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager


class Subscription:
    def __init__(self) -> None:
        self.pending: set[str] = set()
        self.ready = asyncio.Event()
        self.closed = False

    async def next(self) -> set[str] | None:
        """The topics changed since the last call, waiting until there is one; None once the
        node is stopping, so that open streams end and the server can stop."""
        await self.ready.wait()
        self.ready.clear()
        if self.closed:
            return None
        topics, self.pending = self.pending, set()
        return topics


class Bulletin:
    def __init__(self) -> None:
        self._subscribers: set[Subscription] = set()
        self._closed = False

    def post(self, *topics: str) -> None:
        for subscriber in self._subscribers:
            subscriber.pending.update(topics)
            subscriber.ready.set()

    def close(self) -> None:
        self._closed = True
        for subscriber in self._subscribers:
            subscriber.closed = True
            subscriber.ready.set()

    @contextmanager
    def subscribe(self) -> Iterator[Subscription]:
        subscription = Subscription()
        subscription.closed = self._closed
        if self._closed:
            subscription.ready.set()
        self._subscribers.add(subscription)
        try:
            yield subscription
        finally:
            self._subscribers.discard(subscription)
