"""A flood of idle TCP connections: the attack on a node's peer port (issue #14), for the tests
and the benchmark.

Each of ``count`` connections is opened from one of the ``sources`` (loopback addresses such as
127.0.0.2-9 work on Linux without any set-up), sends nothing, is held for as long as the node
keeps it, and is opened again ``pause`` seconds after the node closes it: every slot the node
gives to strangers stays taken while the flood runs.

It runs as a process of its own (``python -m hotline.testing.flood HOST:PORT COUNT SOURCE...``),
so that it shares no event loop with what the test measures (a relay carrying a peer's link
would otherwise wait behind a thousand connects). It prints one line, ``tried COUNT``, once every
connection has been tried once, and runs until it is terminated; at SIGTERM it prints
``connected N``, how many connections the node's port took (a connect that timed out behind a
full backlog is tried, not taken), and ends (the kernel closes what it held).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import resource
import signal
import subprocess
import sys
from collections.abc import Sequence

__all__ = ["Flood", "start_flood"]

CONNECT_WITHIN = 3.0  # seconds for one connect: beyond, the node's backlog is full
READY_WITHIN = 60.0  # seconds for every connection to be tried once


class Flood:
    def __init__(self, host: str, port: int, sources: Sequence[str], pause: float) -> None:
        self.host, self.port = host, port
        self.sources = list(sources)
        self.pause = pause
        self.tried = 0
        self.connected = 0  # connections the node's port took, reconnections included
        self.all_tried = asyncio.Event()  # every connection was tried once

    async def run(self, count: int) -> None:
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, self._report_and_end)
        holders = [asyncio.create_task(self._hold(self.sources[n % len(self.sources)], count)) for n in range(count)]
        await self.all_tried.wait()
        sys.stdout.write(f"tried {self.tried}\n")
        sys.stdout.flush()
        await asyncio.gather(*holders)

    async def _hold(self, source: str, count: int) -> None:
        first = True
        while True:
            try:
                async with asyncio.timeout(CONNECT_WITHIN):
                    reader, writer = await asyncio.open_connection(self.host, self.port, local_addr=(source, 0))
            except (OSError, TimeoutError):
                self._tried(first, count)
                first = False
                await asyncio.sleep(self.pause)
                continue
            self.connected += 1
            self._tried(first, count)
            first = False
            try:
                with contextlib.suppress(OSError):
                    await reader.read(1)  # nothing is sent: this ends when the node closes it
            finally:
                writer.transport.abort()
            await asyncio.sleep(self.pause)  # the pace of the flood, not a wait for anything

    def _report_and_end(self) -> None:
        sys.stdout.write(f"connected {self.connected}\n")
        sys.stdout.flush()
        os._exit(0)  # the held connections close with the process

    def _tried(self, first: bool, count: int) -> None:
        self.tried += first
        if self.tried >= count:
            self.all_tried.set()


async def start_flood(
    address: str, count: int, sources: Sequence[str], pause: float = 2.0
) -> asyncio.subprocess.Process:
    """Start a flood process against ``address`` (HOST:PORT) and return once every connection
    was tried once; terminate the process to end the flood."""
    command = [sys.executable, "-m", "hotline.testing.flood", address, str(count), *sources, "--pause", str(pause)]
    process = await asyncio.create_subprocess_exec(*command, stdout=subprocess.PIPE)
    assert process.stdout is not None
    try:
        async with asyncio.timeout(READY_WITHIN):
            line = await process.stdout.readline()
    except BaseException:
        process.kill()
        await process.wait()
        raise
    if not line.startswith(b"tried"):
        await process.wait()
        raise RuntimeError(f"the flood ended before it began (exit status {process.returncode})")
    return process


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("address", help="HOST:PORT to flood")
    parser.add_argument("count", type=int, help="connections held at once")
    parser.add_argument("sources", nargs="+", help="source addresses to connect from")
    parser.add_argument("--pause", type=float, default=2.0, help="seconds before a closed connection is opened again")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = args.count + 64
    if soft != resource.RLIM_INFINITY and soft < wanted:
        if hard != resource.RLIM_INFINITY and hard < wanted:
            sys.exit(f"the flood needs {wanted} file handles; the hard limit is {hard}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    host, port = args.address.rsplit(":", 1)
    asyncio.run(Flood(host, int(port), args.sources, args.pause).run(args.count))


if __name__ == "__main__":
    main()
