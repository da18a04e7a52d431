"""The node directory: keys, certificate, API token, configuration and store, in one place.

DIR/config.toml     party name, listen and API addresses, timers (operator-editable)
DIR/signing.key     Ed25519 signing key, PEM, mode 0600
DIR/tls.key         TLS private key, PEM, mode 0600
DIR/next-signing.key the signing key the party rotates to next, PEM, mode 0600: move it offline
DIR/tls.crt         self-signed TLS certificate, PEM
DIR/api.token       bearer token for the local operator API, mode 0600
DIR/store.db        the SQLite store (plus its -wal and -shm files), unless config.toml names a
                    PostgreSQL database (``store = "postgresql://..."``), which every node of
                    the party shares
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import tomli_w
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from hotline import storage
from hotline.crypto import SigningKey, TlsIdentity, generate_signing_key, generate_tls_identity
from hotline.crypto.keys import load_signing_key, signing_key_pem
from hotline.crypto.rotation import commitment
from hotline.envelope.model import PARTY_PATTERN, Precedence
from hotline.errors import ConfigError, EncodingError
from hotline.node.addresses import check_addresses
from hotline.node.card import IdentityCard, b64, parse_address
from hotline.node.clock import wall_ms
from hotline.node.console_settings import ConsoleSettings, console_settings
from hotline.node.declaration_settings import declaration_schedules
from hotline.node.key_settings import KeySettings, key_settings
from hotline.protocol.paths import MAX_PATHS, PathTiming
from hotline.storage import is_database_url
from hotline.watch import DEFAULT_DEADLINES, DeadlinePolicy, parse_watch_changes
from hotline.watch.alarms import Limits
from hotline.watch.declaring import Schedule

LANGUAGES = ("en", "ru")
CONSOLE_CERT, CONSOLE_KEY = "console.crt", "console.key"
NEXT_KEY_FILE = "next-signing.key"  # the key the party rotates to next (keep it offline)
DEFAULT_WATCH_CHANGES = ("06:00", "18:00")


@dataclass(frozen=True)
class WatchSettings:
    """The watch's timetable and the acknowledgement deadlines agreed with the peers."""

    deadlines: DeadlinePolicy = field(default_factory=DeadlinePolicy)
    peer_deadlines: Mapping[str, DeadlinePolicy] = field(default_factory=dict)
    changes: tuple[int, ...] = parse_watch_changes(list(DEFAULT_WATCH_CHANGES))  # minutes after 00:00 UTC
    link_test_interval: float = 3600.0  # seconds between automatic link tests to each peer; 0: off
    link_test_timeout: float = 60.0  # a link test unanswered this long has failed

    def policy(self, peer: str) -> DeadlinePolicy:
        return self.peer_deadlines.get(peer, self.deadlines)


@dataclass(frozen=True)
class Timers:
    heartbeat: float = 5.0  # seconds of silence before we ping
    dead_after: float = 15.0  # seconds of silence before the link is declared dead
    backoff_min: float = 0.2  # first reconnect delay
    backoff_max: float = 5.0  # reconnect delay cap: seconds, never minutes
    window: int = 512  # envelopes signed and unreceipted per peer at most
    checkpoint_interval: float = 1.0  # seconds between checkpoints of our transcript, if it grew
    # Paths (protocol/paths.py): the shortest probe interval of a path's urgent link, the
    # shortest silence that takes a path down, and how long a returning preferred path must
    # stay up before it carries ordinary traffic again.
    probe_min: float = 0.1
    silence_min: float = 0.35
    path_hold: float = 2.0

    def path_timing(self) -> PathTiming:
        return PathTiming(self.probe_min, self.heartbeat, self.silence_min, self.path_hold)


@dataclass(frozen=True)
class AlarmSettings:
    """When the channel's own health becomes an alarm (``watch/alarms.py`` says why these
    values), and where alarms go beyond the screen."""

    peer_unreachable: float = 30.0  # seconds with no path up
    path_down: float = 5.0  # seconds one path may be down while another carries the traffic
    flash_undelivered: float = 30.0  # seconds a FLASH may wait for the peer's receipt
    immediate_undelivered: float = 120.0  # seconds an IMMEDIATE may wait for it
    clock_tolerance: float = 30.0  # seconds the peer's clock may differ from ours
    hook_command: tuple[str, ...] = ()  # run with each alarm as JSON on standard input
    hook_url: str | None = None  # or POST it here
    hook_timeout: float = 10.0

    def limits(self, watch: WatchSettings) -> Limits:
        return Limits(
            unreachable_ms=round(self.peer_unreachable * 1000),
            path_down_ms=round(self.path_down * 1000),
            undelivered_ms={
                Precedence.FLASH: round(self.flash_undelivered * 1000),
                Precedence.IMMEDIATE: round(self.immediate_undelivered * 1000),
            },
            clock_tolerance_ms=round(self.clock_tolerance * 1000),
            link_test_interval_ms=round(watch.link_test_interval * 1000),
            link_test_timeout_ms=round(watch.link_test_timeout * 1000),
        )


