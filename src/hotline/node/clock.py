"""The node's one clock: the only place in ``node/`` that reads the time or sleeps on it.

Everything in the node asks a ``Clock`` for the wall time (carried in envelopes, compared with
the peer's), for monotonic time (the session core's timers) and to sleep. A test hands the node
a clock of its own (``hotline.testing``) and moves time on by hand: deadlines, escalations and
link tests then run in milliseconds, without sleeping.
"""

from __future__ import annotations

import asyncio
import time
from contextlib import AbstractAsyncContextManager
from typing import Protocol


class Clock(Protocol):
    def wall_ms(self) -> int:
        """Milliseconds since the epoch (UTC), as envelopes and hellos carry them."""
        ...

    def monotonic(self) -> float:
        """Seconds that never go back: for timers and round trips."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait this long on this clock."""
        ...

    def timeout(self, seconds: float | None) -> AbstractAsyncContextManager[object]:
        """Like ``asyncio.timeout``, on this clock: ``TimeoutError`` once ``seconds`` passed
        (never, for None). Not ``wait_for``, which on 3.11 may swallow a stopping node's
        cancellation."""
        ...


class SystemClock:
    """The machine's clocks."""

    def wall_ms(self) -> int:
        return time.time_ns() // 1_000_000

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    def timeout(self, seconds: float | None) -> AbstractAsyncContextManager[object]:
        return asyncio.timeout(seconds)


SYSTEM_CLOCK = SystemClock()


def wall_ms() -> int:
    """The machine's wall clock in milliseconds, for code outside a node (the CLI, the demo)."""
    return SYSTEM_CLOCK.wall_ms()
