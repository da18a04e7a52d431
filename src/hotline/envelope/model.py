"""Envelopes, receipts and rejections: the three signed objects of the channel.

Field names on the wire are short and fixed; changing one is a format break. ``v`` is the
payload version: a receiver refuses versions it does not know with a signed rejection, so a
newer sender learns at once that it must speak the older format.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from typing import Any

from hotline.crypto.keys import SigningKey
from hotline.envelope.signed import Opened, seal
from hotline.errors import EncodingError

VERSION = 1
PARTY_PATTERN = re.compile(r"^[A-Z][A-Z0-9_-]{1,31}$")
MARKING_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9 /_-]{0,63}$")
KIND_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,47}$")
REASON_PATTERN = re.compile(r"^[a-z][a-z0-9_-]{0,47}$")
PRECEDENCE_PATTERN = re.compile(r"^[A-Z]+$")
MAX_SEQ = 2**63 - 1
MAX_DETAIL = 1000  # characters in a rejection's explanation
DETAIL_PATTERN = re.compile(rf"^[\s\S]{{0,{MAX_DETAIL}}}$")
DEFAULT_MARKING = "UNCLASSIFIED"


class Precedence(enum.StrEnum):
    """Allied precedence levels; ``rank`` 0 is the most urgent."""

    FLASH = "FLASH"
    IMMEDIATE = "IMMEDIATE"
    PRIORITY = "PRIORITY"
    ROUTINE = "ROUTINE"

    @property
    def rank(self) -> int:
        return list(Precedence).index(self)


class FieldError(EncodingError):
    """An authentic object whose fields are wrong; ``field`` names the first bad one."""

    def __init__(self, field_name: str, detail: str, more: tuple[tuple[str, str], ...] = ()) -> None:
        super().__init__(f"{field_name}: {detail}")
        self.field = field_name
        self.detail = detail
        self.more = more  # the other bad fields, (field, detail) each: a person fixes them all at once


def serial(party: str, number: int) -> str:
    """The name people use for a message: the sender's party and its message number."""
    return f"{party}-{number:06d}"


def parse_message_key(key: str) -> bytes | tuple[str, int]:
    """What a person typed to name a message: its envelope id (64 hex digits), returned as
    bytes, or its serial (``SACEUR-000123``), returned as (party, number). ValueError if neither."""
    key = key.strip()
    if len(key) == 64 and all(c in "0123456789abcdefABCDEF" for c in key):
        return bytes.fromhex(key)
    party, _, number = key.upper().rpartition("-")
    if not (party and re.fullmatch(r"[0-9]{1,18}", number)):
        raise ValueError(f"{key!r} is neither a serial such as SACEUR-000001 nor a 64-digit envelope id")
    return party, int(number)


@dataclass(frozen=True)
class Envelope:
    sender: str
    recipient: str
    seq: int
    number: int
    sent_ms: int
    kind: str
    body: dict[str, Any]
    kind_version: int = 1
    precedence: Precedence = Precedence.ROUTINE
    marking: str = DEFAULT_MARKING
    reply_to: bytes | None = None
    version: int = VERSION

    @property
    def serial(self) -> str:
        return serial(self.sender, self.number)

    def fields(self) -> dict[str, Any]:
        return {
            "v": self.version,
            "from": self.sender,
            "to": self.recipient,
            "seq": self.seq,
            "num": self.number,
            "sent": self.sent_ms,
            "prec": self.precedence.value,
            "mark": self.marking,
            "kind": self.kind,
            "kv": self.kind_version,
            "body": self.body,
            "re": self.reply_to,
        }

    def seal(self, key: SigningKey) -> bytes:
        return seal("envelope", self.fields(), key)

    @classmethod
    def from_opened(cls, opened: Opened) -> Envelope:
        f = _Fields(opened.fields)
        version = f.integer("v", 0, 2**31)
        if version != VERSION:
            raise FieldError("v", f"unsupported envelope version {version} (this node speaks {VERSION})")
        prec = f.text("prec", PRECEDENCE_PATTERN)
        if prec not in Precedence.__members__:
            raise FieldError("prec", f"unknown precedence {prec!r}")
        reply_to = f.optional("re")
        if reply_to is not None and not (isinstance(reply_to, bytes) and len(reply_to) == 32):
            raise FieldError("re", "reply-to must be null or a 32-byte message id")
        body = f.optional("body")
        if body is None:
            raise FieldError("body", "missing")
        if not isinstance(body, dict) or not all(isinstance(k, str) for k in body):
            raise FieldError("body", "must be a map with text keys")
        envelope = cls(
            version=version,
            sender=f.text("from", PARTY_PATTERN),
            recipient=f.text("to", PARTY_PATTERN),
            seq=f.integer("seq", 1, MAX_SEQ),
            number=f.integer("num", 1, MAX_SEQ),
            sent_ms=f.integer("sent", 0, 2**53),
            precedence=Precedence(prec),
            marking=f.text("mark", MARKING_PATTERN),
            kind=f.text("kind", KIND_PATTERN),
            kind_version=f.integer("kv", 1, 2**31),
            body=body,
            reply_to=reply_to,
        )
        f.no_extras()
        return envelope


# One receipt names at most this many envelopes: ~45 bytes each keeps a receipt under the 64 KiB
# that a C2SP tlog-tiles entry bundle can hold, so every transcript entry can be exported.
MAX_RECEIPT_ENTRIES = 1024