MIB = 1 << 20


@dataclass(frozen=True)
class Bounds:
    """What anyone can take of this node without proving who they are, or what a reader can
    ask of it, at most (``[bounds]`` in config.toml; docs/operations.md lists what an operator
    sees when each is reached). The defaults hold on a small machine: two cores, 1,024 file
    handles before the node raises its own limit at start."""

    # The peer port: connections whose TLS handshake has not finished, in all and from one
    # source address, and how long a handshake may take. Each costs about 0.3 MB (asyncio's
    # TLS buffers) until it proves a pinned certificate or is closed.
    peer_handshakes: int = 64
    peer_handshakes_per_source: int = 8
    peer_handshake_timeout: float = 5.0
    # The operator API and console: connections at once, seconds for a request's head and for
    # its body to arrive whole, and the largest body read.
    api_connections: int = 256
    api_header_timeout: float = 10.0
    api_body_timeout: float = 30.0
    api_body_bytes: int = 4 * MIB
    # Live event streams (the console's board and the API's watch), in all and per session.
    event_streams: int = 64
    event_streams_per_session: int = 4
    # The console's HTTPS listener ([console] listen): connections whose TLS handshake has not
    # finished, in all and from one source address (a proxy or a NAT is one source; a browser
    # opens up to six connections at once). The handshake's time is api_header_timeout.
    console_handshakes: int = 64
    console_handshakes_per_source: int = 16
    # Console sessions in all: past this, the longest idle is signed out.
    console_sessions: int = 256
    # Bytes of refused envelopes kept as evidence per peer per UTC day: beyond it they are
    # counted, not kept.
    evidence_bytes_per_peer_day: int = 16 * MIB
    # Rows on one page of the board, the inbox, the outbox and the alarms.
    page_rows: int = 100
    # Peers offered our transcript's checkpoints to cosign, besides every neutral witness: in a
    # network, a quorum chosen by hashing (log/quorum.py), not every peer.
    witnesses: int = 4


@dataclass(frozen=True)
class NodeConfig:
    directory: Path
    party: str
    listen: str
    api: str
    advertise: tuple[str, ...]
    language: str = "en"  # the language this party writes and reads in
    witness_only: bool = False  # a neutral party: witnesses the peers' transcripts, sends nothing
    timers: Timers = field(default_factory=Timers)
    watch: WatchSettings = field(default_factory=WatchSettings)
    console: ConsoleSettings = field(default_factory=ConsoleSettings)
    alarms: AlarmSettings = field(default_factory=AlarmSettings)
    bounds: Bounds = field(default_factory=Bounds)
    # Per peer, its paths in the order this node prefers them (0-based; [path_order] in
    # config.toml counts from 1): those not named follow in the order the peer advertised them.
    path_order: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    store: str = ""  # a PostgreSQL database's address; empty: the SQLite file in the directory
    node: int = 0  # this node's number among the party's nodes on that database (0: the only one)
    keys: KeySettings = field(default_factory=KeySettings)
    declarations: Mapping[str, Schedule] = field(default_factory=dict)  # the agreed rhythm, per peer

    @property
    def store_path(self) -> Path:
        return self.directory / "store.db"

    @property
    def store_location(self) -> Path | str:
        """Where the store is: the PostgreSQL database named, or else the SQLite file."""
        return self.store or self.store_path

    @property
    def api_url(self) -> str:
        host, port = parse_address(self.api)
        return f"http://{host}:{port}"

    def api_token(self) -> str:
        return _read(self.directory / "api.token").decode().strip()

    def signing_key(self) -> SigningKey:
        try:
            return load_signing_key(_read(self.directory / "signing.key"))
        except (ValueError, EncodingError) as exc:
            raise ConfigError(f"{self.directory / 'signing.key'} is damaged: {exc}") from None

    def tls_files(self) -> tuple[Path, Path]:
        return self.directory / "tls.crt", self.directory / "tls.key"

    def tls_cert_der(self) -> bytes:
        pem = _read(self.directory / "tls.crt")
        return x509.load_pem_x509_certificate(pem).public_bytes(serialization.Encoding.DER)

    @property
    def console_url(self) -> str:
        """The console's HTTPS address, if it has a listener of its own; else ''."""
        if not self.console.listen:
            return ""
        host, port = parse_address(self.console.listen)
        return f"https://{f'[{host}]' if ':' in host else host}:{port}"

    def console_tls_files(self) -> tuple[Path, Path]:
        """The console's certificate and key: as configured, or console.crt and console.key."""
        cert = self.directory / (self.console.cert or CONSOLE_CERT)
        key = self.directory / (self.console.key or CONSOLE_KEY)
        return cert, key  # an absolute path configured stays as it is (``/`` ignores the left side)

    def card(self) -> IdentityCard:
        """The party's card. A party of several nodes names, on each path, every node's address
        (as the shared database lists them), so that a peer can find whichever is active."""
        addresses = storage.card_addresses(storage.party_nodes(self.store)) if self.store else ()
        return IdentityCard(
            party=self.party,
            sign_key=self.signing_key().verify_key.raw,
            tls_cert=self.tls_cert_der(),
            addresses=addresses or self.advertise,
            witness=self.witness_only,
            next_key=self.keys.next,
            log=self.keys.log,
        )


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{path} is missing: is this a node directory? (create one with `hotline init`)") from None


