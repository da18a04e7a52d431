"""Signed envelopes, receipts and rejections in deterministic CBOR."""

from hotline.envelope.model import (
    DEFAULT_MARKING,
    Envelope,
    FieldError,
    Precedence,
    Receipt,
    ReceiptEntry,
    Rejection,
    parse_message_key,
    serial,
)
from hotline.envelope.signed import Opened, object_id, open_signed, seal

__all__ = [
    "DEFAULT_MARKING",
    "Envelope",
    "FieldError",
    "Opened",
    "Precedence",
    "Receipt",
    "ReceiptEntry",
    "Rejection",
    "object_id",
    "open_signed",
    "parse_message_key",
    "seal",
    "serial",
]
