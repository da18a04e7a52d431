"""The composition root: ``hotline run`` builds the store, the node, its desk, and the operator
API and console side by side, and serves them in one process until SIGTERM or SIGINT.

This is the one place that knows every layer: the node knows no surface, the API and the console
know each other not at all, and each knows the node only through its desk.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import signal
import socket
import sys
from collections.abc import Awaitable

import structlog
import uvicorn
from fastapi import FastAPI

from hotline import storage
from hotline.api.app import create_app
from hotline.api.gate import Gate
from hotline.api.standby import create_standby_api
from hotline.console.app import create_console
from hotline.console.state import ConsoleBounds, ConsoleState
from hotline.errors import StoreError
from hotline.front import Refusals
from hotline.front.connection import bounded_protocol
from hotline.front.headers import SecurityHeaders
from hotline.front.hosts import HostCheck, answered_names
from hotline.listeners import ApiServer, ConsoleListener, bind
from hotline.node import (
    SETTINGS_CHECK_EVERY_S,
    SYSTEM_CLOCK,
    Desk,
    Node,
    NodeConfig,
    certificate_trouble,
    console_certificate,
    limit_tls_reads,
    open_standby,
    parse_address,
    record_settings,
)
from hotline.storage import Store, open_store

log = structlog.get_logger("hotline.run")
# Seconds from the first stop signal to the end of the process, at most. Links close in
# parallel, each waiting up to 2 s for the peer's TLS close; the API gives open requests 5 s.
STOP_BOUND = 10.0
RETRY_S = 1.0  # seconds between tries of a party's store that cannot be opened
CONSOLE_CHECK_EVERY_S = 3600.0  # how often the console certificate's end is looked at


async def _stop_server(server: ApiServer | None, task: asyncio.Task[None] | None) -> None:
    if server is not None and task is not None:
        server.stop()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def serve(config: NodeConfig) -> str | None:
    """Run until told to stop; returns why the node stopped itself, or None.

    Stopping always finishes: within STOP_BOUND seconds of the first SIGTERM or SIGINT, or at
    once on a second one. A stop that does not finish in time (something that will not end)
    commits what the store holds and ends the process itself, saying why: a half-stopped node,
    its API gone while a link still takes messages, is the one thing it must never be.

    A node of a party on PostgreSQL stands by until it holds the lease, serves as the active
    node while it does, and stands by again when it loses it (``serve_party_node``).
    """
    limit_tls_reads()
    if config.store:
        return await serve_party_node(config)
    listener = ConsoleListener.of(config)
    try:
        return await serve_active(config, open_store(config.store_location, party=config.party), listener=listener)
    finally:
        if listener:
            listener.close()


class StopSignals:
    """SIGTERM and SIGINT: the first asks the node to stop, a second makes it stop now."""

    def __init__(self) -> None:
        self.requested, self.force = asyncio.Event(), asyncio.Event()

    def install(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._on_signal)

    def _on_signal(self) -> None:
        if self.requested.is_set():
            self.force.set()
            log.warning("second stop signal: the node exits now")
        else:
            self.requested.set()
            log.info("stopping", within_seconds=STOP_BOUND)


async def serve_party_node(config: NodeConfig) -> str | None:
    """One of several nodes of a party sharing a PostgreSQL store: standing by, active, and
    standing by again, until told to stop. The store named must be reachable when the node
    starts (a wrong address is an error at once); later, while it fails over, the node tries
    it again every second, and says so."""
    signals = StopSignals()
    signals.install()
    # One listening socket for the process, lent to each phase's server: between a standby's
    # API and the active node's, connections wait in its backlog instead of being refused.
    api_socket = bind(config.api)
    try:
        listener = ConsoleListener.of(config)
    except BaseException:
        api_socket.close()
        raise
    try:
        return await _serve_roles(config, signals, api_socket, listener)
    finally:
        api_socket.close()
        if listener:
            listener.close()


async def _serve_roles(
    config: NodeConfig, signals: StopSignals, api_socket: socket.socket, listener: ConsoleListener | None
) -> str | None:
    first = True
    while not signals.requested.is_set():
        try:
            store = await asyncio.to_thread(open_store, config.store, False, config.party)
        except StoreError as exc:
            if first:
                raise
            log.warning("cannot open the party's store; trying again", error=str(exc), every_seconds=RETRY_S)
            await _pause(signals.requested, RETRY_S)
            continue
        first = False
        assert isinstance(store, storage.PostgresStore)
        await _record_settings(config)
        epoch = await stand_by(config, store, signals, api_socket.dup(), listener)
        if epoch is None:
            await store.close()
            await _pause(signals.requested, RETRY_S)  # the store failed: not again at once
            continue
        if not store.synchronous_standbys:
            log.warning(
                "the party's database names no synchronous standby (synchronous_standby_names is empty):"
                " a database failover may lose commits already receipted to peers"
            )
        try:
            reason = await serve_active(config, store, signals, api_socket.dup(), listener)
        except StoreError as exc:  # the store failed as the node started: stand by and try again
            reason = f"StoreError: {exc}"
        if signals.requested.is_set():
            return reason
        log.warning("this node stood down: it is no longer the party's active node", reason=reason)
    return None


async def stand_by(
    config: NodeConfig,
    store: storage.PostgresStore,
    signals: StopSignals,
    api_socket: socket.socket,
    listener: ConsoleListener | None = None,
) -> int | None:
    """Serve as a standby until this node takes the lease: its epoch; None if told to stop or
    the store failed. Peers are told where the active node is; the API refuses what would change
    anything, naming the active node; the console serves its pages read-only from the shared
    store, under a banner that says so (a desk over a node that is never started)."""
    try:
        reading = await asyncio.to_thread(open_store, config.store, True)
    except StoreError as exc:
        log.warning("the party's store failed", error=str(exc))
        api_socket.close()
        return None
    try:
        standby = await open_standby(config, store, SYSTEM_CLOCK)
    except StoreError as exc:
        log.warning("the party's store failed", error=str(exc))
        api_socket.close()
        await reading.close()
        return None
    node = Node(config, reading)
    refusals = Refusals()
    app = create_standby_api(standby, config.api_token())
    bounds = config.bounds
    console_bounds = ConsoleBounds(bounds.console_sessions, bounds.event_streams, bounds.event_streams_per_session)
    console = create_console(Desk(node, standby), console_bounds, refusals)
    app.mount("/", console)
    app.add_middleware(HostCheck, names=answered_names(parse_address(config.api)[0], config.console.hosts),
                       refusals=refusals)  # fmt: skip
    app.add_middleware(SecurityHeaders)
    api = ApiServer(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off",
                                   timeout_graceful_shutdown=1))  # fmt: skip
    api.config.load()
    api_task = asyncio.create_task(api.serve(sockets=[api_socket]))
    console_server, console_task = listener.serve(console, config, refusals) if listener else (None, None)
    # A standby keeps its sessions in memory only: it reads the store but writes nothing, so it
    # could not see a session the active node ends; a browser signs in to it on its own.
    sweeper = asyncio.create_task(console.state.console.sweep_sessions())
    log.info("standing by", party=config.party, node=config.node, api=config.api_url, store=standby.snapshot()["store"])
    try:
        return await standby.wait_for_lease(signals.requested)
    except StoreError as exc:
        log.warning("the party's store failed while standing by", error=str(exc))
        return None
    finally:
        api.stop()
        sweeper.cancel()
        node.stopped.set()  # the desk's reading store closes with it
        await standby.close()
        with contextlib.suppress(asyncio.CancelledError):
            await api_task
        await _stop_server(console_server, console_task)
        await reading.close()


async def _record_settings(config: NodeConfig) -> None:
    try:
        await asyncio.to_thread(record_settings, config)
    except StoreError as exc:  # the comparison waits for the next role; the store's own failure is told
        log.warning("could not record this node's settings in the party's store", error=str(exc))


async def check_party_forever(desk: Desk) -> None:
    """The active node of a party checks its other nodes (running, and with its settings) now and then."""
    while True:
        try:
            await desk.check_party()
        except StoreError as exc:
            log.warning("could not check the party's other nodes", error=str(exc))
        await asyncio.sleep(SETTINGS_CHECK_EVERY_S)


async def watch_console(desk: Desk, config: NodeConfig, serving: asyncio.Task[None]) -> None:
    """The active node watches its console's HTTPS listener: the certificate's end, looked at
    every hour, and the server itself. Either is an alarm on the board, in ``alerts``,
    /v1/health and /metrics (``Kind.CONSOLE_TROUBLE``), not only a line in the log."""
    while True:
        facts = console_certificate(config)
        now = dt.datetime.fromtimestamp(desk.now_ms() / 1000, dt.UTC)
        desk.report_console(certificate_trouble(facts, now) if facts else None)
        done, _ = await asyncio.wait({serving}, timeout=CONSOLE_CHECK_EVERY_S)
        if serving in done:  # this task is cancelled first when the node stops: this is a failure
            failure = None if serving.cancelled() else serving.exception()
            desk.report_console({"what": "failed", "error": repr(failure) if failure else "it stopped serving"})
            return


async def _pause(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await stop.wait()


async def serve_active(
    config: NodeConfig,
    store: Store,
    signals: StopSignals | None = None,
    api_socket: socket.socket | None = None,
    listener: ConsoleListener | None = None,
) -> str | None:
    """Serve as the party's node (its only one, or its active one) until stopped or until the
    node stops itself; why it did, or None."""
    api_socket = api_socket or bind(config.api)
    node = Node(config, store)
    # The API and console are built before the node starts: building them holds the event loop
    # for tens of milliseconds, which must not fall between a link coming up and the first
    # envelope on it (a FLASH waiting for the peer's return would wait that long again).
    refusals = Refusals()
    bounds = config.bounds
    desk = Desk(node)
    app = build_app(desk, config, refusals)
    api = ApiServer(
        uvicorn.Config(
            app,
            # uvicorn's h11 protocol, with a deadline for a request's head and a bound on
            # connections at once (front/connection.py says why uvicorn's own do not do).
            http=bounded_protocol(bounds.api_connections, bounds.api_header_timeout, refusals),
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=5,  # a browser's open request must not hold a stopping node
            # Forwarded addresses and schemes only from the proxies the operator named (uvicorn
            # would believe any client on 127.0.0.1, which is every client of this API).
            proxy_headers=bool(config.console.trusted_proxies),
            forwarded_allow_ips=list(config.console.trusted_proxies) or None,
        )
    )
    api.config.load()
    refusals.in_use["api_connections"] = lambda: len(api.server_state.connections)
    try:
        await node.start()
    except BaseException:
        api_socket.close()
        await node.stop()
        raise
    if signals is None:
        signals = StopSignals()
        signals.install()
    stop_requested, force = signals.requested, signals.force
    console: ConsoleState = app.state.console
    await console.restore_sessions()  # before any browser is served: none is signed out by the restart
    api_task = asyncio.create_task(api.serve(sockets=[api_socket]))
    console_server, console_task = listener.serve(app.state.console_app, config, refusals) if listener else (None, None)
    sweeper = asyncio.create_task(console.sweep_sessions())
    settings = asyncio.create_task(check_party_forever(desk)) if config.store else None
    console_watch = asyncio.create_task(watch_console(desk, config, console_task)) if console_task else None
    log.info("operator API listening", url=config.api_url)
    waits = {api_task, asyncio.create_task(stop_requested.wait()), asyncio.create_task(node.stopped.wait())}
    _done, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    watchers = {task for task in (settings, console_watch) if task is not None}
    for task in (pending - {api_task}) | {sweeper} | watchers:
        task.cancel()
    api.stop()

    if console_server is not None:
        console_server.stop()

    async def stop_both() -> None:
        await node.stop()
        with contextlib.suppress(asyncio.CancelledError):
            await api_task
        await _stop_server(console_server, console_task)

    unfinished = await stop_within(stop_both(), force, STOP_BOUND)
    if unfinished is not None:
        log.critical("the node did not stop cleanly; ending the process", reason=unfinished)
        with contextlib.suppress(Exception):
            await node.store.close()  # whatever was queued is committed; everything acknowledged already was
        sys.stderr.flush()
        os._exit(1)  # asyncio.run would wait for the task that will not end
    return node.failure or node.store.failure  # a last commit that failed at shutdown counts too


def build_app(desk: Desk, config: NodeConfig, refusals: Refusals) -> FastAPI:
    """The operator API under ``/v1`` (and ``/metrics``), the console on every other path:
    mounted last, so that the API's paths are matched first. In front of both, outermost
    first: the security headers, the Host check, the gate on bodies. The console's state is
    ``.state.console`` (its sessions are swept by ``serve``)."""
    token, bounds = config.api_token(), config.bounds
    app = create_app(desk, token, refusals)
    console_bounds = ConsoleBounds(bounds.console_sessions, bounds.event_streams, bounds.event_streams_per_session)
    console = create_console(desk, console_bounds, refusals)
    app.state.console = console.state.console
    app.state.console_app = console  # served again on the console's own listener, if it has one
    app.mount("/", console)
    # add_middleware wraps what is there: the last added runs first.
    app.add_middleware(
        Gate, token=token, max_body=bounds.api_body_bytes, body_timeout=bounds.api_body_timeout, refusals=refusals
    )  # before any route reads a body: api/gate.py says why
    names = answered_names(parse_address(config.api)[0], config.console.hosts)
    app.add_middleware(HostCheck, names=names, refusals=refusals)
    app.add_middleware(SecurityHeaders)
    return app


async def stop_within(stopping: Awaitable[None], force: asyncio.Event, bound: float) -> str | None:
    """Await ``stopping`` for at most ``bound`` seconds, or until ``force`` is set. None if it
    finished; otherwise why not (the caller then ends the process)."""
    task = asyncio.ensure_future(stopping)
    forced = asyncio.ensure_future(force.wait())
    done, _ = await asyncio.wait({task, forced}, timeout=bound, return_when=asyncio.FIRST_COMPLETED)
    forced.cancel()
    if task in done:
        task.result()
        return None
    return "a second stop signal" if forced in done else f"not stopped within {bound:g} s"