def write_private(path: Path, data: bytes) -> None:
    """A new file only its owner reads (mode 0600), fsynced; refuses to overwrite one."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def replace_private(path: Path, data: bytes) -> None:
    """``write_private`` beside ``path``, then renamed over it: a stop leaves the old file or
    the new one whole (a key replaced by a rotation)."""
    partial = path.with_name(f".{path.name}.partial")
    partial.unlink(missing_ok=True)
    write_private(partial, data)
    partial.replace(path)


def init_node(
    directory: Path,
    party: str,
    listen: str,
    api: str,
    advertise: tuple[str, ...] = (),
    language: str = "en",
    witness_only: bool = False,
    store: str = "",
    console: dict[str, str] | None = None,
) -> NodeConfig:
    """Create a node directory with fresh keys. Refuses to touch an existing node. ``store``: a
    PostgreSQL database to keep the store in, checked (reachable, empty or this party's, a
    schema this program reads) and claimed for the party before anything is written.
    ``console``: the console's own listener (``listen``, and ``cert`` and ``key`` if the
    organisation gives them), checked by the caller (``console_tls``)."""
    if not PARTY_PATTERN.match(party):
        raise ConfigError(f"{party!r} is not a valid party name: 2-32 capital letters, digits, - or _")
    if language not in LANGUAGES:
        raise ConfigError(f"language {language!r} is not one of {', '.join(LANGUAGES)}")
    check_addresses(listen, api, advertise)
    console = console or {}
    if console.get("listen") in (listen, api):
        raise ConfigError(
            f"--console {console['listen']} is taken by --listen or --api; the console needs a port of its own"
        )
    if (directory / "config.toml").exists():
        raise ConfigError(f"{directory} already holds a node; refusing to overwrite its keys")
    if directory.exists() and any(directory.iterdir()):
        raise ConfigError(f"{directory} is not empty; a node directory must start empty")
    if store:
        if not is_database_url(store):
            raise ConfigError(f"--store {store!r} is not a PostgreSQL address (postgresql://USER@HOST:PORT/DATABASE)")
        storage.claim_database(store, party)
        node = storage.register_node(store, listen, api, advertise or (listen,))
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o700)
    tls: TlsIdentity = generate_tls_identity(party, dt.datetime.fromtimestamp(wall_ms() / 1000, dt.UTC))
    write_private(directory / "signing.key", signing_key_pem(generate_signing_key()))
    # The key the party will rotate to, made now so that its card commits to it: move this file
    # off the machine (docs/operations.md, "Rotating keys"); a thief of signing.key alone then
    # cannot rotate the party to a key of its own.
    upcoming = generate_signing_key()
    write_private(directory / NEXT_KEY_FILE, signing_key_pem(upcoming))
    write_private(directory / "tls.key", tls.key_pem)
    (directory / "tls.crt").write_bytes(tls.cert_pem)
    write_private(directory / "api.token", secrets.token_urlsafe(32).encode() + b"\n")
    settings = {
        "party": party,
        "listen": listen,
        "api": api,
        "advertise": list(advertise or (listen,)),
        "language": language,
        "witness_only": witness_only,
        **({"store": store, "node": node} if store else {}),
        "keys": {"next": b64(commitment(upcoming.verify_key.raw))},
        "deadlines": {p.value: s for p, s in DEFAULT_DEADLINES.items()},
        "watch": {"changes": list(DEFAULT_WATCH_CHANGES), "link_test_interval": 3600, "link_test_timeout": 60},
        "console": {"session_lifetime": 46800, "session_idle": 1800, **console},
        "alarms": {
            "peer_unreachable": 30,
            "path_down": 5,
            "flash_undelivered": 30,
            "immediate_undelivered": 120,
            "clock_tolerance": 30,
        },
    }
    write_settings(directory, settings)
    return load_config(directory)


def write_settings(directory: Path, settings: dict[str, Any]) -> None:
    """Write config.toml whole: to a file beside it, fsynced, then renamed over it (a rotation
    writes here, and a crash must leave the old file or the new one, never half of either)."""
    partial = directory / ".config.toml.partial"
    partial.write_text(
        "# hotline node configuration. Keys live beside this file; never share the .key files.\n"
        "# [deadlines]: seconds a person has to acknowledge, by precedence, as agreed with the peers;\n"
        "# a [peer_deadlines.PARTY] table overrides them for one peer. [watch]: watch changes (UTC),\n"
        "# at each of which a readiness check goes to every peer; link tests every interval seconds.\n"
        "# [console]: a console session ends this many seconds after sign-in, or after this many idle.\n"
        "# [alarms]: seconds before a peer without a link, an undelivered FLASH or IMMEDIATE, or clocks\n"
        '# apart become alarms; hook_command = [...] and/or hook_url = "..." pass each alarm on as JSON.\n'
        "# [bounds]: what anyone may take of this node at most (handshakes, connections, timeouts, bodies,\n"
        "# event streams, sessions, evidence, rows on a page); docs/operations.md lists each and its default.\n"
        + tomli_w.dumps(settings)
    )
    with partial.open("rb") as written:
        os.fsync(written.fileno())
    partial.replace(directory / "config.toml")


def load_config(directory: Path) -> NodeConfig:
    path = directory / "config.toml"
    try:
        raw = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(
            f"{directory} is not a node directory (no config.toml; create one with `hotline init`)"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    try:
        timers = Timers(**raw.get("timers", {}))
        watch = _watch_settings(raw)
        check_addresses(str(raw["listen"]), str(raw["api"]), tuple(raw.get("advertise", [raw["listen"]])))
        return NodeConfig(
            directory=directory,
            party=str(raw["party"]),
            listen=str(raw["listen"]),
            api=str(raw["api"]),
            advertise=tuple(raw.get("advertise", [raw["listen"]])),
            language=str(raw.get("language", "en")),
            witness_only=_flag(raw.get("witness_only", False), "witness_only"),
            timers=timers,
            watch=watch,
            console=console_settings(raw),
            alarms=_alarm_settings(raw),
            bounds=_bounds(raw),
            path_order=_path_order(raw),
            store=_store(raw),
            node=int(raw.get("node", 0)),
            keys=key_settings(raw),
            declarations=declaration_schedules(raw),
        )
    except (KeyError, TypeError) as exc:
        raise ConfigError(f"{path}: missing or unknown setting {exc}") from None
    except (ValueError, ConfigError) as exc:
        raise ConfigError(f"{path}: {exc}") from None


def _store(raw: dict[str, Any]) -> str:
    store = raw.get("store", "")
    if not isinstance(store, str) or (store and not is_database_url(store)):
        raise ConfigError(f"store = {store!r} is not a PostgreSQL address (postgresql://USER@HOST:PORT/DATABASE)")
    return store


def _path_order(raw: dict[str, Any]) -> dict[str, tuple[int, ...]]:
    """``[path_order]``: ``GENSTAB = [2, 1]`` sends GENSTAB's ordinary traffic on its second
    advertised path while that is up, rather than on its first."""
    orders = {}
    for party, numbers in dict(raw.get("path_order", {})).items():
        valid = isinstance(numbers, list) and all(
            isinstance(n, int) and not isinstance(n, bool) and 1 <= n <= MAX_PATHS for n in numbers
        )
        if not valid or len(set(numbers)) != len(numbers):
            raise ValueError(
                f"[path_order] {party} must list path numbers from 1 to {MAX_PATHS}, each once, such as [2, 1]"
            )
        orders[str(party)] = tuple(n - 1 for n in numbers)
    return orders


def _watch_settings(raw: dict[str, Any]) -> WatchSettings:
    deadlines = DeadlinePolicy().with_overrides(_seconds(raw.get("deadlines", {}), "deadlines"))
    peers = {
        party: deadlines.with_overrides(_seconds(table, f"peer_deadlines.{party}"))
        for party, table in raw.get("peer_deadlines", {}).items()
    }
    watch = dict(raw.get("watch", {}))
    unknown = set(watch) - {"changes", "link_test_interval", "link_test_timeout"}
    if unknown:
        raise ValueError(f"[watch] has an unknown setting {min(unknown)!r}")
    changes = watch.get("changes", list(DEFAULT_WATCH_CHANGES))
    if not isinstance(changes, list):
        raise ValueError('[watch] changes must be a list of UTC times such as "06:00"')  # noqa: TRY004 - load_config turns ValueError into ConfigError
    interval = watch.get("link_test_interval", 3600)
    timeout = watch.get("link_test_timeout", 60)
    for name, value in (("link_test_interval", interval), ("link_test_timeout", timeout)):
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise ValueError(f"[watch] {name} must be a number of seconds, 0 or more")
    return WatchSettings(deadlines, peers, parse_watch_changes(changes), float(interval), float(timeout))


def _bounds(raw: dict[str, Any]) -> Bounds:
    table = dict(raw.get("bounds", {}))
    kinds = {f.name: f.type for f in fields(Bounds)}
    unknown = set(table) - set(kinds)
    if unknown:
        raise ValueError(f"[bounds] has an unknown setting {min(unknown)!r}")
    for name, value in table.items():
        whole = kinds[name] == "int"
        if isinstance(value, bool) or not isinstance(value, int if whole else int | float) or value <= 0:
            unit = "a whole number" if whole else "a number of seconds"
            raise ValueError(f"[bounds] {name} must be {unit}, more than 0")
    values: dict[str, Any] = {name: value if kinds[name] == "int" else float(value) for name, value in table.items()}
    bounds = Bounds(**values)
    if bounds.peer_handshakes_per_source > bounds.peer_handshakes:
        raise ValueError("[bounds] peer_handshakes_per_source must not be more than peer_handshakes")
    if bounds.console_handshakes_per_source > bounds.console_handshakes:
        raise ValueError("[bounds] console_handshakes_per_source must not be more than console_handshakes")
    if bounds.event_streams_per_session > bounds.event_streams:
        raise ValueError("[bounds] event_streams_per_session must not be more than event_streams")
    return bounds


def _alarm_settings(raw: dict[str, Any]) -> AlarmSettings:
    alarms = dict(raw.get("alarms", {}))
    seconds = {
        "peer_unreachable",
        "path_down",
        "flash_undelivered",
        "immediate_undelivered",
        "clock_tolerance",
        "hook_timeout",
    }
    unknown = set(alarms) - seconds - {"hook_command", "hook_url"}
    if unknown:
        raise ValueError(f"[alarms] has an unknown setting {min(unknown)!r}")
    for name in seconds & set(alarms):
        value = alarms[name]
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise ValueError(f"[alarms] {name} must be a number of seconds, more than 0")
    command = alarms.get("hook_command", [])
    if not isinstance(command, list) or not all(isinstance(part, str) and part for part in command):
        raise ValueError('[alarms] hook_command must be a list such as ["/usr/local/bin/page", "--team", "hotline"]')
    url = alarms.get("hook_url")
    if url is not None and (not isinstance(url, str) or not url.startswith(("http://", "https://"))):
        raise ValueError("[alarms] hook_url must be an http:// or https:// address")
    return AlarmSettings(
        **{name: float(alarms[name]) for name in seconds & set(alarms)},
        hook_command=tuple(command),
        hook_url=url,
    )


def _flag(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be true or false")  # noqa: TRY004 - load_config turns ValueError into ConfigError
    return value


def _seconds(table: Any, where: str) -> dict[str, int]:
    if not isinstance(table, dict) or not all(isinstance(v, int) and not isinstance(v, bool) for v in table.values()):
        raise ValueError(f"[{where}] must map precedences to whole seconds")
    return table
