"""The one place where hotline builds TLS contexts. Every setting says why it is there."""

from __future__ import annotations

import ssl
from asyncio import sslproto
from collections.abc import Iterable
from pathlib import Path

# OpenSSL's X509_V_FLAG_NO_CHECK_TIME (openssl/x509_vfy.h), which the ssl module does not name.
X509_V_FLAG_NO_CHECK_TIME = 0x200000
# asyncio reads a TLS connection ``SSLProtocol.max_size`` bytes at a time (256 KiB), and each
# read allocates that much: above malloc's mmap threshold (128 KiB), so every read of a probe's
# few bytes mapped and unmapped 256 KiB. That was the largest single cost of an idle node with
# dozens of peers (issue 19; profiled with py-spy). Each connection also keeps a buffer of that
# size for the bytes off the socket: with 56 peers on two lanes, 28 MB at 256 KiB, 1.8 MB at
# 16 KiB. That is the largest TLS record's payload: a full record (with its few bytes of
# overhead) takes two socket reads, and a frame of the 1 MiB limit some 65 records; the pair's
# bulk throughput measured the same at 16, 32 and 64 KiB (docs/performance.md).
TLS_READ_SIZE = 16 * 1024


def limit_tls_reads() -> None:
    """Make every TLS connection opened from now on read ``TLS_READ_SIZE`` bytes at a time."""
    if not isinstance(getattr(sslproto.SSLProtocol, "max_size", None), int):
        raise TypeError("asyncio.sslproto.SSLProtocol.max_size is gone: see TLS_READ_SIZE's comment")
    sslproto.SSLProtocol.max_size = TLS_READ_SIZE


def tls_context(server: bool, cert_file: Path, key_file: Path, peer_certs: Iterable[bytes]) -> ssl.SSLContext:
    """A mutual-TLS context that trusts exactly the pinned peers' certificates."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER if server else ssl.PROTOCOL_TLS_CLIENT)
    # TLS 1.3 only: no downgrade to suites without forward secrecy, no renegotiation.
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    ctx.maximum_version = ssl.TLSVersion.TLSv1_3
    # Both sides must present a certificate that chains to a pinned peer certificate: a
    # client with no certificate, or with one we never pinned, fails the handshake.
    ctx.verify_mode = ssl.CERT_REQUIRED
    # Names mean nothing here: identity is the pinned key, checked again after the handshake.
    ctx.check_hostname = False
    # Nor do the certificates' dates: trust is the pinned certificate, confirmed by voice and
    # replaced by a key ceremony, not a period. Checking them would let a clock that is wrong
    # by a day (ours or the peer's) or an expiry nobody watched cut the channel, with nothing
    # to show for it but failed handshakes; the node measures the peers' clocks instead and
    # raises a clock alarm.
    ctx.verify_flags |= X509_V_FLAG_NO_CHECK_TIME
    ctx.load_cert_chain(cert_file, key_file)
    anchors = b"".join(_pem(der) for der in peer_certs)
    if anchors:
        ctx.load_verify_locations(cadata=anchors.decode())
    return ctx


def _pem(der: bytes) -> bytes:
    return ssl.DER_cert_to_PEM_cert(der).encode()
