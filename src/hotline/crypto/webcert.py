"""The console's HTTPS certificate, when the organisation does not give one of its own.

Unlike the peer link's certificate (``tlscert``), this one is read by a browser: ECDSA P-256,
the key every browser accepts, with the names and addresses the console is reached by in its
subjectAltName (a browser ignores the common name), and marked for server authentication only.
Nobody vouches for it, so the browser warns once; the watch officer compares the SHA-256
fingerprint the browser shows with the one ``hotline identity`` prints, as for an SSH host key.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from hotline.errors import ConfigError

# Long enough not to lapse between two reviews of a node; short enough that a key does not
# outlive the machines it was made on. `hotline identity` says when it ends.
CONSOLE_CERT_VALIDITY = dt.timedelta(days=3 * 365)


@dataclass(frozen=True)
class ConsoleCertificate:
    key_pem: bytes
    cert_pem: bytes


def generate_console_certificate(party: str, names: Iterable[str], now: dt.datetime) -> ConsoleCertificate:
    """A self-signed certificate for ``names`` (host names or IP addresses)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"hotline {party} console")])
    alternatives: list[x509.GeneralName] = []
    for name in dict.fromkeys(names):  # once each, in order
        try:
            alternatives.append(x509.IPAddress(ipaddress.ip_address(name.strip("[]"))))
        except ValueError:
            alternatives.append(x509.DNSName(name))
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + CONSOLE_CERT_VALIDITY)
        .add_extension(x509.SubjectAlternativeName(alternatives), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return ConsoleCertificate(key_pem, cert.public_bytes(serialization.Encoding.PEM))


@dataclass(frozen=True)
class CertificateFacts:
    fingerprint: str  # SHA-256 of the DER certificate, as browsers show it: "AB:CD:..."
    names: tuple[str, ...]
    not_after: dt.datetime


def certificate_facts(cert_pem: bytes, where: str) -> CertificateFacts:
    """What an operator compares and watches: the fingerprint, the names, the end of validity."""
    try:
        cert = x509.load_pem_x509_certificate(cert_pem)
    except ValueError as exc:
        raise ConfigError(f"{where} is not a PEM certificate: {exc}") from None
    digest = cert.fingerprint(hashes.SHA256()).hex().upper()
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names = tuple(str(n.value) for n in san)
    except x509.ExtensionNotFound:
        names = ()
    fingerprint = ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))
    return CertificateFacts(fingerprint, names, cert.not_valid_after_utc)
