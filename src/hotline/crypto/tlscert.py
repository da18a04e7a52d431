"""The node's TLS identity: its own key and a self-signed certificate.

There is no certificate authority in hotline's trust model: each side pins the other's
certificate, exchanged out of band on the identity card. The certificate is self-signed only
because TLS needs a certificate to carry the key; its validity period is long because expiry
would cut the channel in a crisis, and revocation is done by unpinning the peer.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.x509.oid import NameOID

from hotline.errors import EncodingError

CERT_VALIDITY = dt.timedelta(days=365 * 30)


@dataclass(frozen=True)
class TlsIdentity:
    key_pem: bytes
    cert_der: bytes

    @property
    def cert_pem(self) -> bytes:
        return x509.load_der_x509_certificate(self.cert_der).public_bytes(serialization.Encoding.PEM)

    @property
    def pin(self) -> str:
        return spki_pin(self.cert_der)


def generate_tls_identity(party: str, now: dt.datetime) -> TlsIdentity:
    key = Ed25519PrivateKey.generate()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"hotline {party}")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + CERT_VALIDITY)
        # A self-signed leaf is its own trust anchor when pinned; marking it as a CA lets
        # OpenSSL accept it as the anchor of a one-certificate chain.
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, algorithm=None)
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return TlsIdentity(key_pem=key_pem, cert_der=cert.public_bytes(serialization.Encoding.DER))


def spki_pin(cert_der: bytes) -> str:
    """``sha256/<base64>`` of the certificate's SubjectPublicKeyInfo (the HPKP pin form)."""
    try:
        cert = x509.load_der_x509_certificate(cert_der)
    except ValueError as exc:
        raise EncodingError(f"not a DER X.509 certificate: {exc}") from None
    spki = cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return "sha256/" + base64.b64encode(hashlib.sha256(spki).digest()).decode()
