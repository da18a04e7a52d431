"""C2SP signed-note, tlog-checkpoint and tlog-cosignature: known answers from others, then refusals.

Known-answer vectors (copied as data, with their source):

* golang.org/x/mod ``sumdb/note/note_test.go``: the PeterNeumann signer and verifier keys, the
  signed note Go produces for them (Ed25519 is deterministic, so ours must be byte-identical), and
  the EnochRoot key and signature, which we did not produce and must verify.
* github.com/transparency-dev/formats ``note/note_cosigv1_test.go``: a deployed witness's type 0x04
  verifier key (remora.n621.de), a type 0x01 key, and a cosignature whose timestamp is 1727964367.
* c2sp.org/tlog-cosignature and tlog-checkpoint: the example checkpoint and the example cosignature
  line, whose timestamp the spec spells out in its example signed message (time 1679315147).

No published vector pairs a cosignature/v1 with its public key, so the cosignature's Ed25519
signature is checked only against itself (round trips and tampering); its key ID, line layout and
timestamp encoding are checked against the vectors above.
"""

from __future__ import annotations

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

import hotline.log
from hotline.crypto.keys import SigningKey, VerifyKey
from hotline.errors import EncodingError
from hotline.log import (
    Checkpoint,
    CheckpointError,
    CosignatureError,
    CosignatureSigner,
    CosignatureVerifier,
    Ed25519Signer,
    Ed25519Verifier,
    NoteError,
    Signature,
    cosign,
    cosignature_timestamp,
    cosigned_message,
    key_id,
    open_checkpoint,
    open_note,
    parse_note,
    parse_verifier_key,
    sign_checkpoint,
    sign_note,
    valid_key_name,
    verify_cosignature,
)

# --- golang.org/x/mod/sumdb/note/note_test.go ---------------------------------------------------
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
PETER_SIG = (
    "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
)
ENOCH_SIG = "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n"
# Manglings that Go's TestNewVerifier refuses: a wrong-length key and an unknown algorithm, each
# with its key ID recomputed so that only the key itself is wrong.
GO_BAD_VKEYS = [
    "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",
    "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
]

# --- transparency-dev/formats/note/note_cosigv1_test.go -----------------------------------------
REMORA_COSIGNER_VKEY = "remora.n621.de+da77ade7+BOvN63jn/bLvkieywe8R6UYAtVtNbZpXh34x7onlmtw2"
TEST_ED25519_VKEY = "TEST+7997405c+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6"
FORMATS_COSIG_B64 = (
    "ZGhGuQAAAABm/qTPeyKXD+R2rzyQsxPiP8mXum7qq/iF0u4vanlqJyocWODBt97w9uL+8qT7S5gxEHWWOworDcFiEBYJXORmnFBOBA=="
)
FORMATS_PLAIN_SIG_B64 = "eQjRQm6eSKzFoiYalgwCPXu2y3ijtg68is9M46JKxuZB+dRfTmeQeDBoXnvxZx2ugnkyV+MUMLXpWs1hPb/W/4xkNQY="

# --- c2sp.org/tlog-checkpoint and c2sp.org/tlog-cosignature -------------------------------------
SPEC_CHECKPOINT = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
SPEC_LOG_SIG = (
    "— example.com/behind-the-sofa "
    "Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
)
SPEC_COSIG = (
    "— witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe"
    "+mbIUBkBIfZ+qnA==\n"
)
SPEC_COSIGNED_MESSAGE = "cosignature/v1\ntime 1679315147\n" + SPEC_CHECKPOINT


def fixed_key(n: int) -> SigningKey:
    return SigningKey(Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"test key %d" % n).digest()))


PETER = Ed25519Signer.from_key_string(PETER_SKEY)
LOG = Ed25519Signer("example.org/log", fixed_key(1))
WITNESS = CosignatureSigner("witness.example.org/w1", fixed_key(2))
ROOT = hashlib.sha256(b"root").digest()


# ---------------------------------------------------------------------------------------------
# Known answers


def test_go_signer_key_parses_to_the_go_verifier_key() -> None:
    assert PETER.name == "PeterNeumann"
    assert PETER.key_id == 0xC74F20A3
    assert PETER.verifier().key_string() == PETER_VKEY
    assert PETER.key_string() == PETER_SKEY


