"""RFC 8949 §4.2.1 core deterministic encoding, and a decoder that insists on it.

Signed objects are identified by the hash of their bytes, so one value must have exactly one
encoding: otherwise a relay could re-encode a message into a "different" one with the same
meaning and the same valid signature. We therefore decode strictly (no duplicate keys, no
indefinite lengths) and then re-encode: if the bytes differ, the input was not canonical and is
refused.

cbor2's ``canonical=True`` sorts map keys length-first, then bytewise. For the text-string keys
we use, that is the same order as §4.2.1's bytewise order of the encoded keys, because the
encoded key begins with its length. We never encode floats, so float shortening does not arise.
"""

from __future__ import annotations

import io
from typing import Any

import cbor2

from hotline.errors import EncodingError

MAX_DEPTH = 16


def encode(value: Any) -> bytes:
    return cbor2.dumps(value, canonical=True)


def decode(data: bytes, canonical: bool = True) -> Any:
    """Decode one CBOR item: strictly (no tags, floats, indefinite lengths or duplicate keys)
    and, unless ``canonical`` is False, refusing anything that is not in deterministic form."""
    stream = io.BytesIO(data)
    try:
        value = cbor2.CBORDecoder(
            stream, max_depth=MAX_DEPTH, allow_indefinite=False, allow_duplicate_keys=False
        ).decode()
    except Exception as exc:  # cbor2 raises several unrelated types for bad input
        raise EncodingError(f"not valid CBOR: {exc}") from None
    if stream.tell() != len(data):
        raise EncodingError(f"{len(data) - stream.tell()} bytes after the CBOR item")
    if _has_tags_or_floats(value):
        raise EncodingError("CBOR tags and floating-point values are not allowed")
    if canonical and encode(value) != data:
        raise EncodingError("CBOR is not in deterministic (RFC 8949 §4.2.1) form")
    return value


_PLAIN = frozenset({bool, int, str, bytes, type(None)})


def _has_tags_or_floats(value: Any) -> bool:
    # Iterative and by exact type: this runs on every signed object, so it must be cheap.
    # cbor2 gives plain built-in types for everything we allow; anything else is refused.
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is dict:
            stack.extend(item.keys())
            stack.extend(item.values())
        elif kind is list:
            stack.extend(item)
        elif kind not in _PLAIN:
            return True  # floats, tagged values (datetimes, bignums, ...), undefined, simple values
    return False
