"""C2SP tlog-proof (https://c2sp.org/tlog-proof): an offline-verifiable proof that an entry is logged.

The format, line by line (each line ends in U+000A) ::

    c2sp.org/tlog-proof@v1
    extra <base64 opaque data>          (optional; omitted when there is no extra data)
    index <decimal entry index>
    <base64 hash>                       (zero or more: the RFC 6962 inclusion proof,
    ...                                  from the leaf's sibling up to the root's child)
    <empty line>
    <the signed checkpoint note, verbatim (c2sp.org/tlog-checkpoint)>

Because it is self-contained, a proof is checked against nothing but a policy: the log's origin
and the keys (the log's, and its witnesses') the verifier trusts. ``verify_tlog_proof`` opens the
checkpoint note with those keys, then checks the inclusion proof against the checkpoint's root.

Parsing is strict, in the spirit of checkpoint.py: exactly one spelling parses (canonical base64,
no leading zeros, no empty ``extra``), and the checkpoint must already be a well-formed signed
checkpoint note, so a proof that parses can only fail verification for a cryptographic reason.
The extra data is NOT authenticated (the spec says so): it is returned, never trusted here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from hotline.errors import EncodingError
from hotline.log.checkpoint import Checkpoint, CheckpointError
from hotline.log.merkle import HASH_SIZE, SubtreeHash, inclusion_proof, leaf_hash, verify_inclusion
from hotline.log.note import NoteError, Verifier, b64decode, b64encode, open_note, parse_note

__all__ = [
    "MAX_PROOF_HASHES",
    "TLOG_PROOF_HEADER",
    "TlogProof",
    "TlogProofError",
    "VerifiedTlogProof",
    "build_tlog_proof",
    "verify_tlog_proof",
    "verify_tlog_proof_hash",
]

TLOG_PROOF_HEADER = "c2sp.org/tlog-proof@v1"
# An inclusion proof in a tree of at most 2**64 - 1 leaves has at most 64 hashes; a longer list
# can never verify, so it is refused before any decoding work.
MAX_PROOF_HASHES = 64
_MAX_UINT64 = (1 << 64) - 1
_EXTRA_PREFIX = "extra "
_INDEX_PREFIX = "index "
# "ASCII decimal with no leading zeroes (unless the index is 0)"; at most 20 digits, checked
# before int() so a hostile line cannot make us parse a huge number.
_INDEX = re.compile(r"0|[1-9][0-9]{0,19}")


class TlogProofError(EncodingError):
    """A tlog-proof is malformed, or names a log other than the one expected."""


@dataclass(frozen=True)
class TlogProof:
    """A parsed tlog-proof. Its checkpoint is well-formed but NOT yet verified: see ``verify_tlog_proof``."""

    index: int
    hashes: tuple[bytes, ...]
    checkpoint: str  # the signed checkpoint note, verbatim
    extra: bytes | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.index <= _MAX_UINT64:
            raise TlogProofError(f"an entry index is an unsigned 64-bit integer, not {self.index}")
        if len(self.hashes) > MAX_PROOF_HASHES:
            raise TlogProofError(f"an inclusion proof has at most {MAX_PROOF_HASHES} hashes")
        for i, value in enumerate(self.hashes):
            if len(value) != HASH_SIZE:
                raise TlogProofError(f"proof hash {i} is {len(value)} bytes, not {HASH_SIZE}")
        # "If no extra data is present, this line is omitted": empty extra data is no extra data,
        # so it has one spelling (no line), not two.
        if self.extra is not None and not self.extra:
            raise TlogProofError("empty extra data is written as no extra line")
        try:
            note = parse_note(self.checkpoint)
            Checkpoint.parse(note.text)
        except (NoteError, CheckpointError) as exc:
            raise TlogProofError(f"the proof's checkpoint is malformed: {exc}") from None

    def encode(self) -> str:
        lines = [TLOG_PROOF_HEADER]
        if self.extra is not None:
            lines.append(_EXTRA_PREFIX + b64encode(self.extra))
        lines.append(f"{_INDEX_PREFIX}{self.index}")
        lines.extend(b64encode(value) for value in self.hashes)
        # The empty line that ends the proof hashes, then the note (which ends in its own newline).
        return "".join(line + "\n" for line in lines) + "\n" + self.checkpoint

    @classmethod
    def parse(cls, data: str | bytes) -> TlogProof:
        text = _as_text(data)
        # Every line before the checkpoint is non-empty, so the first empty line ends them; the
        # checkpoint note has its own empty line (before its signatures), which comes later.
        end = text.find("\n\n")
        if end < 0:
            raise TlogProofError("a tlog-proof needs an empty line before its checkpoint")
        lines = text[:end].split("\n")
        checkpoint = text[end + 2 :]
        if lines[0] != TLOG_PROOF_HEADER:
            raise TlogProofError(f"a tlog-proof starts with the line {TLOG_PROOF_HEADER!r}")
        pos = 1
        extra = None
        if pos < len(lines) and lines[pos].startswith(_EXTRA_PREFIX):
            try:
                extra = b64decode(lines[pos][len(_EXTRA_PREFIX) :], "the extra data")
            except NoteError as exc:
                raise TlogProofError(str(exc)) from None
            pos += 1
        if pos >= len(lines) or not lines[pos].startswith(_INDEX_PREFIX):
            raise TlogProofError("a tlog-proof has an 'index <n>' line after its header")
        index_text = lines[pos][len(_INDEX_PREFIX) :]
        if not _INDEX.fullmatch(index_text) or int(index_text) > _MAX_UINT64:
            raise TlogProofError(f"malformed entry index {index_text[:40]!r} (decimal, no leading zeros)")
        hash_lines = lines[pos + 1 :]
        if len(hash_lines) > MAX_PROOF_HASHES:
            raise TlogProofError(f"an inclusion proof has at most {MAX_PROOF_HASHES} hashes")
        hashes = []
        for i, line in enumerate(hash_lines):
            try:
                hashes.append(b64decode(line, f"proof hash {i}"))
            except NoteError as exc:
                raise TlogProofError(str(exc)) from None
        proof = cls(int(index_text), tuple(hashes), checkpoint, extra)
        # Belt and braces, as in checkpoint.py: only the one canonical spelling parses.
        if proof.encode() != text:
            raise TlogProofError("the tlog-proof is not in its canonical form")
        return proof


def _as_text(data: str | bytes) -> str:
    if isinstance(data, bytes):
        try:
            return data.decode("utf-8", errors="strict")
        except UnicodeDecodeError:
            raise TlogProofError("a tlog-proof must be valid UTF-8") from None
    return data


def build_tlog_proof(
    index: int, signed_checkpoint: str, get_hash: SubtreeHash, extra: bytes | None = None
) -> TlogProof:
    """The proof for entry ``index`` in the tree that ``signed_checkpoint`` commits to.

    The checkpoint is only parsed here (it is ours, or was just verified by the caller); its size
    decides which inclusion proof is computed from ``get_hash``.
    """
    try:
        size = Checkpoint.parse(parse_note(signed_checkpoint).text).size
    except (NoteError, CheckpointError) as exc:
        raise TlogProofError(f"the proof's checkpoint is malformed: {exc}") from None
    if not 0 <= index < size:
        raise TlogProofError(f"entry {index} is not in the checkpointed tree of size {size}")
    return TlogProof(index, tuple(inclusion_proof(index, size, get_hash)), signed_checkpoint, extra)


@dataclass(frozen=True)
class VerifiedTlogProof:
    """What a verified proof establishes: entry ``index`` with ``leaf_hash`` is in ``checkpoint``.

    ``verified_by`` names the trusted keys whose signatures on the checkpoint verified (the log's
    and any witnesses'), in note order; a caller's policy (say, "the log and two witnesses") is
    applied to it. ``extra`` is carried along unauthenticated.
    """

    checkpoint: Checkpoint
    index: int
    leaf_hash: bytes
    verified_by: tuple[str, ...]
    extra: bytes | None


def verify_tlog_proof_hash(
    leaf: bytes, proof: TlogProof | str | bytes, verifiers: Iterable[Verifier], *, origin: str | None = None
) -> VerifiedTlogProof:
    """Verify a proof for an entry given by its leaf hash (``merkle.leaf_hash`` of the entry).

    Raises ``TlogProofError`` (malformed, or another origin), ``NoteError`` (no trusted signature,
    or a trusted key's signature fails), ``CheckpointError`` or ``ProofError`` (the entry is not at
    that index under the checkpoint's root). All are ``EncodingError``; none is ever swallowed.
    """
    parsed = proof if isinstance(proof, TlogProof) else TlogProof.parse(proof)
    opened = open_note(parsed.checkpoint, verifiers)
    # Parse the text that was verified, not the one parsed earlier: they are the same string, but
    # this way nothing unverified can reach the result.
    checkpoint = Checkpoint.parse(opened.text)
    if origin is not None and checkpoint.origin != origin:
        raise TlogProofError(f"the checkpoint is from {checkpoint.origin!r}, not {origin!r}")
    verify_inclusion(leaf, parsed.index, checkpoint.size, parsed.hashes, checkpoint.root_hash)
    return VerifiedTlogProof(checkpoint, parsed.index, leaf, opened.verified, parsed.extra)


def verify_tlog_proof(
    leaf_data: bytes, proof: TlogProof | str | bytes, verifiers: Iterable[Verifier], *, origin: str | None = None
) -> VerifiedTlogProof:
    """Verify that ``leaf_data`` (the entry's bytes) is logged, as ``proof`` claims; see ``verify_tlog_proof_hash``."""
    return verify_tlog_proof_hash(leaf_hash(leaf_data), proof, verifiers, origin=origin)
