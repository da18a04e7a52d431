"""The key rotation statement (``crypto/rotation.py``): what a peer follows, and every way a
statement is refused, naming why."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hotline.crypto import generate_signing_key, generate_tls_identity
from hotline.crypto.rotation import RotationRefusedError, RotationStatement, check_rotation, commitment

OLD, NEW, NEXT, THIEF = (generate_signing_key() for _ in range(4))
TLS = generate_tls_identity("ALPHA", dt.datetime(2026, 12, 1, tzinfo=dt.UTC))
LOG = "hotline.transcript/ALPHA/00112233445566778899aabbccddeeff"


def statement(**changes: object) -> RotationStatement:
    made = RotationStatement(
        party="ALPHA",
        log=LOG,
        old_key=OLD.verify_key.raw,
        new_key=NEW.verify_key.raw,
        tls_cert=TLS.cert_der,
        next_commitment=commitment(NEXT.verify_key.raw),
        log_size=1234,
        at_ms=1_796_000_000_000,
    )
    return dataclasses.replace(made, **changes)  # type: ignore[arg-type]


COMMITTED = commitment(NEW.verify_key.raw)


def check(made: RotationStatement, key: object = NEW, committed: bytes | None = COMMITTED) -> RotationStatement:
    data = made.encode()
    signature = key.sign(b"hotline/key-rotation/v1\x00", data)  # type: ignore[attr-defined]
    return check_rotation(data, signature, "ALPHA", LOG, OLD.verify_key.raw, committed)


def test_a_rotation_to_the_committed_key_is_followed() -> None:
    made = statement()
    assert check(made) == made
    assert made.sign(NEW) == NEW.sign(b"hotline/key-rotation/v1\x00", made.encode())


@pytest.mark.parametrize(
    ("made", "key", "committed", "reason"),
    [
        # A thief of the current key rotating to a key of its own: signed well, not committed to.
        (statement(new_key=THIEF.verify_key.raw), THIEF, commitment(NEW.verify_key.raw), "not-committed"),
        # The old key named is not the one pinned (a statement made for another pin).
        (statement(old_key=THIEF.verify_key.raw), NEW, COMMITTED, "not-pinned"),
        # The new key did not sign it: a statement forged around a key the forger lacks.
        (statement(), THIEF, COMMITTED, "bad-signature"),
        (statement(party="BRAVO"), NEW, COMMITTED, "wrong-party"),
        (statement(log="hotline.transcript/ALPHA/ffff"), NEW, COMMITTED, "wrong-party"),
        (statement(new_key=OLD.verify_key.raw), OLD, COMMITTED, "same-key"),
        (statement(next_commitment=b"short"), NEW, COMMITTED, "malformed"),
    ],
    ids=["thief", "other-pin", "forged", "other-party", "other-log", "same-key", "bad-commitment"],
)
def test_a_statement_that_fails_a_check_is_refused_naming_it(
    made: RotationStatement, key: object, committed: bytes | None, reason: str
) -> None:
    with pytest.raises(RotationRefusedError) as refused:
        check(made, key, committed)
    assert refused.value.reason == reason


def test_without_a_commitment_pinned_no_rotation_is_followed() -> None:
    """A party pinned from a version-1 card committed to no next key: it cannot rotate (a thief of
    its current key could rotate it anywhere) until it gives its version-2 card."""
    with pytest.raises(RotationRefusedError) as refused:
        check(statement(), committed=None)
    assert refused.value.reason == "no-commitment"


def test_a_statement_with_a_damaged_certificate_is_refused() -> None:
    with pytest.raises(RotationRefusedError) as refused:
        check(statement(tls_cert=b"certificate"))
    assert refused.value.reason == "malformed"


def test_the_new_key_signs_only_its_own_statement() -> None:
    with pytest.raises(ValueError, match="its own new key"):
        statement().sign(THIEF)


@given(st.binary(max_size=200))
def test_garbage_is_refused_as_malformed(data: bytes) -> None:
    with pytest.raises(RotationRefusedError) as refused:
        check_rotation(data, b"\x00" * 64, "ALPHA", LOG, OLD.verify_key.raw, None)
    assert refused.value.reason == "malformed"
