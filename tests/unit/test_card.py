"""Identity cards and fingerprints."""

import datetime as dt

import pytest

from hotline.crypto import generate_signing_key, generate_tls_identity
from hotline.errors import PairingError
from hotline.node.card import IdentityCard, check_fingerprint, vet_new_peer
from hotline.storage import PeerRecord


def make_card(party: str = "SACEUR") -> IdentityCard:
    tls = generate_tls_identity(party, dt.datetime(2026, 11, 1, tzinfo=dt.UTC))
    return IdentityCard(party, generate_signing_key().verify_key.raw, tls.cert_der, ("127.0.0.1:7001", "[::1]:7001"))


def test_card_round_trip_and_fingerprint_shape() -> None:
    card = make_card()
    line = card.line()
    assert " " not in line
    assert IdentityCard.parse(line) == card
    groups = card.fingerprint.split()
    assert len(groups) == 6
    assert all(len(g) == 5 and g.isdigit() for g in groups)


def test_fingerprint_ignores_addresses_but_not_keys() -> None:
    card = make_card()
    moved = IdentityCard(card.party, card.sign_key, card.tls_cert, ("10.0.0.1:9",))
    assert moved.fingerprint == card.fingerprint
    assert make_card().fingerprint != card.fingerprint


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda line: "garbage", "not a hotline identity card"),
        (lambda line: line.replace("hotline:1:", "hotline:3:"), "version"),
        (lambda line: line.replace(":SACEUR:", ":saceur:"), "not a party name"),
        (lambda line: ":".join(line.split(":", 5)[:5]) + ":", "no address"),
        (lambda line: line.replace("127.0.0.1:7001", "nowhere"), "HOST:PORT"),
        (lambda line: line.replace("127.0.0.1:7001", ",".join(["127.0.0.1:7001"] * 8)), "at most 8 paths"),
    ],
)
def test_malformed_cards_are_refused_with_the_reason(mutate, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PairingError, match=message):
        IdentityCard.parse(mutate(make_card().line()))


def test_a_card_wrapped_by_a_mail_program_still_parses() -> None:
    card = make_card()
    line = card.line()
    wrapped = "\n".join(line[i : i + 70] for i in range(0, len(line), 70))
    assert IdentityCard.parse(wrapped) == card


def test_corrupt_key_material_is_refused() -> None:
    parts = make_card().line().split(":", 5)
    parts[3] = parts[3][:-4]
    with pytest.raises(PairingError, match="signing key"):
        IdentityCard.parse(":".join(parts))
    parts = make_card().line().split(":", 5)
    parts[4] = parts[4][:40]
    with pytest.raises(PairingError, match="TLS certificate is damaged"):
        IdentityCard.parse(":".join(parts))


def test_fingerprint_check_and_vetting() -> None:
    card = make_card()
    check_fingerprint(card, card.fingerprint.replace(" ", ""))
    with pytest.raises(PairingError, match="mismatch") as info:
        check_fingerprint(card, "00000 00000 00000 00000 00000 00000")
    assert card.fingerprint not in str(info.value), "the right number must come from the phone, not the error"
    with pytest.raises(PairingError, match="own party"):
        vet_new_peer("SACEUR", [], card)
    pinned = PeerRecord(card.party, card.sign_key, card.tls_cert, card.addresses, card.line(), 0)
    vet_new_peer("GENSTAB", [pinned], card)  # the same card again: fine (addresses may change)
    rekeyed = PeerRecord(card.party, b"\x00" * 32, card.tls_cert, card.addresses, "", 0)
    with pytest.raises(PairingError, match="different keys"):
        vet_new_peer("GENSTAB", [rekeyed], card)


def test_one_party_cannot_take_another_partys_keys() -> None:
    victim = make_card("GENSTAB")
    pinned = [PeerRecord(victim.party, victim.sign_key, victim.tls_cert, victim.addresses, victim.line(), 0)]
    rogue_tls = IdentityCard("ROGUE", make_card().sign_key, victim.tls_cert, ("127.0.0.1:9",))
    with pytest.raises(PairingError, match="TLS key is already pinned for GENSTAB"):
        vet_new_peer("SACEUR", pinned, rogue_tls)
    rogue_sig = IdentityCard("ROGUE", victim.sign_key, make_card().tls_cert, ("127.0.0.1:9",))
    with pytest.raises(PairingError, match="signing key is already pinned for GENSTAB"):
        vet_new_peer("SACEUR", pinned, rogue_sig)


def test_a_witness_says_so_under_its_fingerprint() -> None:
    card = make_card("OSCE")
    witness = IdentityCard(card.party, card.sign_key, card.tls_cert, card.addresses, witness=True)
    assert witness.line() == card.line() + ":witness"
    parsed = IdentityCard.parse(witness.line())
    assert parsed == witness
    assert parsed.addresses == ("127.0.0.1:7001", "[::1]:7001")
    assert witness.fingerprint != card.fingerprint, "nobody can turn a party into a witness unnoticed"
    assert witness.as_peer(0).witness
    assert not card.as_peer(0).witness


def test_a_version_2_card_carries_the_next_keys_commitment_and_the_logs_tag() -> None:
    from hotline.crypto.rotation import commitment

    v1 = make_card()
    v2 = IdentityCard(v1.party, v1.sign_key, v1.tls_cert, v1.addresses, next_key=commitment(b"\x07" * 32))
    line = v2.line()
    assert line.startswith("hotline:2:SACEUR:")
    assert IdentityCard.parse(line) == v2
    assert v2.log_tag == v1.log_tag, "a log is named by the party's first key until it is rotated"
    # The fingerprint read aloud covers the commitment and the log's name.
    assert v2.fingerprint != v1.fingerprint
    rotated = IdentityCard(v2.party, v2.sign_key, v2.tls_cert, v2.addresses, next_key=v2.next_key, log="ab" * 16)
    assert IdentityCard.parse(rotated.line()) == rotated
    assert rotated.fingerprint != v2.fingerprint
    assert IdentityCard.parse(v1.line()) == v1, "version 1 cards are still read"


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda parts: [*parts[:5], "AAAA", *parts[6:]], "commitment is not 32 bytes"),
        (lambda parts: [*parts[:6], "not-a-tag", *parts[7:]], "log tag is not 32 hex digits"),
        (lambda parts: parts[:7], "not a hotline identity card"),
    ],
)
def test_a_malformed_version_2_card_is_refused_with_the_reason(mutate, message: str) -> None:  # type: ignore[no-untyped-def]
    card = make_card()
    v2 = IdentityCard(card.party, card.sign_key, card.tls_cert, card.addresses, next_key=b"\x01" * 32)
    with pytest.raises(PairingError, match=message):
        IdentityCard.parse(":".join(mutate(v2.line().split(":", 7))))


def test_a_pinned_commitment_changes_only_with_replace_but_may_be_added() -> None:
    card = make_card()
    v1 = card.as_peer(1)
    committed = IdentityCard(card.party, card.sign_key, card.tls_cert, card.addresses, next_key=b"\x01" * 32)
    vet_new_peer("GENSTAB", [v1], committed)  # a commitment added to a pin that had none
    other = IdentityCard(card.party, card.sign_key, card.tls_cert, card.addresses, next_key=b"\x02" * 32)
    with pytest.raises(PairingError, match="commits to another next key"):
        vet_new_peer("GENSTAB", [committed.as_peer(1)], other)
    vet_new_peer("GENSTAB", [committed.as_peer(1)], other, replace=True)
    rekeyed = make_card()
    with pytest.raises(PairingError, match="--replace"):
        vet_new_peer("GENSTAB", [v1], rekeyed)