def test_go_verifier_keys_parse() -> None:
    peter = Ed25519Verifier.from_key_string(PETER_VKEY)
    assert (peter.name, peter.key_id) == ("PeterNeumann", 0xC74F20A3)
    assert peter.key_string() == PETER_VKEY
    enoch = Ed25519Verifier.from_key_string(ENOCH_VKEY)
    assert (enoch.name, enoch.key_id) == ("EnochRoot", 0xAF0CFE78)
    parsed = parse_verifier_key(TEST_ED25519_VKEY)
    assert (parsed.name, parsed.key_id, parsed.alg) == ("TEST", 0x7997405C, 0x01)


def test_sign_note_is_byte_identical_to_go() -> None:
    assert sign_note(TEXT, [PETER]) == TEXT + "\n" + PETER_SIG


def test_open_note_verifies_go_signatures() -> None:
    peter = Ed25519Verifier.from_key_string(PETER_VKEY)
    enoch = Ed25519Verifier.from_key_string(ENOCH_VKEY)
    note = TEXT + "\n" + PETER_SIG + ENOCH_SIG
    assert open_note(note, [peter, enoch]) == (TEXT, ("PeterNeumann", "EnochRoot"))
    assert open_note(note.encode(), [enoch]) == (TEXT, ("EnochRoot",))
    text, verified = open_note(note, [peter])
    assert (text, verified) == (TEXT, ("PeterNeumann",))
    # The unknown signature is ignored by open_note but kept by parse_note, byte for byte.
    parsed = parse_note(note)
    assert [sig.line() for sig in parsed.signatures] == [PETER_SIG, ENOCH_SIG]
    assert parsed.encode() == note


def test_cosigner_key_id_uses_type_0x04() -> None:
    # A deployed witness's key: its published key ID proves the 0x04 key ID computation.
    remora = CosignatureVerifier.from_key_string(REMORA_COSIGNER_VKEY)
    assert (remora.name, remora.key_id) == ("remora.n621.de", 0xDA77ADE7)
    assert remora.key_string() == REMORA_COSIGNER_VKEY
    assert key_id("remora.n621.de", 0x04, remora.key.raw) == 0xDA77ADE7
    # The same key under the plain note type has a different ID: the types never collide.
    assert key_id("remora.n621.de", 0x01, remora.key.raw) != 0xDA77ADE7


def test_cosignature_timestamps_from_the_spec_and_from_go() -> None:
    spec = Signature.parse_line(SPEC_COSIG.removesuffix("\n"))
    assert spec.name == "witness.example.com/w1"
    assert cosignature_timestamp(spec) == 1679315147
    formats = Signature("x", 0, base64.b64decode(FORMATS_COSIG_B64)[4:])
    assert cosignature_timestamp(formats) == 1727964367
    plain = Signature("x", 0, base64.b64decode(FORMATS_PLAIN_SIG_B64)[4:])
    with pytest.raises(CosignatureError):
        cosignature_timestamp(plain)


def test_cosigned_message_matches_the_spec_example() -> None:
    assert cosigned_message(SPEC_CHECKPOINT, 1679315147).decode() == SPEC_COSIGNED_MESSAGE


def test_spec_checkpoint_note_parses() -> None:
    note = SPEC_CHECKPOINT + "\n" + SPEC_LOG_SIG + SPEC_COSIG
    parsed = parse_note(note)
    assert [sig.name for sig in parsed.signatures] == ["example.com/behind-the-sofa", "witness.example.com/w1"]
    checkpoint = Checkpoint.parse(parsed.text)
    assert checkpoint.origin == "example.com/behind-the-sofa"
    assert checkpoint.size == 20852163
    assert checkpoint.body() == SPEC_CHECKPOINT
    # Without the keys nothing verifies, and that is a refusal, not an empty success.
    with pytest.raises(NoteError, match="no signature from a known key"):
        open_note(note, [PETER.verifier()])


# ---------------------------------------------------------------------------------------------
# Round trips


def test_errors_are_encoding_errors() -> None:
    assert issubclass(NoteError, EncodingError)
    assert issubclass(CheckpointError, EncodingError)
    assert issubclass(CosignatureError, NoteError)
    assert "verify_inclusion" in hotline.log.__all__  # the Merkle exports are still there
    assert "open_note" in hotline.log.__all__


def test_generated_keys_round_trip_through_their_strings() -> None:
    signer = Ed25519Signer("example.org/log", fixed_key(7))
    again = Ed25519Signer.from_key_string(signer.key_string())
    assert again.key_id == signer.key_id
    assert Ed25519Verifier.from_key_string(signer.verifier().key_string()) == signer.verifier()


