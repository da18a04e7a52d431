"""Deterministic CBOR: one value, one encoding; anything else is refused."""

import contextlib
import datetime as dt

import cbor2
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hotline.envelope import cbor
from hotline.errors import EncodingError

values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.text(max_size=20) | st.binary(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


@given(values)
def test_round_trip(value: object) -> None:
    assert cbor.decode(cbor.encode(value)) == value


@given(st.dictionaries(st.text(max_size=8), st.integers(), max_size=8))
def test_map_keys_follow_rfc8949_bytewise_order(value: dict[str, int]) -> None:
    encoded = cbor.encode(value)
    keys = list(cbor2.loads(encoded).keys())
    assert keys == sorted(keys, key=cbor2.dumps)


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (bytes.fromhex("1817"), "integer 23 in two bytes"),
        (bytes.fromhex("a2616201616101"), "keys out of order"),
        (bytes.fromhex("5f4101ff"), "indefinite-length bytes"),
        (bytes.fromhex("a2616101616102"), "duplicate keys"),
        (bytes.fromhex("f93c00"), "a float"),
        (bytes.fromhex("c11a514b67b0"), "a tag"),
        (bytes.fromhex("0000"), "trailing bytes"),
        (b"", "nothing"),
    ],
)
def test_non_canonical_input_is_refused(data: bytes, why: str) -> None:
    with pytest.raises(EncodingError):
        cbor.decode(data)


def test_known_encoding() -> None:
    # RFC 8949 Appendix A examples, in deterministic form.
    assert cbor.encode({"a": 1, "b": [2, 3]}).hex() == "a26161016162820203"
    assert cbor.encode(1000000).hex() == "1a000f4240"


@pytest.mark.parametrize("data", [bytes.fromhex("0000"), bytes.fromhex("a0ff"), b""])
def test_trailing_bytes_are_refused_even_where_canonical_form_is_not_required(data: bytes) -> None:
    with pytest.raises(EncodingError):
        cbor.decode(data, canonical=False)


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (bytes.fromhex("c249010000000000000000"), "a bignum (tag 2): integers of any size"),
        (bytes.fromhex("d81c81d81d00"), "a shared reference (tags 28/29): a cyclic structure"),
        (bytes.fromhex("f5"), "true is fine"),
    ],
)
def test_tags_that_cbor2_would_resolve_are_refused_before_decoding(data: bytes, why: str) -> None:
    if why == "true is fine":
        assert cbor.decode(data) is True
        return
    with pytest.raises(EncodingError, match="tags"):
        cbor.decode(data, canonical=False)


@given(st.binary(max_size=64))
def test_random_bytes_decode_or_raise_the_encoding_error(data: bytes) -> None:
    with contextlib.suppress(EncodingError):
        cbor.decode(data, canonical=False)


OUTSIDE = st.integers(2**64, 2**80) | st.floats(allow_nan=False) | st.datetimes(timezones=st.just(dt.UTC))


@given(st.recursive(OUTSIDE, lambda children: st.lists(children, min_size=1, max_size=3), max_leaves=5))
def test_values_outside_the_subset_never_decode(value: object) -> None:
    with pytest.raises(EncodingError):
        cbor.decode(cbor2.dumps(value, canonical=True))
