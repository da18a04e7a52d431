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


def _write(tmp_path: Path, name: str, identity: TlsIdentity) -> tuple[Path, Path]:
    cert, key = tmp_path / f"{name}.crt", tmp_path / f"{name}.key"
    cert.write_bytes(identity.cert_pem)
    key.write_bytes(identity.key_pem)
    return cert, key


def _handshake(tmp_path: Path, server_id: TlsIdentity, client_id: TlsIdentity) -> str:
    """A real TLS 1.3 handshake over a socket pair; returns the version agreed."""
    s_cert, s_key = _write(tmp_path, "server", server_id)
    c_cert, c_key = _write(tmp_path, "client", client_id)
    server_ctx = tls_context(True, s_cert, s_key, [client_id.cert_der])
    client_ctx = tls_context(False, c_cert, c_key, [server_id.cert_der])
    left, right = socket.socketpair()
    failure: list[BaseException] = []

    def serve() -> None:
        try:
            with server_ctx.wrap_socket(left, server_side=True) as tls:
                tls.recv(1)
        except (ssl.SSLError, OSError) as exc:
            failure.append(exc)

    thread = threading.Thread(target=serve)
    thread.start()
    try:
        with client_ctx.wrap_socket(right) as tls:
            version = tls.version() or ""
            tls.sendall(b"x")
    finally:
        thread.join(5)
    assert not failure, failure
    return version


NOW = dt.datetime.now(dt.UTC)


@pytest.mark.parametrize(
    "when",
    [NOW + dt.timedelta(days=30), NOW - CERT_VALIDITY - dt.timedelta(days=30)],
    ids=["not-yet-valid", "expired"],
)
def test_pinned_certificates_out_of_their_dates_still_connect(tmp_path: Path, when: dt.datetime) -> None:
    # A peer whose clock runs a month ahead made its certificate "in the future"; one made
    # long ago has "expired". Both are still the pinned certificate, so the link comes up.
    assert (
        _handshake(tmp_path, generate_tls_identity("SACEUR", when), generate_tls_identity("GENSTAB", NOW)) == "TLSv1.3"
    )
    assert (
        _handshake(tmp_path, generate_tls_identity("SACEUR", NOW), generate_tls_identity("GENSTAB", when)) == "TLSv1.3"
    )


def test_an_unpinned_certificate_is_still_refused(tmp_path: Path) -> None:
    server_id, client_id, stranger = (generate_tls_identity(p, NOW) for p in ("SACEUR", "GENSTAB", "STRANGER"))
    s_cert, s_key = _write(tmp_path, "server", server_id)
    c_cert, c_key = _write(tmp_path, "client", stranger)
    server_ctx = tls_context(True, s_cert, s_key, [client_id.cert_der])  # pins GENSTAB, not the stranger
    client_ctx = tls_context(False, c_cert, c_key, [server_id.cert_der])
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

    def talk() -> None:
        with client_ctx.wrap_socket(right) as tls:
            tls.sendall(b"x")
            tls.recv(1)

    with pytest.raises((ssl.SSLError, OSError)):
        talk()
    thread.join(5)
    assert refused
    assert "certificate" in str(refused[0]).lower()