def test_note_text_with_blank_lines_round_trips() -> None:
    for text in ["a\n\nb\n", "Note\n\n", "\n", "ünïcode — fine\n"]:
        note = sign_note(text, [LOG])
        assert open_note(note, [LOG.verifier()]) == (text, ("example.org/log",))


def test_sign_note_keeps_other_signatures_and_replaces_its_own() -> None:
    first = sign_note(TEXT, [PETER])
    stale = Signature("example.org/log", LOG.key_id, b"\x00" * 64)
    both = sign_note(TEXT, [LOG], existing=(*parse_note(first).signatures, stale))
    assert both == TEXT + "\n" + PETER_SIG + sign_note(TEXT, [LOG]).removeprefix(TEXT + "\n")
    assert open_note(both, [PETER.verifier(), LOG.verifier()]).verified == ("PeterNeumann", "example.org/log")


def test_checkpoint_round_trip() -> None:
    checkpoint = Checkpoint("example.org/log", 5, ROOT, ("ext one", "ext two"))
    assert Checkpoint.parse(checkpoint.body()) == checkpoint
    note = sign_checkpoint(checkpoint, [LOG])
    assert open_checkpoint(note, [LOG.verifier()]) == (checkpoint, ("example.org/log",))
    assert Checkpoint.parse(Checkpoint("o", 0, hotline.log.EMPTY_ROOT).body()).size == 0
    assert Checkpoint("o", 2**64 - 1, ROOT).body().split("\n")[1] == "18446744073709551615"


def test_cosignature_round_trip() -> None:
    checkpoint = Checkpoint("example.org/log", 42, ROOT)
    signature = cosign(checkpoint, WITNESS, 1700000000)
    raw = base64.b64decode(signature.line().split(" ")[2])
    # Key ID (4) || big-endian timestamp (8) || Ed25519 signature (64).
    assert len(raw) == 76
    assert raw[:4] == WITNESS.key_id.to_bytes(4, "big")
    assert raw[4:12] == (1700000000).to_bytes(8, "big")
    signed = cosigned_message(checkpoint.body(), 1700000000)
    WITNESS.key.verify_key.verify(b"", signed, raw[12:])
    assert verify_cosignature(checkpoint, signature, WITNESS.verifier()) == 1700000000


def test_cosigned_checkpoint_note_verifies_both_signatures() -> None:
    checkpoint = Checkpoint("example.org/log", 42, ROOT, ("extension",))
    note = sign_checkpoint(checkpoint, [LOG])
    cosigned = sign_note(checkpoint.body(), [WITNESS.at(1700000000)], existing=parse_note(note).signatures)
    assert open_checkpoint(cosigned, [LOG.verifier(), WITNESS.verifier()]) == (
        checkpoint,
        ("example.org/log", "witness.example.org/w1"),
    )
    # A cosignature key is not a plain note key: under the 0x01 ID the witness's line is unknown.
    plain = Ed25519Verifier(WITNESS.name, WITNESS.key.verify_key)
    assert open_checkpoint(cosigned, [LOG.verifier(), plain])[1] == ("example.org/log",)


def test_timestamp_boundaries() -> None:
    checkpoint = Checkpoint("example.org/log", 1, ROOT)
    assert verify_cosignature(checkpoint, cosign(checkpoint, WITNESS, 0), WITNESS.verifier()) == 0
    top = 2**63 - 1
    assert verify_cosignature(checkpoint, cosign(checkpoint, WITNESS, top), WITNESS.verifier()) == top
    for bad in (-1, 2**63):
        with pytest.raises(CosignatureError):
            cosign(checkpoint, WITNESS, bad)


# ---------------------------------------------------------------------------------------------
# Refusals: keys


@pytest.mark.parametrize(
    "vkey",
    [
        *GO_BAD_VKEYS,
        "",
        "PeterNeumann",
        "PeterNeumann+c74f20a3",
        "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # wrong key ID
        "PeterNeumann+c74f20a+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # 7 hex digits
        "PeterNeumann+0xc74f20+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeuman+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # name not hashed
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T",  # bad base64
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW\n",
        REMORA_COSIGNER_VKEY,  # a cosigner key is not a plain note key
    ],
)
def test_bad_verifier_keys_are_refused(vkey: str) -> None:
    with pytest.raises(NoteError):
        Ed25519Verifier.from_key_string(vkey)


