"""``hotline run``: the node and its operator API in one process, until SIGTERM or SIGINT."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
from collections.abc import Iterator

import structlog
import uvicorn

from hotline.api.app import create_app
from hotline.errors import ConfigError
from hotline.node.card import parse_address
from hotline.node.config import NodeConfig
from hotline.node.service import Node
from hotline.storage import SqliteStore

log = structlog.get_logger("hotline.run")


class ApiServer(uvicorn.Server):
    """uvicorn, minus its signal handling: the node owns SIGTERM and SIGINT."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _bind(address: str, purpose: str = "for the operator API") -> socket.socket:
    host, port = parse_address(address)
    # IPPROTO_TCP explicitly: asyncio disables Nagle's algorithm only on sockets that say they
    # are TCP, and with Nagle every API answer waited ~40 ms for the client's delayed ACK.
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConfigError(f"cannot listen on {address} {purpose}: {exc.strerror}") from None
    return sock


def bind_check(address: str, purpose: str) -> None:
    """Fail early, with the reason, if an address cannot be listened on."""
    _bind(address, purpose).close()


async def serve(config: NodeConfig) -> str | None:
    """Run until told to stop; returns why the node stopped itself, or None."""
    loop = asyncio.get_running_loop()
    api_socket = _bind(config.api)
    node = Node(config, SqliteStore(config.store_path))
    try:
        await node.start()
    except BaseException:
        api_socket.close()
        await node.stop()
        raise
    api = ApiServer(
        uvicorn.Config(
            create_app(node, config.api_token()),
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=5,  # a browser's open request must not hold a stopping node
        )
    )
    stop_requested = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop_requested.set)
    api_task = asyncio.create_task(api.serve(sockets=[api_socket]))
    log.info("operator API listening", url=config.api_url)
    waits = {api_task, asyncio.create_task(stop_requested.wait()), asyncio.create_task(node.stopped.wait())}
    _done, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    for task in pending - {api_task}:
        task.cancel()
    api.should_exit = True
    await node.stop()
    with contextlib.suppress(asyncio.CancelledError):
        await api_task
    return node.failure or node.store.failure  # a last commit that failed at shutdown counts too
