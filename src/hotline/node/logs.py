"""Structured logs: one line per event, key=value, to standard error.

What recurs is said once per cause with a count (``OncePerCause``), never once per connection:
an attacker who opens ten thousand connections, or a node out of file handles, must not bury
the lines a watch needs in hundreds of megabytes of the same one. asyncio's own reports (a
transport that failed, an ``accept()`` out of file handles) go the same way
(``install_loop_handler``): asyncio would log each with a traceback through the standard
``logging`` module, which nothing here configures, so they reached standard error unformatted.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import ssl
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import structlog

from hotline.node.clock import Clock

log = structlog.get_logger("hotline.node")
SUMMARY_EVERY = 60.0  # seconds between two lines about one recurring cause
MAX_CAUSES = 256  # causes told apart; beyond, the rest are counted under one


def configure(level: str = "INFO", json: bool = False) -> None:
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=True,
    )


@dataclass
class _Cause:
    level: str
    last_line: float  # monotonic time of the last line about it
    unsaid: int = 0  # occurrences since that line
    total: int = 1  # since the node started


class OncePerCause:
    """Log a recurring event once per cause: the first occurrence at once (``count=1``), then,
    while it recurs, one line per ``every`` seconds saying how often it happened since the last
    (``count``) and since the node started (``total``). ``flush`` says what is still unsaid
    (``flush_forever`` calls it every ``every`` seconds, so that the end of a burst is told too)."""

    def __init__(self, clock: Clock, every: float = SUMMARY_EVERY, logger: Any = log) -> None:
        self.clock = clock
        self.every = every
        self.logger = logger
        self._causes: dict[str, _Cause] = {}

    def note(self, event: str, level: str = "warning", **fields: Any) -> None:
        """One occurrence of ``event`` (the cause: a fixed sentence, no address or number in it;
        ``fields`` describe this first occurrence and are left out of later counts)."""
        now = self.clock.monotonic()
        cause = self._causes.get(event)
        if cause is None:
            if len(self._causes) >= MAX_CAUSES:
                event, fields = "further causes of repeated errors (not told apart)", {}
                cause = self._causes.get(event)
            if cause is None:
                self._causes[event] = _Cause(level, now)
                self._say(level, event, count=1, total=1, **fields)
                return
        cause.unsaid += 1
        cause.total += 1
        if now - cause.last_line >= self.every:
            self._summarise(event, cause, now)

    def total(self, event: str) -> int:
        cause = self._causes.get(event)
        return 0 if cause is None else cause.total

    def flush(self) -> None:
        now = self.clock.monotonic()
        for event, cause in self._causes.items():
            if cause.unsaid:
                self._summarise(event, cause, now)

    async def flush_forever(self) -> None:
        while True:
            await self.clock.sleep(self.every)
            self.flush()

    def _summarise(self, event: str, cause: _Cause, now: float) -> None:
        self._say(cause.level, event, count=cause.unsaid, total=cause.total, within_s=round(now - cause.last_line))
        cause.unsaid = 0
        cause.last_line = now

    def _say(self, level: str, event: str, **fields: Any) -> None:
        getattr(self.logger, level)(event, **fields)


# -- asyncio's reports -----------------------------------------------------------------------


def install_loop_handler(loop: asyncio.AbstractEventLoop, repeats: OncePerCause) -> None:
    """asyncio's reports of what failed outside any task's reach, through ``repeats``: one line
    per cause with a count, and no traceback (the innermost frame says where, for a bug)."""
    loop.set_exception_handler(loop_handler(repeats))


def loop_handler(repeats: OncePerCause) -> Callable[[asyncio.AbstractEventLoop, dict[str, Any]], None]:
    def handle(_loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        message = str(context.get("message") or "unexpected error in the event loop")
        exc = context.get("exception")
        if exc is None:
            repeats.note(f"event loop: {message}", "error")
            return
        cause = f"event loop: {message}: {reason(exc)}"
        if isinstance(exc, OSError):  # the network or the system said no: where is no news
            repeats.note(cause, "warning", error=str(exc)[:200])
        else:  # a bug: where it happened is the first thing to know
            repeats.note(f"{cause} at {_where(exc)}", "error", error=repr(exc)[:200])

    return handle


def reason(exc: BaseException) -> str:
    """What went wrong, without what differs per connection (addresses, ports, byte counts)."""
    if isinstance(exc, ssl.SSLError) and exc.reason:
        return str(exc.reason)
    if isinstance(exc, OSError) and exc.errno is not None and exc.errno in errno.errorcode:
        return f"{type(exc).__name__} {errno.errorcode[exc.errno]}"
    return type(exc).__name__


def _where(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return "an unknown place"
    last = frames[-1]
    return f"{last.filename.rsplit('/', 1)[-1]}:{last.lineno} in {last.name}"
