"""Errors that recur are logged once per cause with a count (``node/logs.py``), asyncio's own
reports included, and never with a traceback."""

from __future__ import annotations

import asyncio
import errno
import ssl
from typing import Any

from hotline.node.logs import MAX_CAUSES, OncePerCause, install_loop_handler, reason


class Lines:
    """What a logger was told: (level, event, fields)."""

    def __init__(self) -> None:
        self.said: list[tuple[str, str, dict[str, Any]]] = []

    def __getattr__(self, level: str) -> Any:
        return lambda event, **fields: self.said.append((level, event, fields))


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def monotonic(self) -> float:
        return self.now


def repeats() -> tuple[OncePerCause, Lines, Clock]:
    lines, clock = Lines(), Clock()
    return OncePerCause(clock, every=60.0, logger=lines), lines, clock  # type: ignore[arg-type]


def test_the_first_occurrence_is_said_at_once_then_counted() -> None:
    once, lines, clock = repeats()
    once.note("peer port: refused", address="192.0.2.1")
    assert lines.said == [("warning", "peer port: refused", {"count": 1, "total": 1, "address": "192.0.2.1"})]
    for _ in range(999):
        clock.now += 0.01
        once.note("peer port: refused", address="192.0.2.9")
    assert len(lines.said) == 1, "a thousand in ten seconds: still one line"
    clock.now += 60
    once.note("peer port: refused")
    assert lines.said[-1] == ("warning", "peer port: refused", {"count": 1000, "total": 1001, "within_s": 70})


def test_flush_tells_the_end_of_a_burst_once() -> None:
    once, lines, clock = repeats()
    for _ in range(5):
        once.note("a", "error")
    once.note("b", "info")
    clock.now += 3
    once.flush()
    once.flush()  # nothing new since
    assert lines.said == [
        ("error", "a", {"count": 1, "total": 1}),
        ("info", "b", {"count": 1, "total": 1}),
        ("error", "a", {"count": 4, "total": 5, "within_s": 3}),
    ]
    assert once.total("a") == 5


def test_causes_beyond_the_bound_are_counted_under_one() -> None:
    once, lines, _ = repeats()
    for n in range(MAX_CAUSES + 50):
        once.note(f"cause {n}")
    assert len(lines.said) == MAX_CAUSES + 1
    assert once.total("further causes of repeated errors (not told apart)") == 50


async def test_asyncio_reports_become_one_line_per_cause_without_a_traceback() -> None:
    once, lines, _ = repeats()
    loop = asyncio.get_running_loop()
    previous = loop.get_exception_handler()
    install_loop_handler(loop, once)
    try:
        for _ in range(500):  # what an accept() out of file handles reports, once per try
            loop.call_exception_handler(
                {"message": "socket.accept() out of system resource", "exception": OSError(errno.EMFILE, "Too many")}
            )
        missing: dict[str, int] = {}
        try:
            missing["key"]
        except KeyError as bug:
            loop.call_exception_handler({"message": "Task exception was never retrieved", "exception": bug})
        loop.call_exception_handler({"message": "Unclosed transport"})
    finally:
        loop.set_exception_handler(previous)
    events = [event for _, event, _ in lines.said]
    here = _where_the_bug_is()
    assert events == [
        "event loop: socket.accept() out of system resource: OSError EMFILE",
        f"event loop: Task exception was never retrieved: KeyError at {here}",
        "event loop: Unclosed transport",
    ]
    assert lines.said[0][2]["error"] == "[Errno 24] Too many"
    assert once.total(events[0]) == 500
    assert not any("Traceback" in str(fields) for _, _, fields in lines.said)


def _where_the_bug_is() -> str:
    import inspect

    test = test_asyncio_reports_become_one_line_per_cause_without_a_traceback
    source, start = inspect.getsourcelines(test)
    line = start + next(i for i, text in enumerate(source) if 'missing["key"]' in text)
    return f"test_repeats.py:{line} in {test.__name__}"


def test_reasons_leave_out_what_differs_per_connection() -> None:
    failed = ssl.SSLError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed (_ssl.c:1000)")
    failed.reason = "CERTIFICATE_VERIFY_FAILED"
    assert reason(failed) == "CERTIFICATE_VERIFY_FAILED"
    reset = ConnectionResetError(errno.ECONNRESET, "reset by 192.0.2.1:4431")
    assert reason(reset) == "ConnectionResetError ECONNRESET"
    assert reason(EOFError()) == "EOFError"
