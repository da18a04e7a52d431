"""Real nodes as subprocesses: ``python -m hotline run`` on loopback, for the integration tests,
the benchmark and the demo alike.

A ``NodeProcess`` is a node directory and, once launched, its process. It is made the way an
operator makes one (``hotline.node.init_node``, then ``config.toml`` edited, then peers pinned
through the real CLI), and it runs as a real process that is stopped as an operator stops it
(SIGTERM, waited for within a bound) or killed as a crash would (SIGKILL). The helper waits for
what it can observe, never for a fixed time: a node is ready when its API answers
``GET /v1/health`` (200, or 503 when it runs with an alarm standing).

Two faces add the operator API to the process, one per kind of caller:

- ``BlockingNode``: ``start()``, ``api()`` and ``connected()`` on an ``httpx.Client``, for code
  without an event loop (the benchmark, the demo);
- ``AsyncNode``: the same, awaited, on an ``httpx.AsyncClient`` (the integration tests).

Errors: a node that exits while awaited, will not stop within its bound, or a CLI step that fails
raise ``NodeProcessError``; an API answer of 400 or more raises ``hotline.errors.ApiError``
(transport errors stay ``httpx`` errors: a test may be talking to a node it has just killed); a
wait that runs out of time raises ``TimeoutError``.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import tomllib
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self, TypeVar

import httpx
import tomli_w

from hotline.errors import ApiError, ConfigError, HotlineError
from hotline.node import NodeConfig, init_node, load_config, parse_address

__all__ = [
    "QUIET_WATCH",
    "READY_WITHIN",
    "STOP_WITHIN",
    "AsyncNode",
    "BlockingNode",
    "NodeProcess",
    "NodeProcessError",
    "add_user",
    "check_free",
    "claim_ports",
    "configure",
    "free_port",
    "init_directory",
    "kill_leftovers",
    "lanes_up",
    "pair",
    "pin",
    "run_cli",
    "stop_all",
    "wait_for",
    "wait_until",
]

T = TypeVar("T")

READY_WITHIN = 30.0  # seconds for a started node to answer on its API
# Seconds from SIGTERM to the end of the process before it is killed. The node bounds its own
# stop (``hotline.server.STOP_BOUND``, 10 s); twice that means something is wrong.
STOP_WITHIN = 20.0
READY = (200, 503)  # GET /v1/health: up; 503 is up with an alarm standing
POLL = 0.05  # seconds between looks at a condition

# No automatic link tests or readiness checks: the traffic is the caller's own, so that counted
# sequence numbers and measured figures are not disturbed.
QUIET_WATCH: dict[str, Any] = {"changes": [], "link_test_interval": 0, "link_test_timeout": 60}

# A kept-alive connection is dropped well before the node's server closes it (uvicorn, after 5 s
# idle): at the same 5 s, a request sent as the server closed its connection failed with
# "Server disconnected without sending a response".
_LIMITS = httpx.Limits(keepalive_expiry=1.0)
_LAUNCHED: list[subprocess.Popen[bytes]] = []  # every node process, for kill_leftovers
_GIVEN_PORTS: set[int] = set()


class NodeProcessError(HotlineError):
    """A node process did not do what was awaited: it exited, it would not stop, or a CLI step failed."""


# -- ports and waiting --------------------------------------------------------------------------


def free_port() -> int:
    """A loopback port free now and not handed out before by this process: the kernel may offer a
    just-released port again, and two nodes (or one node's two sockets) must never share one."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if port not in _GIVEN_PORTS:
            _GIVEN_PORTS.add(port)
            return port


def claim_ports(ports: Iterable[int]) -> bool:
    """Claim these loopback ports if all are free now and none was handed out before."""
    wanted = list(ports)
    if any(p in _GIVEN_PORTS for p in wanted) or not all(_bindable(p) for p in wanted):
        return False
    _GIVEN_PORTS.update(wanted)
    return True


def _bindable(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def check_free(address: str, purpose: str) -> None:
    """Fail early, with the reason, if a node could not listen on ``address`` (as the node would)."""
    host, port = parse_address(address)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            raise ConfigError(f"cannot listen on {address} {purpose}: {exc.strerror}") from None


def wait_until(condition: Callable[..., T | None], timeout: float, what: str, interval: float = POLL) -> T:
    """Look at an observable condition until it holds, and return what it said. (``...``: a lambda
    that binds a loop variable as a default argument is a condition too.)"""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


async def wait_for(
    condition: Callable[..., Awaitable[T | None]], timeout: float, what: str, interval: float = POLL
) -> T:
    """``wait_until`` for an event loop: the condition is awaited (an API answer, a file)."""
    deadline = time.monotonic() + timeout
    while True:
        result = await condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(interval)


# -- a node directory, made as an operator makes one --------------------------------------------


def init_directory(
    directory: Path,
    party: str,
    *,
    language: str = "en",
    listen: str | None = None,
    api: str | None = None,
    advertise: tuple[str, ...] = (),
    witness_only: bool = False,
    settings: dict[str, Any] | None = None,
    store: str = "",
) -> NodeConfig:
    """A new node directory, on free loopback ports unless given; ``settings`` replace top-level
    tables of its ``config.toml``; ``store``: a PostgreSQL database's address for its store."""
    listen = listen or f"127.0.0.1:{free_port()}"
    api = api or f"127.0.0.1:{free_port()}"
    config = init_node(directory, party, listen, api, advertise, language, witness_only, store)
    if not settings:
        return config
    configure(directory, settings)
    return load_config(directory)


def configure(directory: Path, settings: dict[str, Any]) -> None:
    """Change top-level tables of a node's config.toml, as an operator would with an editor."""
    path = directory / "config.toml"
    raw = tomllib.loads(path.read_text())
    raw.update(settings)
    path.write_text(tomli_w.dumps(raw))


def run_cli(*args: str, stdin: str | None = None) -> str:
    """Run the real CLI (``python -m hotline ...``); its output, or ``NodeProcessError``."""
    command = [sys.executable, "-m", "hotline", *args]
    result = subprocess.run(command, capture_output=True, text=True, check=False, input=stdin)  # noqa: S603 - our CLI
    if result.returncode != 0:
        raise NodeProcessError(f"hotline {' '.join(args[:2])} failed: {result.stderr.strip()}")
    return result.stdout


def pin(node: NodeProcess, other: NodeConfig) -> None:
    """Pin ``other`` at ``node`` through the real CLI, while ``node`` is not running."""
    card = other.card()
    run_cli("peer", "add", "--dir", str(node.config.directory), card.line(), "--fingerprint", card.fingerprint)


def pair(*nodes: NodeProcess) -> None:
    """Pin every node at every other: two nodes paired, or more in a full mesh."""
    for node in nodes:
        for other in nodes:
            if other is not node:
                pin(node, other.config)


def add_user(node: NodeProcess, name: str, role: str, password: str) -> None:
    """A console account, through the real CLI (the password on standard input)."""
    directory = str(node.config.directory)
    run_cli("user", "add", "--dir", directory, "--name", name, "--role", role, "--password-file", "-", stdin=password)


def lanes_up(status: dict[str, Any], peer: str) -> bool:
    """Whether a ``GET /v1/status`` answer shows every lane to ``peer`` up."""
    return any(p["peer"] == peer and all(p["lanes"].values()) for p in status["peers"])


def _answer(party: str, method: str, path: str, response: httpx.Response) -> Any:
    if response.status_code >= 400:
        message = f"{party} {method} {path}: {response.status_code} {response.text[:2000]}"
        raise ApiError(message, response.status_code)
    return response.json()


# -- the process --------------------------------------------------------------------------------


@dataclass(eq=False)
class NodeProcess:
    """A node directory and, once launched, its ``hotline run`` process; its log in ``log_path``."""

    config: NodeConfig
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)  # over this process's environment
    run_args: list[str] = field(default_factory=list)  # after ``hotline run --dir DIR``
    # True: the log is written line by line (a test reads it as it grows); False: buffered (with
    # PYTHONUNBUFFERED every log line costs two write() calls); None: as this environment says.
    unbuffered: bool | None = None
    own_session: bool = False  # a terminal's Ctrl-C then reaches the caller only, who stops the node
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)
    starts: int = field(default=0, init=False)

    @classmethod
    def create(
        cls,
        root: Path,
        party: str,
        *,
        language: str = "en",
        listen: str | None = None,
        api: str | None = None,
        advertise: tuple[str, ...] = (),
        witness_only: bool = False,
        settings: dict[str, Any] | None = None,
        store: str = "",
    ) -> Self:
        """A new node in ``root/<party>`` (see ``init_directory``), logging to ``root/<party>.log``."""
        name = party.lower()
        config = init_directory(
            root / name,
            party,
            language=language,
            listen=listen,
            api=api,
            advertise=advertise,
            witness_only=witness_only,
            settings=settings,
            store=store,
        )
        return cls(config, root / f"{name}.log")

    @property
    def party(self) -> str:
        return self.config.party

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def reload(self) -> None:
        """Read ``config.toml`` again (after ``configure``); the node reads it when it starts."""
        self.config = load_config(self.config.directory)

    def command(self) -> list[str]:
        node = [sys.executable, "-m", "hotline", "run", "--dir", str(self.config.directory)]
        return [*node, *self.run_args]

    def environment(self) -> dict[str, str]:
        env = dict(os.environ)
        if self.unbuffered:
            env["PYTHONUNBUFFERED"] = "1"
        elif self.unbuffered is not None:
            env.pop("PYTHONUNBUFFERED", None)
        return env | self.env

    def launch(self) -> None:
        """Start the process and return at once; the faces' ``start`` also waits until it is ready."""
        if self.running():
            raise NodeProcessError(f"{self.party} is already running")
        self.starts += 1
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - our own interpreter
                self.command(),
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.environment(),
                start_new_session=self.own_session,
            )
        _LAUNCHED.append(self.process)

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def check_alive(self) -> None:
        if self.process is not None and self.process.poll() is not None:
            raise NodeProcessError(f"{self.party} exited with {self.process.returncode}; see {self.log_path}")

    def terminate(self) -> None:
        """SIGTERM, without waiting: the node stops as an operator's ``kill`` stops it."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def wait_stopped(self, within: float = STOP_WITHIN) -> int:
        """The exit code (0 if never started); a node still running after ``within`` seconds is
        killed, and that is a ``NodeProcessError``: nothing may outlive its caller."""
        if self.process is None:
            return 0
        try:
            return self.process.wait(within)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
            raise NodeProcessError(
                f"{self.party} did not stop within {within} s; killed (see {self.log_path})"
            ) from None

    def stop(self, within: float = STOP_WITHIN) -> int:
        self.terminate()
        return self.wait_stopped(within)

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind, as in a crash or a power cut of the process."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.config.api_token()}"}

    def http_client(self, timeout: float) -> httpx.Client:
        """A client of this node's operator API, with its bearer token."""
        return httpx.Client(base_url=self.config.api_url, headers=self._headers(), timeout=timeout, limits=_LIMITS)

    def async_http_client(self, timeout: float) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.config.api_url, headers=self._headers(), timeout=timeout, limits=_LIMITS)


