"""Signed envelopes, receipts and rejections: round trips, determinism, tamper evidence."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.crypto import generate_signing_key
from hotline.envelope import Envelope, FieldError, Precedence, Receipt, ReceiptEntry, Rejection, open_signed, seal
from hotline.errors import EncodingError, SignatureError
from hotline.testing import Party, sign_envelope

KEY = generate_signing_key()

envelopes = st.builds(
    Envelope,
    sender=st.from_regex(r"[A-Z][A-Z0-9]{1,10}", fullmatch=True),
    recipient=st.from_regex(r"[A-Z][A-Z0-9]{1,10}", fullmatch=True),
    seq=st.integers(1, 2**63 - 1),
    number=st.integers(1, 2**63 - 1),
    sent_ms=st.integers(0, 2**53),
    kind=st.just("free_text"),
    body=st.fixed_dictionaries({"text": st.text(min_size=1, max_size=200), "lang": st.sampled_from(["en", "ru"])}),
    precedence=st.sampled_from(list(Precedence)),
    marking=st.sampled_from(["UNCLASSIFIED", "RESTRICTED", "NATO UNCLASSIFIED"]),
    reply_to=st.none() | st.binary(min_size=32, max_size=32),
)


@given(envelopes)
def test_envelope_round_trip(envelope: Envelope) -> None:
    signed = envelope.seal(KEY)
    opened = open_signed(signed, "envelope")
    opened.verify(KEY.verify_key)
    assert Envelope.from_opened(opened) == envelope


@given(envelopes)
def test_encoding_is_deterministic(envelope: Envelope) -> None:
    # Ed25519 is deterministic too, so the same envelope signs to the same bytes and id.
    assert envelope.seal(KEY) == envelope.seal(KEY)


@settings(max_examples=200)
@given(envelopes, st.data())
def test_any_single_bit_flip_breaks_verification(envelope: Envelope, data: st.DataObject) -> None:
    signed = bytearray(envelope.seal(KEY))
    bit = data.draw(st.integers(0, len(signed) * 8 - 1))
    signed[bit // 8] ^= 1 << (bit % 8)
    with pytest.raises(EncodingError):  # SignatureError is an EncodingError
        open_and_verify(bytes(signed))


def open_and_verify(signed: bytes) -> None:
    open_signed(signed, "envelope").verify(KEY.verify_key)


def test_signature_from_another_key_is_refused() -> None:
    signed = sign_envelope(Party("ALPHA"), "BRAVO", 1)
    with pytest.raises(SignatureError):
        open_signed(signed, "envelope").verify(KEY.verify_key)


def test_domain_separation_a_receipt_signature_is_not_an_envelope_signature() -> None:
    receipt = Receipt("BRAVO", "ALPHA", 0, (ReceiptEntry(1, b"\x01" * 32, 0),)).seal(KEY)
    opened = open_signed(receipt, "receipt")
    forged = seal("envelope", opened.fields, KEY)  # same fields, re-signed: fine
    assert open_signed(forged, "envelope").signature != opened.signature
    with pytest.raises(EncodingError):
        open_signed(receipt, "envelope")


def test_receipt_and_rejection_round_trip() -> None:
    receipt = Receipt("BRAVO", "ALPHA", 123, (ReceiptEntry(7, b"\x02" * 32, 40), ReceiptEntry(8, b"\x03" * 32, 41)))
    assert Receipt.from_opened(open_signed(receipt.seal(KEY), "receipt")) == receipt
    rejection = Rejection("BRAVO", "ALPHA", b"\x03" * 32, None, 5, "sequence-gap", "expected 3", False)
    assert Rejection.from_opened(open_signed(rejection.seal(KEY), "rejection")) == rejection


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"v": 2}, "v"),
        ({"prec": "URGENT"}, "prec"),
        ({"seq": 0}, "seq"),
        ({"seq": "1"}, "seq"),
        ({"from": "lowercase"}, "from"),
        ({"extra": 1}, "extra"),
        ({"body": [1]}, "body"),
        ({"re": b"short"}, "re"),
    ],
)
def test_invalid_fields_are_named(override: dict[str, object], field: str) -> None:
    signed = sign_envelope(Party("ALPHA"), "BRAVO", 1, overrides=override)
    with pytest.raises(FieldError) as info:
        Envelope.from_opened(open_signed(signed, "envelope"))
    assert info.value.field == field


def test_serial_is_party_and_number() -> None:
    envelope = Envelope("SACEUR", "GENSTAB", 3, 123, 0, "free_text", {"text": "x", "lang": "en"})
    assert envelope.serial == "SACEUR-000123"


def test_a_message_is_named_by_its_serial_or_its_envelope_id() -> None:
    from hotline.envelope import parse_message_key

    assert parse_message_key(" saceur-000123 ") == ("SACEUR", 123)
    assert parse_message_key("AB" * 32) == b"\xab" * 32
    for bad in ("nonsense", "SACEUR-", "-12", "SACEUR-" + "9" * 19, "ab" * 31, "../outbox"):
        with pytest.raises(ValueError, match="neither a serial"):
            parse_message_key(bad)
