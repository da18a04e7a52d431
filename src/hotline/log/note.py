"""C2SP signed notes (https://c2sp.org/signed-note), with Ed25519 signatures.

A signed note is a UTF-8 text ending in a newline, a blank line, then one or more signature lines
``— <key name> <base64(key ID || signature)>``. Checkpoints and their cosignatures are signed
notes, so this format is what independent tools (Go's ``golang.org/x/mod/sumdb/note``,
transparency-dev, sigsum, litetlog) read and write; every rule below follows the spec, and where
the spec leaves a choice we take the stricter one and say so.

Keys travel as the usual text strings:

* verifier key: ``<name>+<hex key ID>+<base64(signature type || public key)>``
* signer key:   ``PRIVATE+KEY+<name>+<hex key ID>+<base64(signature type || Ed25519 seed)>``

Our identity keys also sign envelopes, but always behind a ``hotline/<kind>/v1\\x00`` domain. A
note text can never contain a NUL (control characters are forbidden in notes), so a note signature
can never be replayed as an envelope signature, nor the other way round.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple, Protocol

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hotline.crypto.keys import PUBLIC_KEY_SIZE, SigningKey, VerifyKey
from hotline.errors import EncodingError, SignatureError

# Signature type bytes assigned by the signed-note spec ("Signature types").
ALG_ED25519 = 0x01
KEY_ID_SIZE = 4
# The spec asks verifiers to cap the number of signatures and to accept at least 16; Go's
# reference caps at 100. We use the same cap, so any note Go accepts we accept too.
MAX_SIGNATURES = 100

SIGNATURE_PREFIX = "\u2014 "  # em dash, then one space
_HEX_KEY_ID = re.compile(r"[0-9a-fA-F]{8}")
_SEED_SIZE = 32


class NoteError(EncodingError):
    """A signed note, a key string or a signature line is malformed, or the note does not verify."""


def valid_key_name(name: str) -> bool:
    """Key names are non-empty UTF-8 without Unicode spaces or ``+`` (spec, "Format").

    ``str.isspace`` covers Go's ``unicode.IsSpace`` (the reference implementation's test) and also
    U+001C..U+001F, which are control characters and so could never appear in a note anyway.
    """
    if not name or "+" in name or any(ch.isspace() for ch in name):
        return False
    return _is_utf8(name)


def key_id(name: str, alg: int, public_key: bytes) -> int:
    """The RECOMMENDED key ID: ``SHA-256(name || 0x0A || signature type || public key)[:4]``, big-endian."""
    digest = hashlib.sha256(name.encode() + b"\n" + bytes([alg]) + public_key).digest()
    return int.from_bytes(digest[:KEY_ID_SIZE], "big")


def b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def b64decode(text: str, what: str) -> bytes:
    """Strict standard base64 (RFC 4648 section 4): padding required, canonical encoding only.

    Go's decoder also skips newlines and accepts non-zero padding bits; refusing those keeps
    every accepted value at exactly one spelling, so two different lines can never mean the same
    signature or hash.
    """
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error):
        raise NoteError(f"{what} is not valid base64") from None
    if b64encode(raw) != text:
        raise NoteError(f"{what} is not canonical base64")
    return raw


def _is_utf8(text: str) -> bool:
    # A Python str may hold lone surrogates, which have no UTF-8 encoding.
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def check_note_characters(text: str) -> None:
    """Notes MUST be valid UTF-8 with no ASCII control characters other than newline."""
    if not _is_utf8(text):
        raise NoteError("a signed note must be valid UTF-8")
    for ch in text:
        if ch < " " and ch != "\n":
            raise NoteError(f"a signed note may not contain the control character U+{ord(ch):04X}")


class Signer(Protocol):
    """Anything that can add one signature line to a note (an Ed25519 key, a cosigner, ...)."""

    @property
    def name(self) -> str: ...

    @property
    def key_id(self) -> int: ...

    def sign(self, message: bytes) -> bytes:
        """The signature bytes that follow the key ID in the signature line."""
        ...


class Verifier(Protocol):
    """A known key: it verifies the signature lines whose name and key ID are both its own."""

    @property
    def name(self) -> str: ...

    @property
    def key_id(self) -> int: ...

    def verify(self, message: bytes, signature: bytes) -> bool: ...


@dataclass(frozen=True)
class KeyString:
    """The parts of a verifier key string, with the key ID already checked against the key."""

    name: str
    key_id: int
    alg: int
    public_key: bytes


def parse_verifier_key(vkey: str) -> KeyString:
    """Split ``<name>+<hex key ID>+<base64(type || key)>`` and check that the key ID matches.

    The base64 part may itself contain ``+``; names cannot, so the first two ``+`` are the separators.
    """
    parts = vkey.split("+", 2)
    if len(parts) != 3:
        raise NoteError("a verifier key is <name>+<key ID>+<key>")
    name, hex_id, key64 = parts
    if not valid_key_name(name):
        raise NoteError(f"invalid key name {name!r}")
    if not _HEX_KEY_ID.fullmatch(hex_id):
        raise NoteError("the key ID of a verifier key is 8 hex digits")
    typed_key = b64decode(key64, "the verifier key")
    if len(typed_key) < 2:
        raise NoteError("the verifier key holds no public key")
    expected = key_id(name, typed_key[0], typed_key[1:])
    if int(hex_id, 16) != expected:
        raise NoteError(f"the verifier key's ID {hex_id} does not match its name and key ({expected:08x})")
    return KeyString(name, expected, typed_key[0], typed_key[1:])


def verifier_key_string(name: str, alg: int, public_key: bytes) -> str:
    if not valid_key_name(name):
        raise NoteError(f"invalid key name {name!r}")
    return f"{name}+{key_id(name, alg, public_key):08x}+{b64encode(bytes([alg]) + public_key)}"


@dataclass(frozen=True)
class Ed25519Verifier:
    """A plain signed-note Ed25519 key (signature type 0x01): the signature covers the note text."""

    name: str
    key: VerifyKey

    def __post_init__(self) -> None:
        if not valid_key_name(self.name):
            raise NoteError(f"invalid key name {self.name!r}")

    @property
    def key_id(self) -> int:
        return key_id(self.name, ALG_ED25519, self.key.raw)

    def verify(self, message: bytes, signature: bytes) -> bool:
        try:
            self.key.verify(b"", message, signature)
        except SignatureError:
            return False
        return True

    def key_string(self) -> str:
        return verifier_key_string(self.name, ALG_ED25519, self.key.raw)

    @classmethod
    def from_key_string(cls, vkey: str) -> Ed25519Verifier:
        parsed = parse_verifier_key(vkey)
        if parsed.alg != ALG_ED25519:
            raise NoteError(f"signature type 0x{parsed.alg:02x} is not a plain Ed25519 note key (0x01)")
        if len(parsed.public_key) != PUBLIC_KEY_SIZE:
            raise NoteError(f"an Ed25519 public key is {PUBLIC_KEY_SIZE} bytes")
        return cls(parsed.name, VerifyKey(parsed.public_key))


@dataclass(frozen=True)
class Ed25519Signer:
    """A named Ed25519 signing key producing type 0x01 signatures over the note text."""

    name: str
    key: SigningKey

    def __post_init__(self) -> None:
        if not valid_key_name(self.name):
            raise NoteError(f"invalid key name {self.name!r}")

    @property
    def key_id(self) -> int:
        return key_id(self.name, ALG_ED25519, self.key.verify_key.raw)

    def sign(self, message: bytes) -> bytes:
        # Empty domain: the note text is the whole signed message, as the spec requires.
        return self.key.sign(b"", message)

    def verifier(self) -> Ed25519Verifier:
        return Ed25519Verifier(self.name, self.key.verify_key)

    def key_string(self) -> str:
        """The secret ``PRIVATE+KEY+...`` string, as Go's ``note.GenerateKey`` writes it."""
        seed = self.key.private.private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
        )
        return f"PRIVATE+KEY+{self.name}+{self.key_id:08x}+{b64encode(bytes([ALG_ED25519]) + seed)}"

    @classmethod
    def from_key_string(cls, skey: str) -> Ed25519Signer:
        parts = skey.split("+", 4)
        if len(parts) != 5 or parts[0] != "PRIVATE" or parts[1] != "KEY":
            raise NoteError("a signer key is PRIVATE+KEY+<name>+<key ID>+<key>")
        name, hex_id, key64 = parts[2:]
        if not valid_key_name(name):
            raise NoteError(f"invalid key name {name!r}")
        if not _HEX_KEY_ID.fullmatch(hex_id):
            raise NoteError("the key ID of a signer key is 8 hex digits")
        typed_seed = b64decode(key64, "the signer key")
        if len(typed_seed) != 1 + _SEED_SIZE or typed_seed[0] != ALG_ED25519:
            raise NoteError("a signer key holds the type byte 0x01 and a 32-byte Ed25519 seed")
        signer = cls(name, SigningKey(Ed25519PrivateKey.from_private_bytes(typed_seed[1:])))
        # The key ID is that of the public key, so it can only be checked once the key is derived.
        if int(hex_id, 16) != signer.key_id:
            raise NoteError(f"the signer key's ID {hex_id} does not match its name and key")
        return signer


