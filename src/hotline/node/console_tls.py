"""The console's HTTPS listener: its certificate, the names it answers to, its TLS settings.

The certificate is the organisation's when ``[console] cert`` and ``key`` name one; otherwise
``console.crt`` and ``console.key`` in the node directory, made at ``hotline init --console``
or, for a node given a listener later in its config.toml, at its first start without them.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import ssl
from pathlib import Path

import structlog

from hotline.crypto.webcert import CertificateFacts, certificate_facts, generate_console_certificate
from hotline.errors import ConfigError
from hotline.node.card import parse_address
from hotline.node.clock import wall_ms
from hotline.node.config import NodeConfig

log = structlog.get_logger("hotline.console")
WILDCARDS = ("0.0.0.0", "::", "")  # noqa: S104 - compared with, never bound
EXPIRY_WARNING = dt.timedelta(days=30)


def console_names(config: NodeConfig) -> list[str]:
    """The names a self-made certificate carries: the listener's own address (unless it listens
    on every address), this machine's names, loopback, and the names in ``[console] hosts``."""
    host, _ = parse_address(config.console.listen)
    names = [] if host in WILDCARDS else [host]
    names += [socket.gethostname(), socket.getfqdn(), "localhost", "127.0.0.1", "::1", *config.console.hosts]
    return [n for n in dict.fromkeys(names) if n]


def make_console_certificate(config: NodeConfig) -> CertificateFacts:
    """Write console.crt (0644) and console.key (0600) for the node; refuses to overwrite."""
    cert_path, key_path = config.console_tls_files()
    now = dt.datetime.fromtimestamp(wall_ms() / 1000, dt.UTC)
    made = generate_console_certificate(config.party, console_names(config), now)
    try:
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise ConfigError(f"{key_path} exists already; refusing to overwrite a key") from None
    with os.fdopen(fd, "wb") as f:
        f.write(made.key_pem)
        f.flush()
        os.fsync(f.fileno())
    cert_path.write_bytes(made.cert_pem)
    return certificate_facts(made.cert_pem, str(cert_path))


def console_certificate(config: NodeConfig) -> CertificateFacts | None:
    """The console certificate's fingerprint, names and end; None without a listener or before
    the certificate is made."""
    if not config.console.listen:
        return None
    cert_path, _ = config.console_tls_files()
    try:
        return certificate_facts(cert_path.read_bytes(), str(cert_path))
    except FileNotFoundError:
        return None


def certificate_trouble(facts: CertificateFacts, now: dt.datetime) -> dict[str, str] | None:
    """The console certificate as an alarm's facts, if it ends within ``EXPIRY_WARNING``: a
    browser refuses it from that day, and after HSTS nobody can click through."""
    left = facts.not_after - now
    if left >= EXPIRY_WARNING:
        return None
    return {"what": "certificate", "not_after": facts.not_after.strftime("%Y-%m-%d"), "days": str(max(0, left.days))}


def console_tls_context(config: NodeConfig) -> ssl.SSLContext:
    """The listener's TLS: 1.3 only, this certificate. A default certificate that is missing is
    made now (and its fingerprint logged); an organisation's that is missing or unusable is an
    error that names the file."""
    cert_path, key_path = config.console_tls_files()
    if not config.console.cert and not cert_path.exists() and not key_path.exists():
        facts = make_console_certificate(config)
        log.warning("made a certificate for the console", fingerprint=facts.fingerprint, names=list(facts.names))
    return check_console_files(cert_path, key_path)


def check_console_files(cert: Path, key: Path) -> ssl.SSLContext:
    """The listener's TLS context for this certificate and key, which must load together."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    try:
        context.load_cert_chain(cert, key)
    except FileNotFoundError as exc:
        raise ConfigError(f"the console's certificate or key is missing: {exc.filename}") from None
    except (ssl.SSLError, OSError) as exc:
        raise ConfigError(f"the console's certificate {cert} and key {key} cannot be used together: {exc}") from None
    return context
