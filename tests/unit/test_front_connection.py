"""The bounded HTTP protocol against a real uvicorn server (the pinned version) on loopback:
a request head that does not arrive in time, and one connection more than the bound."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator

import uvicorn

from hotline.front import Refusals
from hotline.front.asgi import Receive, Scope, Send
from hotline.front.connection import bounded_protocol

HEAD_TIMEOUT = 0.3
LIMIT = 3


async def slow_app(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        return
    await asyncio.sleep(HEAD_TIMEOUT * 2)  # a route may take longer than a head may
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


@contextlib.asynccontextmanager
async def served(refusals: Refusals) -> AsyncIterator[int]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        slow_app, http=bounded_protocol(LIMIT, HEAD_TIMEOUT, refusals), lifespan="off", log_level="warning"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield sock.getsockname()[1]
    finally:
        server.should_exit = True
        await task


async def test_a_request_head_must_arrive_in_time_but_a_slow_route_is_not_cut() -> None:
    refusals = Refusals()
    async with served(refusals) as port:
        half = await asyncio.open_connection("127.0.0.1", port)
        half[1].write(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # and never the blank line
        idle = await asyncio.open_connection("127.0.0.1", port)
        async with asyncio.timeout(HEAD_TIMEOUT * 10):
            answer = await half[0].read()
            assert answer.startswith(b"HTTP/1.1 408 ")
            assert b"did not arrive within 0.3 s" in answer
            assert await idle[0].read() == b""  # nothing sent: closed without a word
        assert refusals.totals() == {"header-timeout": 2}
        whole = await asyncio.open_connection("127.0.0.1", port)
        whole[1].write(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        async with asyncio.timeout(HEAD_TIMEOUT * 10):
            assert (await whole[0].readuntil(b"ok")).startswith(b"HTTP/1.1 200 ")
        for _, writer in (half, idle, whole):
            writer.close()
    assert refusals.totals() == {"header-timeout": 2}


async def test_one_connection_past_the_bound_is_answered_503_and_closed_at_once() -> None:
    refusals = Refusals()
    async with served(refusals) as port:
        held = [await asyncio.open_connection("127.0.0.1", port) for _ in range(LIMIT)]
        extra = await asyncio.open_connection("127.0.0.1", port)
        async with asyncio.timeout(HEAD_TIMEOUT / 2):  # before any head deadline
            answer = await extra[0].read()
        assert answer.startswith(b"HTTP/1.1 503 ")
        assert b"3 connections open" in answer
        assert refusals.totals() == {"api-connections": 1}
        for _, writer in [*held, extra]:
            writer.close()
