"""The node's HTTP listeners: uvicorn servers on sockets the node binds itself (``bind``), the
operator API's on loopback and the console's own over HTTPS (``[console] listen``), each behind
the same front layers (``hotline.front``); the console's also behind a ``Doorway`` that bounds
its TLS handshakes before they cost anything.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import socket
import ssl
from collections.abc import Iterator

import structlog
import uvicorn
from fastapi import FastAPI

from hotline.api.gate import Gate
from hotline.errors import ConfigError
from hotline.front import Refusals
from hotline.front.connection import bounded_protocol
from hotline.front.headers import SecurityHeaders
from hotline.front.hosts import HostCheck, answered_names
from hotline.node import SYSTEM_CLOCK, Doorway, NodeConfig, console_certificate, console_tls_context, parse_address
from hotline.protocol.admission import Admission, Refusal

log = structlog.get_logger("hotline.run")


class ApiServer(uvicorn.Server):
    """uvicorn, minus its signal handling (the node owns SIGTERM and SIGINT), and minus its ten
    wakeups a second: ``stop`` ends it at once instead."""

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self._stopping = asyncio.Event()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield

    def stop(self) -> None:
        """Stop serving: what uvicorn's ``should_exit`` asks, seen at once."""
        self.should_exit = True
        self._stopping.set()

    async def main_loop(self) -> None:
        # uvicorn looks every 0.1 s whether it should stop. Two servers in each of the 57 nodes of
        # a mesh on one machine made that alone most of the idle mesh's CPU (issue 19). Here it
        # looks once a second (its Date header's resolution) and when ``stop`` is called.
        counter = 0
        while not await self.on_tick(counter):
            counter += 10  # uvicorn updates the Date header on the ticks that are a multiple of 10
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=1.0)


class ConsoleServer(ApiServer):
    """The console's HTTPS server: uvicorn's HTTP, behind a ``Doorway`` instead of asyncio's TLS
    server, so that who may start a TLS handshake is decided before it costs anything (in all
    and per source address), and a handshake that has not finished within the bound is closed
    (uvicorn leaves asyncio's 60 s). This replaces ``uvicorn.Server.startup`` (pinned 0.54.0:
    its protocol is made as uvicorn makes it; lifespan is off)."""

    doorway: Doorway

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        config = self.config

        def connection() -> asyncio.Protocol:
            return config.http_protocol_class(  # type: ignore[call-arg]
                config=config, server_state=self.server_state, app_state=self.lifespan.state
            )

        for sock in sockets or []:
            self.doorway.serve(sock, connection)
        self.servers = [_Doors(self.doorway)]  # type: ignore[list-item]
        self.started = True


@dataclasses.dataclass
class _Doors:
    """A ``Doorway`` as uvicorn's shutdown sees a server: ``close`` stops accepting and cuts the
    handshakes under way; ``wait_closed`` waits for them to end."""

    doorway: Doorway

    def close(self) -> None:
        self.doorway.stop_accepting()

    async def wait_closed(self) -> None:
        await self.doorway.wait_closed()


# What an operator reads for each refusal at the console's listener (``Refusals``: counted on
# /metrics as hotline_front_refusals_total{cause}, logged once a minute per cause at most).
CONSOLE_REFUSALS = {
    Refusal.BUSY: ("console-handshakes",
                   "every handshake slot of the console's listener is taken (console_handshakes)"),
    Refusal.SOURCE: ("console-handshakes-per-source",
                     "its address holds its share of the console's handshakes (console_handshakes_per_source)"),
    Refusal.EVICTED: ("console-handshake-evicted", "a console handshake's slot went to an address that held fewer"),
    Refusal.TIMEOUT: ("console-handshake-timeout", "a console handshake not finished in time (api_header_timeout)"),
    Refusal.HANDSHAKE: ("console-handshake-failed", "a console TLS handshake failed"),
    Refusal.ACCEPT: ("console-accept", "the console's listener cannot accept connections"),
}  # fmt: skip


@dataclasses.dataclass
class ConsoleListener:
    """The console's own HTTPS listener (``[console] listen``): its socket and TLS context, made
    once for the process and lent to each role's server, as the API's socket is."""

    socket: socket.socket
    tls: ssl.SSLContext
    admission: Admission  # the handshakes under way, whichever role's server accepts them

    @classmethod
    def of(cls, config: NodeConfig) -> ConsoleListener | None:
        if not config.console.listen:
            return None
        tls = console_tls_context(config)  # a certificate that cannot be used stops the start here
        bounds = config.bounds
        admission = Admission(bounds.console_handshakes, bounds.console_handshakes_per_source)
        return cls(bind(config.console.listen, "for the console (HTTPS)"), tls, admission)

    def serve(self, console: FastAPI, config: NodeConfig, refusals: Refusals) -> tuple[ApiServer, asyncio.Task[None]]:
        """Serve ``console`` on a copy of the socket: in front of it the same layers as on the
        API's address (headers, Host names, the gate on bodies), and TLS 1.3."""
        host, _ = parse_address(config.console.listen)
        facts = console_certificate(config)
        names = answered_names(host, (*config.console.hosts, *(facts.names if facts else ())))
        bounds = config.bounds
        gated = Gate(console, config.api_token(), bounds.api_body_bytes, bounds.api_body_timeout, refusals)
        front = SecurityHeaders(HostCheck(gated, names=names, refusals=refusals))
        server = ConsoleServer(
            uvicorn.Config(
                front,
                http=bounded_protocol(bounds.api_connections, bounds.api_header_timeout, refusals),
                server_header=False,  # the watch floor's network learns nothing of what serves it
                log_level="warning",
                access_log=False,
                lifespan="off",
                timeout_graceful_shutdown=5,
                proxy_headers=bool(config.console.trusted_proxies),
                forwarded_allow_ips=list(config.console.trusted_proxies) or None,
            )
        )
        server.config.load()
        server.config.ssl = self.tls

        def refused(refusal: Refusal, why: str) -> None:
            cause, said = CONSOLE_REFUSALS[refusal]
            refusals.note(cause, f"{said}: {why}" if why else said)

        refusals.in_use["console_handshakes"] = lambda: self.admission.under_way
        server.doorway = Doorway(self.admission, bounds.api_header_timeout, self.tls, SYSTEM_CLOCK, refused)
        log.info("console listening", url=config.console_url)
        task = asyncio.create_task(server.serve(sockets=[self.socket.dup()]))
        task.add_done_callback(_console_ended)
        return server, task

    def close(self) -> None:
        self.socket.close()


def _console_ended(task: asyncio.Task[None]) -> None:
    """The console's listener ended: as it should when the node stops, or else said loudly
    (the loopback console and the API go on; the watch floor's browsers lose the console)."""
    if task.cancelled():
        return
    failure = task.exception()
    if failure is not None:
        log.critical("the console's HTTPS listener failed: the watch floor's browsers cannot reach the console",
                     error=repr(failure))  # fmt: skip


def bind(address: str, purpose: str = "for the operator API") -> socket.socket:
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
