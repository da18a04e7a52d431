"""C2SP checkpoints (https://c2sp.org/tlog-checkpoint): the signed tree head of a log.

The body is the note text ::

    <origin>
    <tree size in decimal>
    <base64 root hash>
    [extension lines...]

Parsing is strict so that one checkpoint has exactly one spelling: two different bodies for the
same (origin, size, root) would let a log sign "the same" head twice and confuse equivocation checks.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from hotline.errors import EncodingError
from hotline.log.merkle import HASH_SIZE
from hotline.log.note import NoteError, Signer, Verifier, b64decode, b64encode, check_text, open_note, sign_note

# Tree sizes are uint64 in every implementation we interoperate with (Go's formats/log, sunlight).
MAX_TREE_SIZE = 2**64 - 1
# "No leading zeroes (unless the tree is empty, in which case the tree size is 0)". At most 20
# digits, checked before int() so a hostile line cannot make us parse a huge number.
_SIZE = re.compile(r"0|[1-9][0-9]{0,19}")


class CheckpointError(EncodingError):
    """A checkpoint body is malformed."""


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.origin:
            raise CheckpointError("a checkpoint origin must be non-empty")
        if not 0 <= self.size <= MAX_TREE_SIZE:
            raise CheckpointError(f"a tree size is between 0 and 2^64-1, not {self.size}")
        if len(self.root_hash) != HASH_SIZE:
            raise CheckpointError(f"a root hash is {HASH_SIZE} bytes, not {len(self.root_hash)}")
        for line in (self.origin, *self.extensions):
            if "\n" in line:
                raise CheckpointError("a checkpoint line may not contain a newline")
        if any(not line for line in self.extensions):
            raise CheckpointError("checkpoint extension lines must be non-empty")
        # The body is a note text, so it obeys the note's character rules (UTF-8, no controls).
        try:
            check_text(self.body())
        except NoteError as exc:
            raise CheckpointError(f"not a valid checkpoint body: {exc}") from None

    def body(self) -> str:
        lines = [self.origin, str(self.size), b64encode(self.root_hash), *self.extensions]
        return "".join(line + "\n" for line in lines)

    @classmethod
    def parse(cls, body: str) -> Checkpoint:
        """Parse a note text (as returned by ``open_note``) into a checkpoint."""
        if not body.endswith("\n"):
            raise CheckpointError("a checkpoint body ends with a newline")
        lines = body[:-1].split("\n")
        if len(lines) < 3:
            raise CheckpointError("a checkpoint body has an origin, a tree size and a root hash")
        origin, size, root64, *extensions = lines
        if not _SIZE.fullmatch(size):
            raise CheckpointError(f"malformed tree size {size[:40]!r} (decimal, no leading zeros)")
        try:
            root_hash = b64decode(root64, "the root hash")
        except NoteError as exc:
            raise CheckpointError(str(exc)) from None
        checkpoint = cls(origin, int(size), root_hash, tuple(extensions))
        # Belt and braces: only the one canonical spelling parses.
        assert checkpoint.body() == body
        return checkpoint


def sign_checkpoint(checkpoint: Checkpoint, signers: Sequence[Signer]) -> str:
    """The checkpoint as a signed note (the log's own signature, usually)."""
    return sign_note(checkpoint.body(), signers)


def open_checkpoint(note: str | bytes, verifiers: Iterable[Verifier]) -> tuple[Checkpoint, tuple[str, ...]]:
    """Verify a signed checkpoint note and parse its body; returns it with the verified key names."""
    opened = open_note(note, verifiers)
    return Checkpoint.parse(opened.text), opened.verified


__all__ = ["MAX_TREE_SIZE", "Checkpoint", "CheckpointError", "open_checkpoint", "sign_checkpoint"]
