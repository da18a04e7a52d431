"""What the store keeps of a restore from a backup and of the recovery from peers after it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hotline.storage.records import Acknowledgement


@dataclass(frozen=True)
class Recovery:
    """A restore from a backup. Until ``done_ms``, the node must not start: it would sign numbers
    and log positions its peers already hold (``hotline recover`` finishes it)."""

    number: int
    restored_ms: int
    from_size: int  # the transcript's size in the copy restored
    backup: str  # which copy
    done_ms: int | None = None
    to_size: int | None = None
    report: str | None = None


@dataclass(frozen=True)
class RecoveryBounds:
    """Where our copy of one channel stands, so the peer can send back only what may be missing:
    the lowest sequence number of ours it has not answered in our copy, and the lowest of its
    own our copy does not hold."""

    peer: str
    ours_from: int
    theirs_from: int


@dataclass(frozen=True)
class SentAgain:
    """Our own envelope, put back into the outbox exactly as it was signed and sent."""

    number: int
    peer: str
    seq: int
    precedence: str
    marking: str
    kind: str
    kind_version: int
    body: bytes
    reply_to: bytes | None
    signed_ms: int
    due_ms: int | None
    envelope: bytes
    envelope_id: bytes
    acknowledges: Acknowledgement | None = None  # it carried our acknowledgement of ``reply_to``


# One replayed store operation: its name ("sent", "receipted", "rejected", "stored", "refused")
# and the arguments of the store function that first appended it.
Replay = tuple[str, tuple[Any, ...]]
