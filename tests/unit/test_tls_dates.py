"""A pinned certificate is trusted whatever its dates: a wrong clock must not cut the channel."""

from __future__ import annotations

import datetime as dt
import socket
import ssl
import threading
from pathlib import Path

import pytest

from hotline.crypto.tlscert import CERT_VALIDITY, TlsIdentity, generate_tls_identity
from hotline.node.tls import tls_context

NOW = dt.datetime.now(dt.UTC)


def _write(tmp_path: Path, name: str, identity: TlsIdentity) -> tuple[Path, Path]:
    cert, key = tmp_path / f"{name}.crt", tmp_path / f"{name}.key"
    cert.write_bytes(identity.cert_pem)
    key.write_bytes(identity.key_pem)
    return cert, key


def _handshake(tmp_path: Path, server: TlsIdentity, client: TlsIdentity, pinned: TlsIdentity | None = None) -> str:
    """A real TLS 1.3 handshake over a socket pair, the server pinning ``pinned`` (default: the
    client); returns the version agreed, or raises what either side refused with."""
    server_ctx = tls_context(True, *_write(tmp_path, "server", server), [(pinned or client).cert_der])
    client_ctx = tls_context(False, *_write(tmp_path, "client", client), [server.cert_der])
    left, right = socket.socketpair()
    refused: list[BaseException] = []

    def serve() -> None:
        try:
            with server_ctx.wrap_socket(left, server_side=True) as tls:
                tls.recv(1)
        except (ssl.SSLError, OSError) as exc:
            refused.append(exc)

    thread = threading.Thread(target=serve)
    thread.start()
    version = ""
    try:
        with client_ctx.wrap_socket(right) as tls:
            version = tls.version() or ""
            tls.sendall(b"x")
            tls.recv(1)  # the server's close, or its refusal
    except (ssl.SSLError, OSError) as exc:
        thread.join(5)
        raise (refused or [exc])[0] from None  # the server's reason first: it checks the pin here
    thread.join(5)
    if refused:
        raise refused[0]
    return version


@pytest.mark.parametrize(
    "when",
    [NOW + dt.timedelta(days=30), NOW - CERT_VALIDITY - dt.timedelta(days=30)],
    ids=["not-yet-valid", "expired"],
)
def test_pinned_certificates_out_of_their_dates_still_connect(tmp_path: Path, when: dt.datetime) -> None:
    # A peer whose clock runs a month ahead made its certificate "in the future"; one made
    # long ago has "expired". Both are still the pinned certificate, so the link comes up.
    odd, now = generate_tls_identity("SACEUR", when), generate_tls_identity("GENSTAB", NOW)
    assert _handshake(tmp_path, odd, now) == "TLSv1.3"
    assert _handshake(tmp_path, now, odd) == "TLSv1.3"


def test_an_unpinned_certificate_is_still_refused(tmp_path: Path) -> None:
    server, client, stranger = (generate_tls_identity(p, NOW) for p in ("SACEUR", "GENSTAB", "STRANGER"))
    with pytest.raises((ssl.SSLError, OSError), match=r"(?i)certificate"):
        _handshake(tmp_path, server, stranger, pinned=client)  # the server pins GENSTAB, not the stranger
