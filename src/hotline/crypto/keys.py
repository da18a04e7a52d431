"""Ed25519 identity keys: a party is its signing key.

Signatures always cover ``domain + message``, where ``domain`` names what is being signed
(an envelope, a receipt, ...). A signature made for one purpose can therefore never be replayed
as a signature for another, even if the bytes happened to coincide.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from hotline.errors import EncodingError, SignatureError

PUBLIC_KEY_SIZE = 32
SIGNATURE_SIZE = 64


@dataclass(frozen=True)
class VerifyKey:
    """An Ed25519 public key, as the 32 raw bytes that identity cards carry."""

    raw: bytes

    def __post_init__(self) -> None:
        if len(self.raw) != PUBLIC_KEY_SIZE:
            raise EncodingError(f"an Ed25519 public key is {PUBLIC_KEY_SIZE} bytes, not {len(self.raw)}")

    def verify(self, domain: bytes, message: bytes, signature: bytes) -> None:
        """Raise ``SignatureError`` unless ``signature`` signs ``domain + message``."""
        if len(signature) != SIGNATURE_SIZE:
            raise SignatureError(f"signature is {len(signature)} bytes, not {SIGNATURE_SIZE}")
        try:
            Ed25519PublicKey.from_public_bytes(self.raw).verify(signature, domain + message)
        except InvalidSignature:
            raise SignatureError("signature does not verify") from None


@dataclass(frozen=True)
class KeySet:
    """The keys a party may sign with at one time: its new and its old key while it rotates
    (``crypto/rotation.py``); verifies what any of them signed. ``raw`` is the newest's."""

    keys: tuple[VerifyKey, ...]

    @property
    def raw(self) -> bytes:
        return self.keys[-1].raw

    def verify(self, domain: bytes, message: bytes, signature: bytes) -> None:
        for key in self.keys:
            try:
                key.verify(domain, message, signature)
            except SignatureError:
                continue
            return
        raise SignatureError("signature does not verify under any of the party's keys")


@dataclass(frozen=True)
class SigningKey:
    """An Ed25519 private key with its public half."""

    private: Ed25519PrivateKey

    @property
    def verify_key(self) -> VerifyKey:
        raw = self.private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return VerifyKey(raw)

    def sign(self, domain: bytes, message: bytes) -> bytes:
        return self.private.sign(domain + message)


def generate_signing_key() -> SigningKey:
    return SigningKey(Ed25519PrivateKey.generate())


def signing_key_pem(key: SigningKey) -> bytes:
    return key.private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def load_signing_key(pem: bytes) -> SigningKey:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise EncodingError("the signing key file does not hold an Ed25519 private key")
    return SigningKey(key)


def fingerprint(*parts: bytes) -> str:
    """A short code to read aloud over a telephone: 30 decimal digits in six groups of five.

    Like Signal's safety numbers, digits survive a bad line and a foreign accent better than
    hex or base64. 30 digits carry ~99 bits of the SHA-256 digest: far beyond what an attacker
    could grind in the time between generating a card and reading it aloud. Each part is
    length-prefixed so that no two different inputs can concatenate to the same bytes.
    """
    digest = hashlib.sha256()
    digest.update(b"hotline fingerprint v1\x00")
    for part in parts:
        digest.update(len(part).to_bytes(4, "big") + part)
    number = int.from_bytes(digest.digest()[:13], "big") % 10**30
    digits = f"{number:030d}"
    return " ".join(digits[i : i + 5] for i in range(0, 30, 5))