@dataclass(frozen=True)
class Signature:
    """One signature line: the key name, the key ID and the bytes that follow the ID."""

    name: str
    key_id: int
    signature: bytes

    def line(self) -> str:
        raw = self.key_id.to_bytes(KEY_ID_SIZE, "big") + self.signature
        return f"{SIGNATURE_PREFIX}{self.name} {b64encode(raw)}\n"

    @classmethod
    def parse_line(cls, line: str) -> Signature:
        """Parse one line without its final newline."""
        if not line.startswith(SIGNATURE_PREFIX):
            raise NoteError("a signature line starts with an em dash (U+2014) and a space")
        name, sep, sig64 = line[len(SIGNATURE_PREFIX) :].partition(" ")
        if not sep or not valid_key_name(name):
            raise NoteError(f"malformed signature line {line!r}")
        raw = b64decode(sig64, "a signature")
        # A key ID and at least one byte of signature, as in the reference implementation.
        if len(raw) <= KEY_ID_SIZE:
            raise NoteError("a signature is a 4-byte key ID followed by the signature")
        return cls(name, int.from_bytes(raw[:KEY_ID_SIZE], "big"), raw[KEY_ID_SIZE:])


@dataclass(frozen=True)
class Note:
    """A syntactically valid signed note whose signatures have NOT been checked.

    Its text must be ignored until ``open_note`` has verified a trusted signature; the parsed
    form exists so that unknown signatures (a witness's cosignature, say) can be kept and passed on.
    """

    text: str
    signatures: tuple[Signature, ...]

    def __post_init__(self) -> None:
        check_text(self.text)
        if not self.signatures:
            raise NoteError("a signed note carries at least one signature line")
        if len(self.signatures) > MAX_SIGNATURES:
            raise NoteError(f"a signed note may carry at most {MAX_SIGNATURES} signatures")
        seen: set[tuple[str, int]] = set()
        for sig in self.signatures:
            if not valid_key_name(sig.name):
                raise NoteError(f"invalid key name {sig.name!r}")
            # Stricter than Go, which silently skips repeats: one key signs a note once. Two lines
            # for one key are either a replay or a confused signer, and neither belongs in evidence.
            if (sig.name, sig.key_id) in seen:
                raise NoteError(f"two signature lines for the key {sig.name}+{sig.key_id:08x}")
            seen.add((sig.name, sig.key_id))

    def encode(self) -> str:
        return self.text + "\n" + "".join(sig.line() for sig in self.signatures)


