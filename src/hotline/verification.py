"""Verifying evidence written by `hotline evidence`, offline: the three files (four when a key
has changed), and nothing else, unless the reader names a node whose pinned keys to trust.

Every check is pure (``check_evidence``); only ``verify_evidence`` reads the folder and
``parties_known_at`` a node's store.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hotline.crypto.rotation import RotationStatement, follow_chain
from hotline.envelope import Envelope, open_signed
from hotline.errors import EncodingError
from hotline.evidence import EvidenceError, read_store
from hotline.keybook import key_book
from hotline.log import (
    ALG_COSIGNATURE_V1,
    ALG_ED25519,
    Checkpoint,
    CosignatureVerifier,
    Ed25519Verifier,
    TlogProof,
    key_tag,
    parse_note,
    parse_verifier_key,
    verify_tlog_proof,
)
from hotline.node import load_config

# -- verifying evidence offline ---------------------------------------------------------------


@dataclass
class Verified:
    origin: str
    size: int
    index: int
    log_key: str
    cosigned_by: list[str] = field(default_factory=list)
    message: dict[str, object] = field(default_factory=dict)
    envelope_signature: str = ""
    checked_against: str = ""
    key_hashes: dict[str, str] = field(default_factory=dict)  # SHA-256 of each public key, to compare


# Per party, every signing key a node pinned for it, and for a key a rotation retired, the size
# of the party's log up to which it signed checkpoints (None: current, or retired by ceremony).
Trusted = dict[str, dict[bytes, int | None]]


def parties_known_at(directory: Path) -> Trusted:
    """The signing keys a node trusts for each party: its own and each pinned peer's, every key
    each has had (what a retired key signed before it was retired still stands)."""
    load_config(directory)  # a directory that is no node's is said so first
    book = read_store(directory, lambda store: key_book(store, directory))
    return {party: {key: keys.retired_at.get(key) for key in keys.keys} for party, keys in book.items()}


def _check_key(verifier: Ed25519Verifier | CosignatureVerifier, trusted: Trusted | None, rotations: list[bytes]) -> str:
    """A key's name must be the one our scheme gives it: its party, and the tag of the party's
    first key, which is the key itself or rotated to it (``rotations`` prove each step). When
    the reader names a node to trust, the key must be one it pinned for that party: the pin, not
    the name, says whose key it is (a key pinned again by the ceremony has no rotation). Returns
    the party."""
    public = verifier.key.raw
    kind, _, rest = verifier.name.partition("/")
    party, _, tag = rest.partition("/")
    if kind not in ("hotline.transcript", "hotline.witness"):
        raise EvidenceError(f"the key named {verifier.name} is not a hotline log's or witness's")
    if trusted is not None:  # the reader trusts a node's pins: they say whose key it is
        if public not in trusted.get(party, {}):
            raise EvidenceError(f"the key named {verifier.name} is not a key pinned for {party} at the node given")
        return party
    if tag != key_tag(public) and public not in _rotated_from(tag, rotations):
        raise EvidenceError(
            f"the key named {verifier.name} is not the key that name stands for, nor rotated to from it"
        )
    return party


def _rotated_from(tag: str, rotations: list[bytes]) -> list[bytes]:
    """The keys the party whose first key has ``tag`` rotated to, as ``rotations`` prove."""
    for raw in rotations:
        try:
            body = Envelope.from_opened(open_signed(raw, "envelope")).body
            text = str(body["statement"])
            old = RotationStatement.decode(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))).old_key
        except (EncodingError, KeyError, ValueError):
            continue
        if key_tag(old) == tag:
            return follow_chain(old, rotations)
    return []


def verify_evidence(folder: Path, trusted: Trusted | None = None) -> Verified:
    """Check evidence written by `hotline evidence`, with nothing but the files in ``folder``
    (and, if given, the parties' keys to trust, from a node directory)."""
    try:
        entry = (folder / "entry").read_bytes()
        proof_text = (folder / "proof.tlog-proof").read_text()
        key_text = (folder / "keys").read_text()
    except FileNotFoundError as exc:
        raise EvidenceError(
            f"missing {Path(str(exc.filename)).name}: evidence is entry, proof.tlog-proof and keys"
        ) from None
    except UnicodeDecodeError:
        raise EvidenceError("proof.tlog-proof or keys is not UTF-8 text") from None
    try:  # present when a key is not its party's first: the rotations that lead to it
        rotation_text = (folder / "rotations").read_text()
    except FileNotFoundError:
        rotation_text = ""
    try:
        rotations = [base64.urlsafe_b64decode(line + "=" * (-len(line) % 4)) for line in rotation_text.split()]
    except ValueError:
        raise EvidenceError("rotations holds a line that is not base64url") from None
    return check_evidence(entry, proof_text, key_text, trusted, rotations)


def check_evidence(
    entry: bytes,
    proof_text: str,
    key_text: str,
    trusted: Trusted | None,
    rotations: list[bytes] | None = None,
) -> Verified:
    """The checks themselves, on the three files' contents (pure)."""
    # One key per line, each ended by a newline; nothing else (not even another line break).
    if not key_text.endswith("\n"):
        raise EvidenceError("keys must end with a newline")
    verifiers: list[Ed25519Verifier | CosignatureVerifier] = []
    for number, line in enumerate(key_text[:-1].split("\n"), 1):
        try:
            alg = parse_verifier_key(line).alg
            if alg == ALG_ED25519:
                verifiers.append(Ed25519Verifier.from_key_string(line))
            elif alg == ALG_COSIGNATURE_V1:
                verifiers.append(CosignatureVerifier.from_key_string(line))
            else:
                raise EvidenceError(f"keys line {number}: unknown key type {alg}")
        except EncodingError as exc:
            raise EvidenceError(f"keys line {number}: {exc}") from None
        _check_key(verifiers[-1], trusted, rotations or [])
    try:
        proof = TlogProof.parse(proof_text)
        origin = Checkpoint.parse(parse_note(proof.checkpoint).text).origin
        log_keys = [v for v in verifiers if isinstance(v, Ed25519Verifier) and v.name == origin]
        if not log_keys:
            raise EvidenceError(f"keys holds no key for the log {origin}")
        result = verify_tlog_proof(entry, proof, verifiers, origin=origin)
    except EncodingError as exc:
        raise EvidenceError(f"the proof does not verify: {exc}") from None
    if origin not in result.verified_by:
        raise EvidenceError(f"the checkpoint is not signed by the log's own key {origin}")
    # Evidence says exactly what it claims: every signature on the checkpoint verifies under a
    # key given, and every key given is used, so no part of it can be altered unnoticed. Keys are
    # told apart by name and key ID: a log's old and new key share its name.
    signatures = {(s.name, s.key_id) for s in parse_note(proof.checkpoint).signatures}
    given = {(v.name, v.key_id) for v in verifiers}
    for name, key_id in sorted(signatures - given):
        raise EvidenceError(f"the checkpoint carries a signature by {name} ({key_id:08x}) that no key given verifies")
    verified = Verified(origin, result.checkpoint.size, result.index, origin)
    verified.checked_against = "pinned keys" if trusted is not None else "the keys in the evidence only"
    verified.key_hashes = {v.name: hashlib.sha256(v.key.raw).hexdigest() for v in verifiers}
    verified.cosigned_by = [name for name in result.verified_by if name != origin]
    if trusted is not None:  # a key a rotation retired signs no checkpoint beyond its log size
        for v in verifiers:
            _, _, rest = v.name.partition("/")
            bound = trusted.get(rest.partition("/")[0], {}).get(v.key.raw)
            if (
                v.name == origin
                and bound is not None
                and result.checkpoint.size > bound
                and (v.name, v.key_id) in signatures
            ):
                raise EvidenceError(
                    f"the checkpoint of size {result.checkpoint.size} is signed by a key of {v.name} retired at size"
                    f" {bound}"
                )
    signer = _describe_entry(entry, verifiers, verified)
    unused = given - signatures - ({signer} if signer else set())
    if unused:
        raise EvidenceError(f"keys holds a key that verifies nothing here: {min(unused)[0]}")
    return verified


def _describe_entry(
    entry: bytes, verifiers: list[Ed25519Verifier | CosignatureVerifier], verified: Verified
) -> tuple[str, int] | None:
    """Fill in which message the entry is and check its own signature; returns the name and ID of
    the key that verified it."""
    try:
        opened = open_signed(entry, "envelope")
        envelope = Envelope.from_opened(opened)
    except EncodingError as exc:
        raise EvidenceError(f"the entry is in the log, but it is not a hotline envelope: {exc}") from None
    verified.message = {
        "serial": envelope.serial,
        "from": envelope.sender,
        "to": envelope.recipient,
        "seq": envelope.seq,
        "kind": envelope.kind,
        "precedence": envelope.precedence.value,
        "sent_ms": envelope.sent_ms,
        "envelope_id": opened.id.hex(),
    }
    prefix = f"hotline.transcript/{envelope.sender}/"
    sender_keys = [v for v in verifiers if isinstance(v, Ed25519Verifier) and v.name.startswith(prefix)]
    if not sender_keys:
        verified.envelope_signature = f"not checked: keys holds no key for {envelope.sender}"
        return None
    # The sender's log key and the key that signed the envelope share a name, and differ when
    # the sender has rotated since: the envelope is checked under each key of that name.
    signer = next((v for v in sender_keys if _verifies(opened, v)), None)
    if signer is None:
        raise EvidenceError(f"the envelope's own signature does not verify under {envelope.sender}'s key")
    verified.envelope_signature = f"signed by {envelope.sender} ({signer.name})"
    return signer.name, signer.key_id


def _verifies(opened: Any, verifier: Ed25519Verifier) -> bool:
    try:
        opened.verify(verifier.key)
    except EncodingError:
        return False
    return True