def stop_all(nodes: Iterable[NodeProcess], within: float = STOP_WITHIN) -> dict[str, int]:
    """SIGTERM every node at once, then wait for each; exit codes by party. Every node is stopped
    or killed before the first that overran its bound is raised."""
    nodes = list(nodes)
    for node in nodes:
        node.terminate()
    codes: dict[str, int] = {}
    overran: list[NodeProcessError] = []
    for node in nodes:
        try:
            codes[node.party] = node.wait_stopped(within)
        except NodeProcessError as exc:
            overran.append(exc)
    if overran:
        raise overran[0]
    return codes


def kill_leftovers() -> None:
    """Kill every node process still running, so that none outlives its caller (a test session)."""
    for process in _LAUNCHED:
        if process.poll() is None:
            process.kill()
            process.wait(10)


# -- the operator API, blocking or awaited -------------------------------------------------------


@dataclass(eq=False)
class BlockingNode(NodeProcess):
    """A node process with its operator API on a blocking ``httpx.Client`` (safe across threads)."""

    timeout: float = 30.0  # seconds for an API request
    client: httpx.Client = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.client = self.http_client(self.timeout)

    def start(self, within: float = READY_WITHIN) -> None:
        """Launch, and return once the API answers; a node that exits first is an error at once."""
        self.launch()
        self.wait_ready(within)

    def wait_ready(self, within: float = READY_WITHIN) -> None:
        """After ``launch``: return once the API answers (launch several, then wait for each)."""
        wait_until(self._ready, within, f"{self.party} to answer on its API")

    def _ready(self) -> bool:
        self.check_alive()
        try:
            return self.client.get("/v1/health", timeout=1.0).status_code in READY
        except httpx.HTTPError:
            return False

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        """The decoded JSON answer; ``ApiError`` for a status of 400 or more."""
        return _answer(self.party, method, path, self.client.request(method, path, **kwargs))

    def connected(self, peer: str) -> bool:
        return lanes_up(self.api("GET", "/v1/status"), peer)

    def close(self) -> None:
        self.client.close()


@dataclass(eq=False)
class AsyncNode(NodeProcess):
    """A node process with its operator API on an ``httpx.AsyncClient``. ``stop`` and ``kill``
    block: a test wants the node gone before it goes on."""

    timeout: float = 30.0
    client: httpx.AsyncClient = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.client = self.async_http_client(self.timeout)

    async def start(self, within: float = READY_WITHIN) -> None:
        self.launch()
        await self.wait_ready(within)

    async def wait_ready(self, within: float = READY_WITHIN) -> None:
        await wait_for(self._ready, within, f"{self.party} to answer on its API")

    async def _ready(self) -> bool:
        self.check_alive()
        try:
            return (await self.client.get("/v1/health", timeout=1.0)).status_code in READY
        except httpx.HTTPError:
            return False

    async def api(self, method: str, path: str, **kwargs: Any) -> Any:
        return _answer(self.party, method, path, await self.client.request(method, path, **kwargs))

    async def connected(self, peer: str) -> bool:
        return lanes_up(await self.api("GET", "/v1/status"), peer)

    async def aclose(self) -> None:
        await self.client.aclose()