def check_text(text: str) -> None:
    """A note text ends in a newline (which it includes) and obeys the character rules.

    It may contain blank lines, even at its end: the note is split at its *last* blank line,
    and signature lines contain no blank line, so any such text round-trips.
    """
    if not text.endswith("\n"):
        raise NoteError("a note text must end with a newline")
    check_note_characters(text)


def _as_text(note: str | bytes) -> str:
    if isinstance(note, bytes):
        try:
            return note.decode("utf-8", errors="strict")
        except UnicodeDecodeError:
            raise NoteError("a signed note must be valid UTF-8") from None
    return note


def parse_note(note: str | bytes) -> Note:
    """Parse a signed note WITHOUT verifying it (see ``Note``)."""
    msg = _as_text(note)
    check_note_characters(msg)
    split = msg.rfind("\n\n")
    if split < 0:
        raise NoteError("a signed note needs a blank line before its signatures")
    text, block = msg[: split + 1], msg[split + 2 :]
    if not block.endswith("\n"):
        raise NoteError("a signed note ends with a newline-terminated signature line")
    lines = block[:-1].split("\n")
    # Count before parsing, so that an oversized note costs no decoding work.
    if len(lines) > MAX_SIGNATURES:
        raise NoteError(f"a signed note may carry at most {MAX_SIGNATURES} signatures")
    return Note(text, tuple(Signature.parse_line(line) for line in lines))


