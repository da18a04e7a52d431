"""Real node processes for integration tests: each node is `python -m hotline run` on loopback."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import tomllib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import tomli_w

from hotline.node.config import NodeConfig, init_node, load_config

STARTED: list[subprocess.Popen[bytes]] = []  # every node process, for the end-of-session sweep


def kill_leftovers() -> None:
    """Kill any node a failed test left running, so that nothing outlives the test session."""
    for process in STARTED:
        if process.poll() is None:
            process.kill()
            process.wait(10)


_GIVEN_PORTS: set[int] = set()


def free_demo_base() -> int:
    """A base port for the demo (it uses base+1, +2, +101, +102), all four free now, below the
    kernel's ephemeral range (from which every other test's ports come) and never given twice."""
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768  # Linux's default
    for base in range(20000, low - 103, 211):
        ports = [base + 1, base + 2, base + 101, base + 102]
        if any(p in _GIVEN_PORTS for p in ports) or not all(_bindable(p) for p in ports):
            continue
        _GIVEN_PORTS.update(ports)
        return base
    raise RuntimeError("no four free ports for the demo below the ephemeral range")


def _bindable(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A port free now and not handed out before in this test session: the kernel may offer a
    just-released port again, and two nodes (or one node's two sockets) must never share one."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if port not in _GIVEN_PORTS:
            _GIVEN_PORTS.add(port)
            return port


async def wait_for(condition: Any, timeout: float, what: str, interval: float = 0.05) -> Any:
    """Poll an observable condition (an API answer, a file) until it holds; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        result = await condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(interval)


@dataclass
class NodeProcess:
    config: NodeConfig
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0
    client: httpx.AsyncClient = field(init=False)
    # Run the node under another program (Debian's faketime, for a node with a wrong clock).
    prefix: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.client = httpx.AsyncClient(
            base_url=self.config.api_url,
            headers={"Authorization": f"Bearer {self.config.api_token()}"},
            timeout=30.0,
        )

    @property
    def party(self) -> str:
        return self.config.party

    async def start(self) -> None:
        self.starts += 1
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                *self.prefix,
                sys.executable,
                "-m",
                "hotline",
                "run",
                "--dir",
                str(self.config.directory),
                "--log-level",
                "DEBUG",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **self.env},
        )
        log.close()
        STARTED.append(self.process)
        await wait_for(self._healthy, 30.0, f"{self.party} to answer on its API")

    async def _healthy(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise AssertionError(f"{self.party} exited with {self.process.returncode}; see {self.log_path}")
        try:
            return (await self.client.get("/v1/health", timeout=1.0)).status_code in (200, 503)  # 503: up, alarmed
        except httpx.HTTPError:
            return False

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind, as in a crash or a power cut of the process."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> int:
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else 0
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()  # a node that will not stop must not outlive the test
            self.process.wait(10)
            raise

    async def api(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await self.client.request(method, path, **kwargs)
        assert response.status_code < 400, f"{method} {path}: {response.status_code} {response.text}"
        return response.json()

    async def connected(self, peer: str) -> bool:
        status = await self.api("GET", "/v1/status")
        return any(p["peer"] == peer and all(p["lanes"].values()) for p in status["peers"])


# Tests that count sequence numbers need a quiet channel: no automatic link tests or readiness
# checks unless a test asks for them.
QUIET_WATCH = {"changes": [], "link_test_interval": 0, "link_test_timeout": 60}


def make_node(
    root: Path,
    party: str,
    language: str = "en",
    advertise: str | None = None,
    watch: dict[str, Any] | None = None,
    deadlines: dict[str, int] | None = None,
    timers: dict[str, Any] | None = None,
    witness_only: bool = False,
) -> NodeProcess:
    listen = f"127.0.0.1:{free_port()}"
    addresses = (advertise,) if advertise else ()
    config = init_node(
        root / party.lower(), party, listen, f"127.0.0.1:{free_port()}", addresses, language, witness_only
    )
    settings = {"watch": QUIET_WATCH if watch is None else watch}
    if deadlines is not None:
        settings["deadlines"] = deadlines
    if timers is not None:
        settings["timers"] = timers
    configure(config.directory, settings)
    return NodeProcess(load_config(config.directory), root / f"{party.lower()}.log")


@contextlib.asynccontextmanager
async def paired(
    root: Path,
    watch: dict[str, Any] | None = None,
    deadlines: dict[str, int] | None = None,
    timers: dict[str, Any] | None = None,
) -> AsyncIterator[tuple[NodeProcess, NodeProcess]]:
    """SACEUR (English) and GENSTAB (Russian), pinned to each other, running; stopped after."""
    a = make_node(root, "SACEUR", "en", watch=watch, deadlines=deadlines, timers=timers)
    b = make_node(root, "GENSTAB", "ru", watch=watch, deadlines=deadlines, timers=timers)
    pin(a, b.config)
    pin(b, a.config)
    await a.start()
    await b.start()
    try:
        yield a, b
    finally:
        for node in (a, b):
            node.stop()
            await node.client.aclose()


def configure(directory: Path, settings: dict[str, Any]) -> None:
    """Change top-level tables of a node's config.toml, as an operator would with an editor."""
    path = directory / "config.toml"
    raw = tomllib.loads(path.read_text())
    raw.update(settings)
    path.write_text(tomli_w.dumps(raw))


def pin(node: NodeProcess, other: NodeConfig) -> None:
    """Pin ``other`` at ``node`` through the real CLI, while ``node`` is not running."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "hotline",
            "peer",
            "add",
            "--dir",
            str(node.config.directory),
            other.card().line(),
            "--fingerprint",
            other.card().fingerprint,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def reload(node: NodeProcess) -> None:
    node.config = load_config(node.config.directory)


class Proxy:
    """A TCP relay on loopback that the test can cut at any moment (a bulldozer on the cable)."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self.writers: set[asyncio.StreamWriter] = set()
        self.server: asyncio.Server | None = None
        self.cuts = 0
        self.accepted = 0  # connections relayed, for tests that count dial attempts

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.close()
            return
        self.writers |= {writer, up_writer}

        async def pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, ConnectionError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.close()

        await asyncio.gather(pump(reader, up_writer), pump(up_reader, writer))
        self.writers -= {writer, up_writer}

    def cut(self) -> None:
        self.cuts += 1
        for writer in list(self.writers):
            writer.transport.abort()
        self.writers.clear()

    async def close(self) -> None:
        self.cut()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()


def query(node: NodeProcess, sql: str, *args: object) -> list[tuple[Any, ...]]:
    """Read a node's store file directly (SQLite WAL lets a reader in beside the running node)."""
    conn = sqlite3.connect(node.config.store_path)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()
