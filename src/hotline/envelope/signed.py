"""The signed container shared by envelopes, receipts and rejections.

On the wire and on disk a signed object is the canonical CBOR array

    [kind, payload, signature]

where ``kind`` is a text string naming the object ("envelope", "receipt", "rejection"),
``payload`` is the canonical CBOR encoding of the object's fields, as a byte string, and
``signature`` is Ed25519 over ``"hotline/<kind>/v1" || 0x00 || payload``. The domain prefix
means a receipt's signature can never be passed off as an envelope's. The object's id is the
SHA-256 of the whole container: the exact bytes that were signed and stored.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from hotline.crypto.keys import KeySet, SigningKey, VerifyKey
from hotline.envelope import cbor
from hotline.errors import EncodingError

KINDS = ("envelope", "receipt", "rejection")


def domain(kind: str) -> bytes:
    return f"hotline/{kind}/v1".encode() + b"\x00"


def object_id(signed: bytes) -> bytes:
    return hashlib.sha256(signed).digest()


@dataclass(frozen=True)
class Opened:
    """A signed container taken apart; the signature is not yet checked."""

    kind: str
    payload: bytes
    signature: bytes
    fields: dict[str, Any]
    raw: bytes

    @property
    def id(self) -> bytes:
        return object_id(self.raw)

    def verify(self, key: VerifyKey | KeySet) -> None:
        """Raise ``SignatureError`` unless ``key`` signed this object."""
        key.verify(domain(self.kind), self.payload, self.signature)


def seal(kind: str, fields: dict[str, Any], key: SigningKey) -> bytes:
    if kind not in KINDS:
        raise ValueError(f"unknown signed kind {kind!r}")
    payload = cbor.encode(fields)
    return cbor.encode([kind, payload, key.sign(domain(kind), payload)])


def open_signed(raw: bytes, expect: str) -> Opened:
    """Parse a signed container of kind ``expect``; structure only, no signature check."""
    outer = cbor.decode(raw)
    if not (isinstance(outer, list) and len(outer) == 3):
        raise EncodingError("a signed object is a CBOR array of [kind, payload, signature]")
    kind, payload, signature = outer
    if not (isinstance(kind, str) and isinstance(payload, bytes) and isinstance(signature, bytes)):
        raise EncodingError("a signed object is [text kind, bytes payload, bytes signature]")
    if kind != expect:
        raise EncodingError(f"expected a signed {expect}, got {kind!r}")
    fields = cbor.decode(payload)
    if not isinstance(fields, dict) or not all(isinstance(k, str) for k in fields):
        raise EncodingError(f"the {kind} payload is not a map with text keys")
    return Opened(kind=kind, payload=payload, signature=signature, fields=fields, raw=raw)
