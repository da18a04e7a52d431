"""The co-signed transcript as the store keeps it: our checkpoints and their cosignatures, and
the evidence when a log contradicts itself (``sqlite/witnessing.py`` keeps them in SQLite)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class StoredCheckpoint:
    size: int
    root: bytes
    note: str  # our signature only
    at_ms: int
    cosignatures: tuple[tuple[str, str], ...] = ()  # (witness party, signature line)

    @property
    def cosigned_note(self) -> str:
        """The note with every witness's cosignature line appended (C2SP signed-note form)."""
        return self.note + "".join(line for _, line in self.cosignatures)


@dataclass(frozen=True)
class Equivocation:
    id: int
    log: str
    reason: str
    detail: str
    held: str | None
    offered: str
    at_ms: int


@dataclass(frozen=True)
class Evidence:
    """A transcript entry with its inclusion proof under a checkpoint that covers it."""

    entry: bytes
    index: int
    checkpoint: StoredCheckpoint
    hashes: tuple[bytes, ...]
