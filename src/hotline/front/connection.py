"""The HTTP protocol of the loopback port: uvicorn's h11 protocol, with two bounds it lacks.

uvicorn (pinned at 0.54.0) times out only an idle keep-alive connection between two requests:
a connection that opens and sends nothing, or half a request head, is held for ever, and 300 of
them were all still open after a minute. Each holds a file handle, and at 1,024 handles the API
and new peer links went down together. So:

- a request's head must arrive whole within ``head_timeout`` seconds of the connection opening
  (or of the previous answer on it): else the connection is closed (with a 408 if some of a
  head had come);
- at most ``limit`` connections are open at once: one more is answered 503 and closed as soon
  as it is accepted, before it is read, so that it holds its handle for microseconds, not for
  as long as its sender likes. (uvicorn's own ``limit_concurrency`` answers 503 only once a
  whole request head has come, which a slow sender never sends.)

The body's own deadline is the API's gate (``hotline.api.gate``), which already wraps what the
application reads. This subclass uses uvicorn's protocol attributes (``conn``, ``transport``,
``connections``, ``on_response_complete``): a new uvicorn must be checked against
``tests/unit/test_front_connection.py`` before it is pinned.
"""

from __future__ import annotations

import asyncio
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from hotline.front.refusals import Refusals

BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain; charset=utf-8\r\nconnection: close\r\n"
    b"content-length: %d\r\n\r\n%s"
)
SLOW = (
    b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\nconnection: close\r\n"
    b"content-length: %d\r\n\r\n%s"
)


def bounded_protocol(limit: int, head_timeout: float, refusals: Refusals) -> type[H11Protocol]:
    """uvicorn's h11 protocol with at most ``limit`` connections and ``head_timeout`` seconds
    for a request head (pass it to ``uvicorn.Config(http=...)``)."""

    class BoundedH11Protocol(H11Protocol):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._head_deadline: asyncio.TimerHandle | None = None
            self._head_started = False
            self._served = False  # a request was answered: an idle connection now is keep-alive

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            if len(self.connections) > limit:
                refusals.note("api-connections", f"more than {limit} connections to the API and console at once")
                text = f"The node has {limit} connections open to its API and console: try again shortly.\n"
                transport.write(BUSY % (len(text), text.encode()))
                transport.close()
                return
            self._await_head()

        def data_received(self, data: bytes) -> None:
            self._head_started = True
            super().data_received(data)
            if self.conn.their_state is not h11.IDLE:  # the head has come whole: its route may take its time
                self._cancel_head_deadline()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            self._served = True
            if not self.transport.is_closing():
                self._await_head()  # the next request's head, if one comes, has the same time

        def connection_lost(self, exc: Exception | None) -> None:
            self._cancel_head_deadline()
            super().connection_lost(exc)

        def _await_head(self) -> None:
            self._cancel_head_deadline()
            self._head_started = False
            self._head_deadline = self.loop.call_later(head_timeout, self._head_too_slow)

        def _cancel_head_deadline(self) -> None:
            if self._head_deadline is not None:
                self._head_deadline.cancel()
                self._head_deadline = None

        def _head_too_slow(self) -> None:
            self._head_deadline = None
            if self.transport.is_closing() or self.conn.their_state is not h11.IDLE:
                return
            if self._served and not self._head_started:  # idle between requests: keep-alive's end
                self.transport.close()
                return
            refusals.note("header-timeout", f"a request head did not arrive whole within {head_timeout:g} s")
            if self._head_started:
                text = f"The request's head did not arrive within {head_timeout:g} s.\n"
                self.transport.write(SLOW % (len(text), text.encode()))
            self.transport.close()

    return BoundedH11Protocol
