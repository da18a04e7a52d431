"""A party's key rotation statement, and the checks a peer makes before it follows one (pure).

docs/architecture.md, "Keys that change", gives the design. The statement names the old and the
new signing key, the new TLS certificate, and a commitment to the key after the new one; it is
signed here by the new key (proving the new key is held), and travels in an envelope the old key
signs (proving the party, as pinned, vouches for it). A peer follows it only if:

- it names the signing key the peer has pinned as the old one;
- the new key signed it;
- the new key is the one the party committed to (the card's or the last statement's
  commitment): a thief of the current key cannot rotate to a key of its own. A party pinned
  without a commitment (a version 1 card) cannot rotate: it gives its version 2 card first;
- it names the peer's party and log as the peer knows them, and brings a new commitment.

Each failed check is a ``RotationRefusedError`` with a reason code and words for the alarm.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cryptography import x509

from hotline.crypto.keys import SigningKey, VerifyKey
from hotline.envelope import cbor
from hotline.errors import EncodingError, SignatureError

VERSION = 1
DOMAIN = b"hotline/key-rotation/v1\x00"
COMMITMENT_DOMAIN = b"hotline next signing key v1\x00"


def commitment(public_key: bytes) -> bytes:
    """What a party publishes about its next signing key before it uses it: SHA-256 over the
    public key, domain-separated."""
    return hashlib.sha256(COMMITMENT_DOMAIN + public_key).digest()


class RotationRefusedError(EncodingError):
    """A rotation statement a peer will not follow; ``reason`` is a short code."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class RotationStatement:
    party: str
    log: str  # the log's name (origin): it stays across the rotation
    old_key: bytes  # Ed25519 public keys, 32 bytes
    new_key: bytes
    tls_cert: bytes  # the new TLS certificate, DER
    next_commitment: bytes  # ``commitment`` of the key after the new one
    log_size: int  # the log's size when the statement was made
    at_ms: int

    def encode(self) -> bytes:
        return cbor.encode(
            {
                "v": VERSION,
                "party": self.party,
                "log": self.log,
                "old": self.old_key,
                "new": self.new_key,
                "tls": self.tls_cert,
                "next": self.next_commitment,
                "size": self.log_size,
                "at": self.at_ms,
            }
        )

    def sign(self, new: SigningKey) -> bytes:
        """The new key's signature over the statement (``new`` must be the statement's new key)."""
        if new.verify_key.raw != self.new_key:
            raise ValueError("the statement is signed by its own new key")
        return new.sign(DOMAIN, self.encode())

    @classmethod
    def decode(cls, data: bytes) -> RotationStatement:
        try:
            fields: Any = cbor.decode(data)
        except EncodingError as exc:
            raise RotationRefusedError("malformed", str(exc)) from None
        if not isinstance(fields, dict) or fields.get("v") != VERSION:
            raise RotationRefusedError("malformed", f"not a version {VERSION} rotation statement")
        types = {"party": str, "log": str, "old": bytes, "new": bytes, "tls": bytes, "next": bytes,
                 "size": int, "at": int}  # fmt: skip
        for name, kind in types.items():
            value = fields.get(name)
            if not isinstance(value, kind) or isinstance(value, bool):
                raise RotationRefusedError("malformed", f"{name!r} is missing or not {kind.__name__}")
        if set(fields) != {"v", *types}:
            raise RotationRefusedError("malformed", f"unknown fields {sorted(set(fields) - {'v', *types})}")
        return cls(fields["party"], fields["log"], fields["old"], fields["new"], fields["tls"], fields["next"],
                   fields["size"], fields["at"])  # fmt: skip


def check_rotation(
    data: bytes, signature: bytes, party: str, log: str, pinned: bytes, committed: bytes | None
) -> RotationStatement:
    """The statement in ``data``, once every check of the module's list passed for a peer that
    pins ``pinned`` as ``party``'s key, ``log`` as its log and ``committed`` (None: no
    commitment known) as its next key's commitment."""
    statement = RotationStatement.decode(data)
    if statement.party != party or statement.log != log:
        raise RotationRefusedError("wrong-party", f"the statement is {statement.party}'s log {statement.log}")
    if statement.old_key != pinned:
        raise RotationRefusedError("not-pinned", "its old key is not the key pinned for the party")
    if statement.new_key == pinned:
        raise RotationRefusedError("same-key", "its new key is the key already pinned")
    try:
        VerifyKey(statement.new_key).verify(DOMAIN, data, signature)
    except SignatureError as exc:
        raise RotationRefusedError("bad-signature", f"the new key did not sign it ({exc})") from None
    except EncodingError as exc:
        raise RotationRefusedError("malformed", str(exc)) from None
    if committed is None:
        raise RotationRefusedError(
            "no-commitment", "no next key of the party's is pinned here: it must give its version 2 card first"
        )
    if commitment(statement.new_key) != committed:
        raise RotationRefusedError("not-committed", "its new key is not the one the party committed to")
    if len(statement.next_commitment) != hashlib.sha256().digest_size:
        raise RotationRefusedError("malformed", "the next key's commitment is not a SHA-256 digest")
    try:
        x509.load_der_x509_certificate(statement.tls_cert)
    except ValueError as exc:
        raise RotationRefusedError("malformed", f"its TLS certificate is not a DER X.509 certificate: {exc}") from None
    return statement


def follow_chain(first: bytes, envelopes: Sequence[bytes]) -> list[bytes]:
    """The signing keys a party moved through from ``first``, as its ``key_rotation`` envelopes
    prove (in any order): each signed by the key before it, naming that key as the old one,
    carrying a statement the new key signed, of the same party and log as the first, and after
    the first, rotating to the key the statement before committed to. What cannot be chained is
    left out."""
    from hotline.envelope import Envelope, open_signed  # the envelope layer: only to read them

    keys = [first]
    committed: bytes | None = None  # the last statement's commitment: the next step must honour it
    names: tuple[str, str] | None = None  # the party and log of the first statement
    remaining = list(envelopes)
    progress = True
    while remaining and progress:
        progress = False
        for raw in list(remaining):
            try:
                opened = open_signed(raw, "envelope")
                opened.verify(VerifyKey(keys[-1]))
                envelope = Envelope.from_opened(opened)
                data = _unb64(str(envelope.body["statement"]))
                signature = _unb64(str(envelope.body["signature"]))
                statement = RotationStatement.decode(data)
                if envelope.kind != "key_rotation" or statement.old_key != keys[-1]:
                    continue
                if committed is not None and commitment(statement.new_key) != committed:
                    continue
                if names is not None and (statement.party, statement.log) != names:
                    continue
                VerifyKey(statement.new_key).verify(DOMAIN, data, signature)
            except (EncodingError, KeyError, ValueError):
                continue
            remaining.remove(raw)
            keys.append(statement.new_key)
            committed, names = statement.next_commitment, (statement.party, statement.log)
            progress = True
    return keys


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
