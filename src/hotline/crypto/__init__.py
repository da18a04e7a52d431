"""Keys, signatures and fingerprints: small pure functions over bytes (pyca/cryptography)."""

from hotline.crypto.keys import (
    KeySet,
    SigningKey,
    VerifyKey,
    fingerprint,
    generate_signing_key,
    load_signing_key,
    signing_key_pem,
)
from hotline.crypto.tlscert import TlsIdentity, generate_tls_identity, spki_pin

__all__ = [
    "KeySet",
    "SigningKey",
    "TlsIdentity",
    "VerifyKey",
    "fingerprint",
    "generate_signing_key",
    "generate_tls_identity",
    "load_signing_key",
    "signing_key_pem",
    "spki_pin",
]