def test_every_single_byte_change_of_the_go_key_is_refused() -> None:
    # Go's TestNewVerifier: every one-character increment must be refused (the key ID catches it).
    for i in range(len(PETER_VKEY)):
        mangled = PETER_VKEY[:i] + chr(ord(PETER_VKEY[i]) + 1) + PETER_VKEY[i + 1 :]
        with pytest.raises(NoteError):
            Ed25519Verifier.from_key_string(mangled)
    for i in range(len(PETER_SKEY)):
        mangled = PETER_SKEY[:i] + chr(ord(PETER_SKEY[i]) + 1) + PETER_SKEY[i + 1 :]
        with pytest.raises(NoteError):
            Ed25519Signer.from_key_string(mangled)


def test_bad_cosigner_keys_are_refused() -> None:
    with pytest.raises(CosignatureError, match="0x04"):
        CosignatureVerifier.from_key_string(PETER_VKEY)
    with pytest.raises(NoteError):
        CosignatureVerifier.from_key_string(REMORA_COSIGNER_VKEY.replace("da77ade7", "da77ade8"))


@pytest.mark.parametrize("name", ["", "a+b", "a b", "a\u00a0b", "a\u2003b", "tab\there", "\ud800"])
def test_invalid_key_names(name: str) -> None:
    assert not valid_key_name(name)
    with pytest.raises(NoteError):
        Ed25519Signer(name, fixed_key(1))
    with pytest.raises(CosignatureError):
        CosignatureSigner(name, fixed_key(1))


def test_valid_key_names() -> None:
    for name in ["example.com/log", "PeterNeumann", "oid/1.3.6.1.4.1", "ключ"]:
        assert valid_key_name(name)


def test_ambiguous_verifiers_are_refused() -> None:
    with pytest.raises(NoteError, match="ambiguous"):
        open_note(sign_note(TEXT, [LOG]), [LOG.verifier(), LOG.verifier()])


# ---------------------------------------------------------------------------------------------
# Refusals: notes


GOOD = TEXT + "\n" + PETER_SIG


@pytest.mark.parametrize(
    ("note", "why"),
    [
        # Go's TestOpen "bad messages".
        (TEXT, "blank line"),
        (TEXT + "\n", "signature line"),
        (TEXT + "\n" + PETER_SIG[:-1], "signature line"),
        ("\x01" + GOOD, "control character"),
        (b"\xff" + GOOD.encode(), "UTF-8"),
        (
            TEXT
            + "\n— Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyB"
            + "wJnAM=",
            "newline-terminated",
        ),
        (GOOD + "Unexpected line.\n", "em dash"),
        # And ours.
        (GOOD.replace("\n", "\r\n"), "control character"),
        (GOOD.encode()[:-3] + b"\x80\n", "UTF-8"),
        (GOOD.replace("—", "-"), "em dash"),
        (GOOD.replace("—", "--"), "em dash"),
        (GOOD.replace("— ", "—  "), "signature line"),
        (TEXT + "\n— PeterNeumann\n", "signature line"),
        (TEXT + "\n— PeterNeumann \n", "key ID followed"),
        (TEXT + "\n— PeterNeumann AAAAAA==\n", "key ID followed"),
        (GOOD.replace("nAM=", "nAN="), "canonical"),  # non-zero padding bits
        (GOOD.replace("nAM=", "nAM"), "base64"),
        (GOOD + PETER_SIG, "two signature lines"),
        (GOOD + PETER_SIG.replace("nAM=", "nAQ="), "two signature lines"),
        (TEXT + "\n" + PETER_SIG * 101, "at most 100"),
        ("\ud800\n\n" + PETER_SIG, "UTF-8"),
    ],
)
def test_malformed_notes_are_refused(note: str | bytes, why: str) -> None:
    with pytest.raises(NoteError, match=why):
        open_note(note, [PETER.verifier()])


def test_signature_limit_counts_unknown_keys_too() -> None:
    lines = [Signature(f"k{i}", i, b"\x01" * 64).line() for i in range(100)]
    note = TEXT + "\n" + PETER_SIG + "".join(lines)
    with pytest.raises(NoteError, match="at most 100"):
        parse_note(note)
    # Exactly 100 is fine, and the 99 unknown ones are simply ignored.
    assert open_note(TEXT + "\n" + PETER_SIG + "".join(lines[:99]), [PETER.verifier()]).verified == ("PeterNeumann",)


def test_tampered_text_is_refused() -> None:
    with pytest.raises(NoteError, match="invalid signature for key PeterNeumann\\+c74f20a3"):
        open_note(GOOD.replace("problem,", "problem;"), [PETER.verifier()])


