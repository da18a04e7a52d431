"""The runner's bound on stopping: a stop that will not finish ends anyway, and says why."""

import asyncio

from hotline.server import stop_within


async def _never() -> None:
    await asyncio.Event().wait()


async def _quick() -> None:
    await asyncio.sleep(0)


async def test_a_stop_that_finishes_is_reported_as_finished() -> None:
    assert await stop_within(_quick(), asyncio.Event(), 5.0) is None


async def test_a_stop_that_hangs_ends_at_the_bound() -> None:
    assert await stop_within(_never(), asyncio.Event(), 0.05) == "not stopped within 0.05 s"


async def test_a_second_signal_ends_a_hanging_stop_at_once() -> None:
    force = asyncio.Event()
    asyncio.get_running_loop().call_soon(force.set)
    assert await stop_within(_never(), force, 60.0) == "a second stop signal"
