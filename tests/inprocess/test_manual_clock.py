"""The manual clock on its own: timers fire when the test moves time past them, in order, each
at its own moment, and never by themselves."""

from __future__ import annotations

import asyncio

import pytest

from hotline.node import Clock
from hotline.testing import ManualClock
from hotline.testing.fakeclock import DEFAULT_START_MS


async def test_time_stands_still_until_the_test_moves_it() -> None:
    clock: Clock = ManualClock()
    assert clock.wall_ms() == DEFAULT_START_MS
    before = clock.monotonic()
    sleeper = asyncio.ensure_future(clock.sleep(0.5))
    await asyncio.sleep(0.01)  # real time passes; manual time does not
    assert not sleeper.done()
    assert (clock.wall_ms(), clock.monotonic()) == (DEFAULT_START_MS, before)
    assert isinstance(clock, ManualClock)
    await clock.advance(0.499)
    assert not sleeper.done()
    await clock.advance(0.001)
    assert sleeper.done()
    assert (clock.wall_ms(), clock.monotonic()) == (DEFAULT_START_MS + 500, before + 0.5)


async def test_one_advance_wakes_each_sleeper_at_its_own_moment_and_visits_the_timers_they_set() -> None:
    clock = ManualClock()
    woke: list[tuple[str, float]] = []

    async def ticker() -> None:  # a periodic timer: each sleep is set when the previous one fired
        while True:
            await clock.sleep(1.0)
            woke.append(("tick", clock.elapsed))

    async def once(name: str, seconds: float) -> None:
        await clock.sleep(seconds)
        woke.append((name, clock.elapsed))

    tasks = [asyncio.ensure_future(c) for c in (ticker(), once("late", 2.5), once("early", 0.25))]
    await clock.advance(3.5)
    assert woke == [("early", 0.25), ("tick", 1.0), ("tick", 2.0), ("late", 2.5), ("tick", 3.0)]
    assert clock.elapsed == 3.5
    assert clock.next_timer() == 0.5  # the ticker's next
    tasks[0].cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    assert clock.next_timer() is None  # a cancelled sleep leaves nothing behind


async def test_a_timeout_fires_only_when_time_passes_its_deadline() -> None:
    clock = ManualClock()
    never = asyncio.Event()

    async def wait(seconds: float | None) -> float:
        with pytest.raises(TimeoutError):
            async with clock.timeout(seconds):
                await never.wait()
        return clock.elapsed

    waiter = asyncio.ensure_future(wait(2.0))
    await clock.advance(1.999)
    assert not waiter.done()
    await clock.advance(1.0)
    assert await waiter == 2.0  # at its deadline, not at the end of the advance

    immediate = asyncio.ensure_future(wait(0))  # as asyncio.timeout(0): at the next turn
    await asyncio.sleep(0.01)
    assert await immediate == 2.999

    endless = asyncio.ensure_future(wait(None))
    await clock.advance(86_400)
    assert not endless.done()
    endless.cancel()
    await asyncio.gather(endless, return_exceptions=True)


async def test_a_block_that_finishes_in_time_is_not_cancelled_later() -> None:
    clock = ManualClock()
    async with clock.timeout(1.0):
        await clock.sleep(0.0)
    await clock.advance(5)  # the expired deadline of a finished block fires nothing
    assert clock.next_timer() is None
    task = asyncio.current_task()
    assert task is not None
    assert task.cancelling() == 0


async def test_time_does_not_go_back() -> None:
    clock = ManualClock()
    with pytest.raises(ValueError, match="does not go back"):
        await clock.advance(-1)
    with pytest.raises(ValueError, match="does not go back"):
        await clock.advance_to(DEFAULT_START_MS - 1)
    await clock.advance_to(DEFAULT_START_MS + 90_000)
    assert clock.wall_ms() == DEFAULT_START_MS + 90_000