@dataclass(frozen=True)
class ReceiptEntry:
    """One envelope named by a receipt: its sequence number, its id, and where it sits in the
    receiver's transcript."""

    seq: int
    envelope_id: bytes
    index: int


@dataclass(frozen=True)
class Receipt:
    """The receiver's signed statement that envelopes are durably stored.

    One receipt names every envelope stored in the same transaction: under load the receiver
    signs once per commit, not once per message, and each entry is as binding as a receipt of
    its own (the evidence for one message is the receipt plus the entry that names it).
    """

    sender: str  # the receiving node, which signs the receipt
    recipient: str  # the node that sent the envelopes
    stored_ms: int
    entries: tuple[ReceiptEntry, ...]
    version: int = VERSION

    def fields(self) -> dict[str, Any]:
        return {
            "v": self.version,
            "from": self.sender,
            "to": self.recipient,
            "stored": self.stored_ms,
            "entries": [[e.seq, e.envelope_id, e.index] for e in self.entries],
        }

    def seal(self, key: SigningKey) -> bytes:
        return seal("receipt", self.fields(), key)

    def entry(self, seq: int) -> ReceiptEntry | None:
        return next((e for e in self.entries if e.seq == seq), None)

    @classmethod
    def from_opened(cls, opened: Opened) -> Receipt:
        f = _Fields(opened.fields)
        raw_entries = f.optional("entries")
        if not isinstance(raw_entries, list) or not 1 <= len(raw_entries) <= MAX_RECEIPT_ENTRIES:
            raise FieldError("entries", f"must be a list of 1..{MAX_RECEIPT_ENTRIES} [seq, id, index] entries")
        entries = []
        for position, raw in enumerate(raw_entries):
            if not (isinstance(raw, list) and len(raw) == 3):
                raise FieldError(f"entries.{position}", "must be [seq, id, index]")
            entry = _Fields(dict(zip(("seq", "env", "index"), raw, strict=True)))
            entries.append(
                ReceiptEntry(entry.integer("seq", 1, MAX_SEQ), entry.digest("env"), entry.integer("index", 0, MAX_SEQ))
            )
        receipt = cls(
            version=f.integer("v", VERSION, VERSION),
            sender=f.text("from", PARTY_PATTERN),
            recipient=f.text("to", PARTY_PATTERN),
            stored_ms=f.integer("stored", 0, 2**53),
            entries=tuple(entries),
        )
        f.no_extras()
        return receipt


@dataclass(frozen=True)
class Rejection:
    """The receiver's signed refusal of an authentic envelope, with the reason."""

    sender: str
    recipient: str
    envelope_id: bytes
    seq: int | None
    at_ms: int
    reason: str
    detail: str
    consumed: bool = field(default=False)  # the sequence number is used up: send the next one
    version: int = VERSION

    def fields(self) -> dict[str, Any]:
        return {
            "v": self.version,
            "from": self.sender,
            "to": self.recipient,
            "env": self.envelope_id,
            "seq": self.seq,
            "at": self.at_ms,
            "reason": self.reason,
            "detail": self.detail,
            "consumed": self.consumed,
        }

    def seal(self, key: SigningKey) -> bytes:
        return seal("rejection", self.fields(), key)

    @classmethod
    def from_opened(cls, opened: Opened) -> Rejection:
        f = _Fields(opened.fields)
        seq = f.optional("seq")
        consumed = f.optional("consumed")
        if not isinstance(consumed, bool):
            raise FieldError("consumed", "must be a boolean")
        rejection = cls(
            version=f.integer("v", VERSION, VERSION),
            sender=f.text("from", PARTY_PATTERN),
            recipient=f.text("to", PARTY_PATTERN),
            envelope_id=f.digest("env"),
            seq=None if seq is None else f.integer("seq", 1, MAX_SEQ),
            at_ms=f.integer("at", 0, 2**53),
            reason=f.text("reason", REASON_PATTERN),
            detail=f.text("detail", DETAIL_PATTERN),
            consumed=consumed,
        )
        f.no_extras()
        return rejection


class _Fields:
    """Typed access to a decoded payload map; every failure names the field."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw
        self.seen: set[str] = set()

    def _get(self, name: str) -> Any:
        self.seen.add(name)
        if name not in self.raw:
            raise FieldError(name, "missing")
        return self.raw[name]

    def optional(self, name: str) -> Any:
        self.seen.add(name)
        return self.raw.get(name)

    def integer(self, name: str, low: int, high: int) -> int:
        value = self._get(name)
        if isinstance(value, bool) or not isinstance(value, int):
            raise FieldError(name, "must be an integer")
        if not low <= value <= high:
            raise FieldError(name, f"{value} is outside {low}..{high}")
        return value

    def text(self, name: str, pattern: re.Pattern[str]) -> str:
        value = self._get(name)
        if not isinstance(value, str):
            raise FieldError(name, "must be a text string")
        if not pattern.fullmatch(value):
            raise FieldError(name, f"{value[:40]!r} is not in the allowed form")
        return value

    def digest(self, name: str) -> bytes:
        value = self._get(name)
        if not (isinstance(value, bytes) and len(value) == 32):
            raise FieldError(name, "must be a 32-byte SHA-256 id")
        return value

    def no_extras(self) -> None:
        extra = set(self.raw) - self.seen
        if extra:
            raise FieldError(min(extra), "unknown field")
