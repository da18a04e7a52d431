"""Password checks out of the links' way: one at a time, on a thread of their own that runs at
the lowest CPU priority.

Argon2id takes 64 MiB and tens of milliseconds of a core for each try, whoever asks. On the
default thread pool, two at a time, a flood of sign-ins from many addresses (each allowed its
few free tries by the throttle) took both cores of a small machine, and a FLASH took three
times as long to be delivered. Here a try waits its turn, and the hashing thread is niced to 19
(Linux applies a thread's own priority: ``setpriority`` on its thread id): it has the processor
only when the event loop that carries the links does not want it. A real sign-in during a flood
waits behind the tries queued before it; the links never do.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
LOWEST = 19  # the nice value of the hashing thread


class Hashing:
    def __init__(self) -> None:
        self._turn = asyncio.Semaphore(1)  # queued here, a try a client gave up on is dropped
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="hotline-password", initializer=_lowest_priority)

    async def run(self, check: Callable[..., T], *args: object) -> T:
        async with self._turn:
            return await asyncio.get_running_loop().run_in_executor(self._thread, check, *args)

    def close(self) -> None:
        self._thread.shutdown(wait=False, cancel_futures=True)


def _lowest_priority() -> None:
    # Not every system names threads apart (or lets a process lower a thread): then the thread
    # runs at the process's priority, one try at a time still.
    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), LOWEST)
