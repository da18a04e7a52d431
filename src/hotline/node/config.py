"""The node directory: keys, certificate, API token, configuration and store, in one place.

DIR/config.toml     party name, listen and API addresses, timers (operator-editable)
DIR/signing.key     Ed25519 signing key, PEM, mode 0600
DIR/tls.key         TLS private key, PEM, mode 0600
DIR/tls.crt         self-signed TLS certificate, PEM
DIR/api.token       bearer token for the local operator API, mode 0600
DIR/store.db        the SQLite store (plus its -wal and -shm files)
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import secrets
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import tomli_w
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from hotline.crypto import SigningKey, TlsIdentity, generate_signing_key, generate_tls_identity
from hotline.crypto.keys import load_signing_key, signing_key_pem
from hotline.envelope.model import PARTY_PATTERN
from hotline.errors import ConfigError, EncodingError, PairingError
from hotline.node.card import IdentityCard, parse_address

LANGUAGES = ("en", "ru")


@dataclass(frozen=True)
class Timers:
    heartbeat: float = 5.0  # seconds of silence before we ping
    dead_after: float = 15.0  # seconds of silence before the link is declared dead
    backoff_min: float = 0.2  # first reconnect delay
    backoff_max: float = 5.0  # reconnect delay cap: seconds, never minutes
    window: int = 512  # envelopes signed and unreceipted per peer at most


@dataclass(frozen=True)
class NodeConfig:
    directory: Path
    party: str
    listen: str
    api: str
    advertise: tuple[str, ...]
    language: str = "en"  # the language this party writes and reads in
    timers: Timers = field(default_factory=Timers)

    @property
    def store_path(self) -> Path:
        return self.directory / "store.db"

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

    def card(self) -> IdentityCard:
        return IdentityCard(
            party=self.party,
            sign_key=self.signing_key().verify_key.raw,
            tls_cert=self.tls_cert_der(),
            addresses=self.advertise,
        )


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{path} is missing: is this a node directory? (create one with `hotline init`)") from None


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def init_node(
    directory: Path, party: str, listen: str, api: str, advertise: tuple[str, ...] = (), language: str = "en"
) -> NodeConfig:
    """Create a node directory with fresh keys. Refuses to touch an existing node."""
    if not PARTY_PATTERN.match(party):
        raise ConfigError(f"{party!r} is not a valid party name: 2-32 capital letters, digits, - or _")
    if language not in LANGUAGES:
        raise ConfigError(f"language {language!r} is not one of {', '.join(LANGUAGES)}")
    check_addresses(listen, api, advertise)
    if (directory / "config.toml").exists():
        raise ConfigError(f"{directory} already holds a node; refusing to overwrite its keys")
    if directory.exists() and any(directory.iterdir()):
        raise ConfigError(f"{directory} is not empty; a node directory must start empty")
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o700)
    tls: TlsIdentity = generate_tls_identity(party, dt.datetime.now(dt.UTC))
    _write_private(directory / "signing.key", signing_key_pem(generate_signing_key()))
    _write_private(directory / "tls.key", tls.key_pem)
    (directory / "tls.crt").write_bytes(tls.cert_pem)
    _write_private(directory / "api.token", secrets.token_urlsafe(32).encode() + b"\n")
    settings = {
        "party": party,
        "listen": listen,
        "api": api,
        "advertise": list(advertise or (listen,)),
        "language": language,
    }
    (directory / "config.toml").write_text(
        "# hotline node configuration. Keys live beside this file; never share the .key files.\n"
        + tomli_w.dumps(settings)
    )
    return load_config(directory)


def check_addresses(listen: str, api: str, advertise: tuple[str, ...]) -> None:
    """Refuse addresses that cannot work, or that would expose the operator API."""
    try:
        listen_host, _ = parse_address(listen)
        api_host, _ = parse_address(api)
        for address in advertise:
            parse_address(address)
    except PairingError as exc:
        raise ConfigError(str(exc)) from None
    if listen == api:
        raise ConfigError(f"--listen and --api are both {listen}; they need two ports")
    if not _is_loopback(api_host):
        raise ConfigError(f"--api {api} is not a loopback address: the operator API must not leave this machine")
    if listen_host in ("0.0.0.0", "::") and not advertise:  # noqa: S104 - checking, not binding
        raise ConfigError(f"--listen {listen} is not an address a peer can dial; give --advertise HOST:PORT")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


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
        return NodeConfig(
            directory=directory,
            party=str(raw["party"]),
            listen=str(raw["listen"]),
            api=str(raw["api"]),
            advertise=tuple(raw.get("advertise", [raw["listen"]])),
            language=str(raw.get("language", "en")),
            timers=timers,
        )
    except (KeyError, TypeError) as exc:
        raise ConfigError(f"{path}: missing or unknown setting {exc}") from None
