"""Per-sender sequence rules at the receiver: gapless, in order, each number used once.

The receiver keeps one number per peer: the next sequence number it expects. An authentic
envelope is then exactly one of:

- NEXT: the expected number. It is stored (or, if invalid, rejected) and the number advances,
  so an invalid envelope still uses up its number and the sender moves on.
- DUPLICATE: an earlier number. Answered from the store (the stored receipt if it is the same
  envelope; a rejection if the sender signed a different envelope under a used number).
- GAP: a later number. Refused without using it up: a correct sender never skips.

The tracker is shared by every session with the same peer, so a reconnection resumes where
the previous connection stopped, not where the new one started.
"""

from __future__ import annotations

import enum


class Arrival(enum.Enum):
    NEXT = "next"
    DUPLICATE = "duplicate"
    GAP = "gap"


class InboundSequence:
    def __init__(self, next_seq: int = 1) -> None:
        if next_seq < 1:
            raise ValueError("sequence numbers start at 1")
        self.next_seq = next_seq

    def classify(self, seq: int) -> Arrival:
        if seq == self.next_seq:
            return Arrival.NEXT
        return Arrival.DUPLICATE if seq < self.next_seq else Arrival.GAP

    def advance(self, seq: int) -> None:
        if seq != self.next_seq:
            raise ValueError(f"cannot advance past {seq}; expecting {self.next_seq}")
        self.next_seq += 1