class OpenedNote(NamedTuple):
    text: str
    verified: tuple[str, ...]  # names of the known keys whose signatures verified, in note order


def open_note(note: str | bytes, verifiers: Iterable[Verifier]) -> OpenedNote:
    """Parse a signed note and verify it against the known keys (spec, "Signatures").

    Signatures from unknown keys (a different name or a different key ID) are ignored; ``parse_note``
    returns them. A known key's signature that fails refuses the whole note (the spec's SHOULD), and a
    note with no verified signature is refused (the spec's MUST).
    """
    known: dict[tuple[str, int], Verifier] = {}
    for verifier in verifiers:
        ident = (verifier.name, verifier.key_id)
        if ident in known:
            # Two keys for one (name, ID) would make the verdict depend on which we tried first.
            raise NoteError(f"ambiguous verifier key {verifier.name}+{verifier.key_id:08x}")
        known[ident] = verifier
    parsed = parse_note(note)
    message = parsed.text.encode()
    verified: list[str] = []
    for sig in parsed.signatures:
        match = known.get((sig.name, sig.key_id))
        if match is None:
            continue
        if not match.verify(message, sig.signature):
            raise NoteError(f"invalid signature for key {sig.name}+{sig.key_id:08x}")
        verified.append(sig.name)
    if not verified:
        raise NoteError("the note carries no signature from a known key")
    return OpenedNote(parsed.text, tuple(verified))


def sign_note(text: str, signers: Sequence[Signer], existing: Sequence[Signature] = ()) -> str:
    """Sign ``text`` with every signer and return the encoded note.

    ``existing`` signatures (from ``parse_note``) are kept before the new ones, except those made by
    one of ``signers``' keys, which the fresh signature replaces (as Go's ``note.Sign`` does).
    """
    check_text(text)
    message = text.encode()
    fresh: list[Signature] = []
    for signer in signers:
        if not valid_key_name(signer.name):
            raise NoteError(f"invalid key name {signer.name!r}")
        signature = signer.sign(message)
        if not signature:
            raise NoteError(f"the signer {signer.name} produced an empty signature")
        fresh.append(Signature(signer.name, signer.key_id, signature))
    replaced = {(sig.name, sig.key_id) for sig in fresh}
    kept = [sig for sig in existing if (sig.name, sig.key_id) not in replaced]
    return Note(text, (*kept, *fresh)).encode()


__all__ = [
    "ALG_ED25519",
    "MAX_SIGNATURES",
    "Ed25519Signer",
    "Ed25519Verifier",
    "KeyString",
    "Note",
    "NoteError",
    "OpenedNote",
    "Signature",
    "Signer",
    "Verifier",
    "key_id",
    "open_note",
    "parse_note",
    "parse_verifier_key",
    "sign_note",
    "valid_key_name",
    "verifier_key_string",
]
