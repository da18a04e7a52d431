"""A clock that moves only when the test moves it: the node's ``Clock`` on manual time.

Hand a ``ManualClock`` to ``Node`` (and to every other node of the test: one clock for all, so
that the parties agree on the time) and the node's every timer waits on it: watch escalations,
readiness checks, link tests, the lookout's alarm thresholds, checkpoints, reconnect backoff,
and each link's heartbeat and dead-peer timer. None of them fires while the test stands still,
however long the network takes; each fires when the test moves the clock past it.

Theory of operation
-------------------

*Timers.* ``sleep`` and ``timeout`` register a timer due at the manual time now plus the delay.
A sleep is a future, resolved when its timer fires. A timeout is a real ``asyncio.timeout(None)``
(so that the cancellation and the ``TimeoutError`` behave exactly as asyncio's own), rescheduled
to fire at once when its manual timer does. Timers whose waiter went away (a cancelled sleep, a
block left before its deadline) are dropped when they surface.

*Advancing.* ``advance(seconds)`` does not jump: it visits each timer due on the way, in order,
sets the time to that timer's deadline, fires every timer due then, and lets the loop settle
before going on. A task woken at 5 s therefore sees 5 s, not the end of the advance, and the
timer it sets next is visited in turn if it falls within the advance. So an alert that passes
through three stages during one ``advance`` is announced at each of them, as it would be by a
real clock.

*Settling.* The nodes are real: their TLS handshakes, reads and writes travel over loopback
sockets, and their store commits in callbacks on the loop. ``settle`` runs the loop until
nothing is runnable (no callback ready, no I/O seen by the loop's poll) for a real moment
(``grace``): long enough for the kernel to hand the bytes just written to the peer's socket,
which a poll then sees. It looks at the loop's ready queue, which asyncio keeps private; on a
loop without one it falls back to a fixed number of turns and the grace. Settling is what makes
``advance`` deterministic enough: what a fired timer caused on this side has happened, and
what it sent has very likely been read. A test that needs the peer's answer to a message (a
round trip over the network) still waits for it with a bounded poll.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from contextlib import AbstractAsyncContextManager
from types import TracebackType
from typing import Protocol, Self

# 2026-11-23T12:00:00Z: a fixed, plausible date, so that tests read the same on every run.
DEFAULT_START_MS = 1_795_435_200_000
MONOTONIC_START = 1000.0  # an arbitrary origin, as a real monotonic clock has
QUIET_TURNS = 3  # loop turns with nothing runnable before the loop counts as quiet
SETTLE_LIMIT = 30.0  # real seconds a settle may take before the test is told that it never ended
_NS = 1_000_000_000


def _ns(seconds: float) -> int:
    # Rounded, not rounded up: a sleep of 0.3 s must wake at advance(0.3), whatever the float.
    return round(seconds * _NS)


class _Timer(Protocol):
    @property
    def pending(self) -> bool:
        """Still waited for: firing it would wake someone."""
        ...

    def fire(self) -> None: ...


class _Sleep:
    def __init__(self, future: asyncio.Future[None]) -> None:
        self.future = future

    @property
    def pending(self) -> bool:
        return not self.future.done()

    def fire(self) -> None:
        if not self.future.done():
            self.future.set_result(None)


class _Timeout(AbstractAsyncContextManager["_Timeout"]):
    """``asyncio.timeout`` on manual time: a real timeout that never fires by itself, told to
    fire at once when the manual deadline passes."""

    def __init__(self, clock: ManualClock, seconds: float | None) -> None:
        self._clock = clock
        self._seconds = seconds
        self._inner = asyncio.timeout(None)
        self._armed = False

    @property
    def pending(self) -> bool:
        return self._armed

    def fire(self) -> None:
        if self._armed:
            self._armed = False
            self._inner.reschedule(asyncio.get_running_loop().time())

    async def __aenter__(self) -> Self:
        await self._inner.__aenter__()
        if self._seconds is not None:
            self._armed = True
            self._clock._arm(self._seconds, self)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._armed = False
        await self._inner.__aexit__(exc_type, exc, tb)  # raises TimeoutError if it fired


class ManualClock:
    """The ``Clock`` protocol (``hotline.node.Clock``) on a time that only the test moves.

    ``start_ms`` is the wall time at the start (milliseconds since the epoch, UTC); monotonic
    time starts at an arbitrary origin and moves with it. ``grace`` is the real time the loop
    must stay quiet before a settle ends (see the module's docstring).
    """

    def __init__(self, start_ms: int = DEFAULT_START_MS, *, grace: float = 0.001) -> None:
        self.start_ms = start_ms
        self.grace = grace
        self._elapsed_ns = 0
        self._timers: list[tuple[int, int, _Timer]] = []  # (due, order of arming, timer): a heap
        self._order = itertools.count()

    # -- the Clock protocol ------------------------------------------------------------------

    def wall_ms(self) -> int:
        return self.start_ms + self._elapsed_ns // 1_000_000

    def monotonic(self) -> float:
        return MONOTONIC_START + self._elapsed_ns / _NS

    async def sleep(self, seconds: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        sleeper = _Sleep(future)
        self._arm(seconds, sleeper)
        if sleeper.pending:
            await future
        else:
            await asyncio.sleep(0)  # due already: still a turn of the loop, as asyncio.sleep(0)

    def timeout(self, seconds: float | None) -> AbstractAsyncContextManager[object]:
        return _Timeout(self, seconds)

    # -- what the test does ------------------------------------------------------------------

    @property
    def elapsed(self) -> float:
        """Seconds moved on since the start."""
        return self._elapsed_ns / _NS

    def next_timer(self) -> float | None:
        """Seconds from now until the next timer someone waits for, or None if none does."""
        self._drop_stale()
        return None if not self._timers else (self._timers[0][0] - self._elapsed_ns) / _NS

    async def advance(self, seconds: float) -> None:
        """Move the time on by ``seconds``, firing each timer due on the way at its own time
        and letting the loop settle after each (the module's docstring says why)."""
        if seconds < 0:
            raise ValueError(f"time does not go back: advance({seconds})")
        await self.settle()  # what is runnable now sets its timers before time moves
        target = self._elapsed_ns + _ns(seconds)
        while (due := self._next_due()) is not None and due <= target:
            self._elapsed_ns = max(self._elapsed_ns, due)
            self._fire_due()
            await self.settle()
        self._elapsed_ns = target
        await self.settle()

    async def advance_to(self, wall_ms: int) -> None:
        """Move the time on until the wall clock reads ``wall_ms``."""
        if wall_ms < self.wall_ms():
            raise ValueError(f"time does not go back: it is {self.wall_ms()} ms, not {wall_ms} ms")
        await self.advance((wall_ms - self.wall_ms()) / 1000)

    async def settle(self) -> None:
        """Run the event loop until nothing is runnable for ``grace`` real seconds."""
        loop = asyncio.get_running_loop()
        started = time.monotonic()
        quiet_turns, quiet_since = 0, None
        while True:
            await asyncio.sleep(0)
            now = time.monotonic()
            if now - started > SETTLE_LIMIT:
                raise TimeoutError(f"the event loop did not fall quiet within {SETTLE_LIMIT} s of real time")
            if _runnable(loop):
                quiet_turns, quiet_since = 0, None
                continue
            quiet_turns += 1
            if quiet_turns < QUIET_TURNS:
                continue
            if quiet_since is None:
                quiet_since = now
            elif now - quiet_since >= self.grace:
                return
            await asyncio.sleep(self.grace)  # real: bytes in flight reach the peer's socket

    # -- timers --------------------------------------------------------------------------------

    def _arm(self, seconds: float, timer: _Timer) -> None:
        due = self._elapsed_ns + max(0, _ns(seconds))
        if due <= self._elapsed_ns:
            timer.fire()  # as asyncio does with a delay of 0: at the next turn, not never
            return
        heapq.heappush(self._timers, (due, next(self._order), timer))

    def _drop_stale(self) -> None:
        while self._timers and not self._timers[0][2].pending:
            heapq.heappop(self._timers)

    def _next_due(self) -> int | None:
        self._drop_stale()
        return self._timers[0][0] if self._timers else None

    def _fire_due(self) -> None:
        while self._timers and self._timers[0][0] <= self._elapsed_ns:
            _, _, timer = heapq.heappop(self._timers)
            timer.fire()


def _runnable(loop: asyncio.AbstractEventLoop) -> bool:
    """Whether the loop has a callback ready to run, or a real timer due now. Reads asyncio's
    private queues (``BaseEventLoop``); on another loop, says no, and ``settle`` relies on its
    quiet turns and grace alone."""
    ready = getattr(loop, "_ready", None)
    scheduled = getattr(loop, "_scheduled", None)
    if ready is None or scheduled is None:
        return False
    if ready:
        return True
    return bool(scheduled) and scheduled[0].when() <= loop.time()
