"""Password checks run one at a time, on a thread of their own at the lowest CPU priority."""

from __future__ import annotations

import asyncio
import os
import threading

from hotline.console.hashing import LOWEST, Hashing


async def test_checks_run_one_at_a_time_at_the_lowest_priority() -> None:
    hashing = Hashing()
    running, most, seen = [0], [0], []

    def check(n: int) -> int:
        running[0] += 1
        most[0] = max(most[0], running[0])
        seen.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        threading.Event().wait(0.01)  # a check takes time; another may start meanwhile if allowed
        running[0] -= 1
        return n * 2

    try:
        assert await asyncio.gather(*(hashing.run(check, n) for n in range(6))) == [0, 2, 4, 6, 8, 10]
    finally:
        hashing.close()
    assert most == [1]
    assert seen == [LOWEST] * 6
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) != LOWEST, "the loop's thread keeps its own"
