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

from typing import Any

import cbor2

from hotline.errors import EncodingError

MAX_DEPTH = 16
MAX_ITEMS = 100_000


def encode(value: Any) -> bytes:
    return cbor2.dumps(value, canonical=True)


def decode(data: bytes, canonical: bool = True) -> Any:
    """Decode one CBOR item of hotline's subset, and unless ``canonical`` is False, refuse
    anything that is not in deterministic form."""
    check_subset(data)  # before cbor2 sees the bytes: see check_subset for why
    try:
        value = cbor2.loads(data, max_depth=MAX_DEPTH, allow_indefinite=False, allow_duplicate_keys=False)
    except Exception as exc:  # cbor2 raises several unrelated types for bad input
        raise EncodingError(f"not valid CBOR: {exc}") from None
    if canonical and encode(value) != data:
        raise EncodingError("CBOR is not in deterministic (RFC 8949 §4.2.1) form")
    return value


def check_subset(data: bytes) -> None:
    """Walk the item headers and refuse what hotline never sends: tags, floats, simple values
    other than false/true/null, indefinite lengths, and more than one item.

    This must happen before decoding, because cbor2's C decoder resolves some tags by itself:
    bignums (tags 2 and 3) become integers of any size, and shared references (tags 28 and 29)
    can build cyclic or exponentially shared structures from a few bytes. Refusing every tag
    also bounds integers to 64 bits, the largest the plain integer encodings can carry.
    """
    pos, end, items, depth = 0, len(data), 0, 0
    pending = [1]  # items still to read at each open level: the top level holds exactly one
    while pending:
        if pending[-1] == 0:
            pending.pop()
            depth -= 1
            continue
        pending[-1] -= 1
        if pos >= end:
            raise EncodingError("CBOR ends in the middle of an item")
        initial = data[pos]
        major, info = initial >> 5, initial & 0x1F
        pos += 1
        items += 1
        if items > MAX_ITEMS:
            raise EncodingError(f"more than {MAX_ITEMS} CBOR items")
        if major == 6:
            raise EncodingError("CBOR tags are not allowed")
        if major == 7:
            if info not in (20, 21, 22):  # false, true, null
                raise EncodingError("CBOR floats and simple values other than false, true, null are not allowed")
            continue
        if info >= 28:
            raise EncodingError("indefinite or reserved CBOR lengths are not allowed")
        width = (0, 1, 2, 4, 8)[info - 23] if info >= 24 else 0
        if pos + width > end:
            raise EncodingError("CBOR ends in the middle of an item header")
        argument = int.from_bytes(data[pos : pos + width], "big") if width else info
        pos += width
        if major in (2, 3):  # byte and text strings: skip the content
            if argument > end - pos:
                raise EncodingError("CBOR string runs past the end")
            pos += argument
        elif major in (4, 5):  # arrays and maps: their items come next
            depth += 1
            if depth > MAX_DEPTH:
                raise EncodingError(f"CBOR nested deeper than {MAX_DEPTH}")
            pending.append(argument * (2 if major == 5 else 1))
            if pending[-1] > end - pos:
                raise EncodingError("CBOR container holds more items than there are bytes")
    if pos != end:
        raise EncodingError(f"{end - pos} bytes after the CBOR item")