def test_tampered_signature_is_refused() -> None:
    # Go's TestOpen: four characters spliced into the signature.
    tampered = TEXT + "\n" + PETER_SIG[:60] + "ABCD" + PETER_SIG[60:]
    with pytest.raises(NoteError, match="invalid signature"):
        open_note(tampered, [PETER.verifier()])
    flipped = PETER_SIG.replace("nAM=", "nAQ=")
    with pytest.raises(NoteError, match="invalid signature"):
        open_note(TEXT + "\n" + flipped, [PETER.verifier()])


def test_known_bad_signature_refuses_even_when_another_verifies() -> None:
    enoch = Ed25519Verifier.from_key_string(ENOCH_VKEY)
    note = GOOD + ENOCH_SIG[:60] + "ABCD" + ENOCH_SIG[60:]
    with pytest.raises(NoteError, match="invalid signature for key EnochRoot"):
        open_note(note, [PETER.verifier(), enoch])


def test_same_name_other_key_id_is_an_unknown_key() -> None:
    # "x08go" -> "x08gp" changes the fourth key ID byte only: the name matches, the ID does not,
    # so the spec says ignore it ("even if they share a name or ID (but not both) with a known key").
    other_id = PETER_SIG.replace("x08go", "x08gp")
    enoch = Ed25519Verifier.from_key_string(ENOCH_VKEY)
    assert open_note(TEXT + "\n" + other_id + ENOCH_SIG, [PETER.verifier(), enoch]).verified == ("EnochRoot",)
    with pytest.raises(NoteError, match="no signature from a known key"):
        open_note(TEXT + "\n" + other_id, [PETER.verifier()])


def test_signature_by_an_unknown_key_is_ignored() -> None:
    other = Ed25519Signer("PeterNeumann", fixed_key(9))  # same name, other key: other key ID
    note = sign_note(TEXT, [other], existing=parse_note(GOOD).signatures)
    assert open_note(note, [PETER.verifier()]) == (TEXT, ("PeterNeumann",))
    with pytest.raises(NoteError, match="no signature from a known key"):
        open_note(sign_note(TEXT, [other]), [PETER.verifier()])


def test_sign_note_refusals() -> None:
    with pytest.raises(NoteError, match="end with a newline"):
        sign_note("abc", [LOG])
    with pytest.raises(NoteError, match="end with a newline"):
        sign_note("", [LOG])
    with pytest.raises(NoteError, match="control character"):
        sign_note("a\tb\n", [LOG])
    with pytest.raises(NoteError, match="at least one"):
        sign_note(TEXT, [])
    with pytest.raises(NoteError, match="two signature lines"):
        sign_note(TEXT, [LOG, LOG])


# ---------------------------------------------------------------------------------------------
# Refusals: checkpoints

ROOT64 = base64.b64encode(ROOT).decode()


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (f"o\n5\n{ROOT64}", "ends with a newline"),
        ("o\n5\n", "origin, a tree size"),
        (f"\n5\n{ROOT64}\n", "origin must be non-empty"),
        (f"o\n05\n{ROOT64}\n", "leading zeros"),
        (f"o\n00\n{ROOT64}\n", "leading zeros"),
        (f"o\n-1\n{ROOT64}\n", "tree size"),
        (f"o\n+5\n{ROOT64}\n", "tree size"),
        (f"o\n 5\n{ROOT64}\n", "tree size"),
        (f"o\n5 \n{ROOT64}\n", "tree size"),
        (f"o\n٥\n{ROOT64}\n", "tree size"),  # Arabic-Indic five: int() would take it
        (f"o\n1_000\n{ROOT64}\n", "tree size"),
        (f"o\n18446744073709551616\n{ROOT64}\n", "2\\^64-1"),
        (f"o\n{'9' * 5000}\n{ROOT64}\n", "tree size"),
        ("o\n5\n" + base64.b64encode(ROOT[:31]).decode() + "\n", "32 bytes"),
        ("o\n5\n" + base64.b64encode(ROOT + b"\x00").decode() + "\n", "32 bytes"),
        (f"o\n5\n{ROOT64.rstrip('=')}\n", "base64"),
        (f"o\n5\n{ROOT64}\n\n", "non-empty"),  # trailing blank line
        (f"o\n5\n{ROOT64}\next\n\n", "non-empty"),
        (f"o\n5\n{ROOT64}\nok\r\n", "control character"),
        (f"o\n5\n{ROOT64} \n", "base64"),
    ],
)
def test_malformed_checkpoints_are_refused(body: str, why: str) -> None:
    with pytest.raises(CheckpointError, match=why):
        Checkpoint.parse(body)


