"""Per-sender sequence rules at the receiver: gapless, each number used once, urgent first.

Each direction of a channel carries one sequence of numbers, 1, 2, 3, ..., given by the sender
at signing. The sender sends them over two lanes (``lanes.py``): FLASH and IMMEDIATE on one
connection, everything else on another, so that an urgent envelope does not wait behind the
ordinary ones already on the wire. Within a lane envelopes arrive in sequence order; across lanes
they need not, so the receiver accepts a number that is *ahead* of the lowest one it lacks, as
long as it is no further ahead than any correct sender can be (``reach``: more than the sender
ever has unreceipted). Every number is still used exactly once and none is skipped; the
numbers the receiver lacks are at most ``reach`` below the highest it holds.

An authentic envelope is then exactly one of:

- NEW: a number not used yet, within reach. It is stored (or, if invalid, rejected), and the
  number is used up either way, so the sender moves on.
- DUPLICATE: a number already used. Answered from the store (the stored receipt if it is the
  same envelope; a rejection if the sender signed a different envelope under a used number).
- GAP: a number beyond reach. Refused without using it up: a correct sender never gets there.

The tracker is shared by every connection with the same peer, so a reconnection resumes where
the previous connection stopped, not where the new one started. After a restart it resumes from
the numbers the store holds as used (``resume``): only the ``reach`` highest are needed.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import Self

# How far ahead of the lowest missing number an envelope may be. The sender keeps at most
# its window plus the urgent allowance unreceipted (576 by default), so this leaves room for
# larger windows without letting a broken peer make us remember an unbounded set.
REACH = 4096


class Arrival(enum.Enum):
    NEW = "new"
    DUPLICATE = "duplicate"
    GAP = "gap"


class InboundSequence:
    def __init__(self, next_seq: int = 1, ahead: Iterable[int] = (), reach: int = REACH) -> None:
        if next_seq < 1:
            raise ValueError("sequence numbers start at 1")
        self.next_seq = next_seq  # the lowest number not used yet: where the sender resumes
        self.ahead = {seq for seq in ahead if seq > next_seq}  # used numbers above it
        self.reach = reach
        if any(seq >= next_seq + reach for seq in self.ahead):
            raise ValueError(f"a used number lies more than {reach} beyond {next_seq}")

    @classmethod
    def resume(cls, used: Iterable[int], reach: int = REACH) -> Self:
        """The receiver as it stood, from the numbers it had used: every one of them, or at
        least the ``reach`` highest (a store need read no more; see below).

        Every number the receiver lacks lies less than ``reach`` below the highest it holds,
        since it never takes one further ahead of the lowest it lacks. So when ``reach``
        numbers or more are given, every number below the lowest of them is used: either that
        lowest is ``reach`` or more below the highest, or the numbers given fill their whole
        range and nothing at all is missing. With fewer, they are all there is."""
        taken = sorted(set(used))
        next_seq = taken[0] if len(taken) >= reach else 1
        for seq in taken:
            if seq != next_seq:
                break
            next_seq += 1
        return cls(next_seq, taken, reach)

    @property
    def missing(self) -> int:
        """How many numbers below the highest used one have not arrived yet."""
        return max(self.ahead) - self.next_seq + 1 - len(self.ahead) if self.ahead else 0

    def classify(self, seq: int) -> Arrival:
        if seq < self.next_seq or seq in self.ahead:
            return Arrival.DUPLICATE
        return Arrival.NEW if seq < self.next_seq + self.reach else Arrival.GAP

    def take(self, seq: int) -> None:
        """Use up a NEW number."""
        if self.classify(seq) is not Arrival.NEW:
            raise ValueError(f"sequence {seq} is not new; the lowest missing is {self.next_seq}")
        if seq != self.next_seq:
            self.ahead.add(seq)
            return
        self.next_seq += 1
        while self.next_seq in self.ahead:
            self.ahead.remove(self.next_seq)
            self.next_seq += 1