def test_invalid_checkpoint_fields_are_refused() -> None:
    with pytest.raises(CheckpointError):
        Checkpoint("", 1, ROOT)
    with pytest.raises(CheckpointError):
        Checkpoint("o\nx", 1, ROOT)
    with pytest.raises(CheckpointError):
        Checkpoint("o", -1, ROOT)
    with pytest.raises(CheckpointError):
        Checkpoint("o", 2**64, ROOT)
    with pytest.raises(CheckpointError):
        Checkpoint("o", 1, ROOT[:16])
    with pytest.raises(CheckpointError):
        Checkpoint("o", 1, ROOT, ("",))
    with pytest.raises(CheckpointError):
        Checkpoint("o\x00", 1, ROOT)


def test_open_checkpoint_refuses_a_signed_non_checkpoint() -> None:
    with pytest.raises(CheckpointError):
        open_checkpoint(sign_note("just text\n", [LOG]), [LOG.verifier()])


# ---------------------------------------------------------------------------------------------
# Refusals: cosignatures


def test_cosignature_over_another_checkpoint_is_refused() -> None:
    checkpoint = Checkpoint("example.org/log", 42, ROOT)
    signature = cosign(checkpoint, WITNESS, 1700000000)
    for other in (
        Checkpoint("example.org/log", 43, ROOT),
        Checkpoint("example.org/other", 42, ROOT),
        Checkpoint("example.org/log", 42, hashlib.sha256(b"other").digest()),
        Checkpoint("example.org/log", 42, ROOT, ("extension lines are signed too",)),
    ):
        with pytest.raises(CosignatureError, match="does not verify"):
            verify_cosignature(other, signature, WITNESS.verifier())


def test_cosignature_with_a_changed_timestamp_is_refused() -> None:
    checkpoint = Checkpoint("example.org/log", 42, ROOT)
    signature = cosign(checkpoint, WITNESS, 1700000000)
    moved = Signature(signature.name, signature.key_id, (1700000001).to_bytes(8, "big") + signature.signature[8:])
    with pytest.raises(CosignatureError, match="does not verify"):
        verify_cosignature(checkpoint, moved, WITNESS.verifier())
    too_late = Signature(signature.name, signature.key_id, b"\xff" * 8 + signature.signature[8:])
    with pytest.raises(CosignatureError, match="2\\^63-1"):
        verify_cosignature(checkpoint, too_late, WITNESS.verifier())


def test_cosignature_by_another_key_or_of_wrong_shape_is_refused() -> None:
    checkpoint = Checkpoint("example.org/log", 42, ROOT)
    signature = cosign(checkpoint, WITNESS, 1700000000)
    impostor = CosignatureSigner(WITNESS.name, fixed_key(3))
    with pytest.raises(CosignatureError, match="not by"):
        verify_cosignature(checkpoint, signature, impostor.verifier())
    plain = Signature(WITNESS.name, WITNESS.key_id, LOG.sign(checkpoint.body().encode()))
    with pytest.raises(CosignatureError, match="72 bytes"):
        verify_cosignature(checkpoint, plain, WITNESS.verifier())
    # As a note Verifier, a bad cosignature refuses the whole note.
    note = checkpoint.body() + "\n" + Signature(WITNESS.name, WITNESS.key_id, b"\x00" * 72).line()
    with pytest.raises(NoteError, match="invalid signature"):
        open_note(note, [WITNESS.verifier()])


def test_only_checkpoints_are_cosigned() -> None:
    with pytest.raises(CosignatureError, match="only a checkpoint"):
        sign_note("not\na checkpoint\n", [WITNESS.at(1)])
    with pytest.raises(CosignatureError, match="only a checkpoint"):
        cosigned_message("o\n01\n" + ROOT64 + "\n", 1)


def test_verifier_key_types_are_the_raw_ed25519_key() -> None:
    # The vkey carries the 32-byte key after the type byte, nothing else (spec: "vkeys").
    raw = base64.b64decode(WITNESS.verifier().key_string().split("+", 2)[2])
    assert raw == b"\x04" + WITNESS.key.verify_key.raw
    assert CosignatureVerifier.from_key_string(WITNESS.verifier().key_string()).key == VerifyKey(raw[1:])
