"""The sender's side of a channel: numbering at signing, envelopes in flight, what goes again.

The receiver's half of the sequence rules is ``sequence.py``; this is the other half, kept by the
sender, pure (no I/O, no clock) so that its rules can be checked against a receiver under random
receipts, resends and lost lanes (``tests/unit/test_ledger.py``):

- *Numbering at signing.* Sequence numbers are given when an envelope is signed, never when it
  is queued, so that a FLASH queued behind thousands of ROUTINE drafts takes the next number and
  leaves first. Every number is given once, in order, with none skipped.
- *In flight.* A signed envelope stays in flight until the peer's receipt names it (or a
  rejection says its number was used up). Each lane has its own budget: the ordinary lane
  ``window`` envelopes, the urgent lane ``URGENT_ALLOWANCE`` beside it, so that a full ordinary
  window never delays a FLASH. Together they stay below the receiver's ``REACH``: a correct
  sender never gets so far ahead that its envelopes look like a gap.
- *Resending.* Whenever the links change (one opens, closes, falls silent, is heard again), an
  urgent envelope in flight goes to every urgent link that has not carried it, and an ordinary
  one that no live link still carries goes to the ordinary link (``resend_plan``); the
  receiver's duplicate rule makes that safe. A peer that says it expects a number beyond what we
  ever signed is holding more of our numbering than our store: our store went back in time
  (``peer_ahead``).
- *Tie-break.* When two links of one lane meet (both sides dialed at once), both ends keep the
  one dialed by the party whose name sorts first (``keeps_new_link``).
- *Receipt batches.* The receiver signs one receipt per read, not per envelope; but an urgent
  envelope is receipted at once, and a batch never names more than a receipt may hold
  (``receipt_due``).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Collection, Hashable, Iterable, Mapping, Sequence
from typing import Generic, Protocol, TypeVar

from hotline.envelope.model import MAX_RECEIPT_ENTRIES
from hotline.protocol.lanes import URGENT_RANK, Lane, lane_of
from hotline.protocol.sequence import REACH

URGENT_ALLOWANCE = 64  # FLASH and IMMEDIATE envelopes allowed in flight, beside the window


class Signed(Protocol):
    """What the ledger needs of a signed envelope (the node's stored ``Dispatched`` record)."""

    @property
    def seq(self) -> int: ...

    @property
    def envelope_id(self) -> bytes: ...

    @property
    def rank(self) -> int: ...  # precedence rank, 0 = FLASH


T = TypeVar("T", bound=Signed)
L = TypeVar("L", bound=Hashable)  # a link, as the caller names it


class SendLedger(Generic[T]):
    def __init__(
        self, send_next: int, window: int, unreceipted: Iterable[T] = (), allowance: int = URGENT_ALLOWANCE
    ) -> None:
        if send_next < 1:
            raise ValueError("sequence numbers start at 1")
        check_window(window, allowance)
        self.send_next = send_next  # the number the next signed envelope gets
        self.window = window
        self.allowance = allowance
        self._in_flight: OrderedDict[int, T] = OrderedDict()  # by sequence number
        self.add(sorted(unreceipted, key=lambda item: item.seq))

    # -- numbering and signing ---------------------------------------------------------------

    def room(self, lane: Lane) -> int:
        """How many more envelopes of this lane may be signed now."""
        budget = self.allowance if lane is Lane.URGENT else self.window
        return max(0, budget - self.count_in_flight(lane))

    def take(self, count: int) -> int:
        """Give ``count`` sequence numbers to envelopes about to be signed; returns the first."""
        if count < 0:
            raise ValueError("cannot take a negative count of numbers")
        first = self.send_next
        self.send_next += count
        return first

    def add(self, items: Iterable[T]) -> None:
        """Envelopes signed and durably stored: in flight until answered."""
        for item in items:
            if item.seq >= self.send_next:
                raise ValueError(f"sequence {item.seq} was never given (next is {self.send_next})")
            if item.seq in self._in_flight:
                raise ValueError(f"sequence {item.seq} is already in flight")
            self._in_flight[item.seq] = item

    def resume_at(self, send_next: int) -> None:
        """Number on from where the peer stands (after our store went back in time): the numbers
        in between are lost, and never given again."""
        if send_next < self.send_next:
            raise ValueError(f"numbering goes forward only: {send_next} is below {self.send_next}")
        self.send_next = send_next

    # -- in flight ---------------------------------------------------------------------------

    def in_flight(self, lane: Lane | None = None) -> list[T]:
        """Unanswered envelopes (of one lane), in sequence order: the order to send them again."""
        items = sorted(self._in_flight.values(), key=lambda i: i.seq)
        return items if lane is None else [i for i in items if lane_of(i.rank) is lane]

    def count_in_flight(self, lane: Lane | None = None) -> int:
        if lane is None:
            return len(self._in_flight)
        return sum(1 for item in self._in_flight.values() if lane_of(item.rank) is lane)

    def get(self, seq: int) -> T | None:
        return self._in_flight.get(seq)

    def find(self, envelope_id: bytes) -> T | None:
        return next((item for item in self._in_flight.values() if item.envelope_id == envelope_id), None)

    # -- answers from the peer ---------------------------------------------------------------

    def settle(self, entries: Iterable[tuple[int, bytes]]) -> tuple[list[T], list[int]]:
        """Take the envelopes a receipt names (sequence number, envelope id) out of flight.

        Returns those now delivered, and the sequence numbers the receipt names with an id that
        is not the one we sent (the peer's store and ours disagree: evidence for people to look
        at; the envelope stays in flight). Entries for envelopes already delivered are ignored:
        a second receipt after a resend is harmless."""
        delivered, conflicting = [], []
        for seq, envelope_id in entries:
            item = self._in_flight.get(seq)
            if item is None:
                continue
            if item.envelope_id != envelope_id:
                conflicting.append(seq)
                continue
            del self._in_flight[seq]
            delivered.append(item)
        return delivered, conflicting

    def give_up(self, item: T) -> None:
        """The peer rejected the envelope and used its number up: no longer in flight."""
        del self._in_flight[item.seq]

    # -- links -------------------------------------------------------------------------------

    def peer_ahead(self, peer_expects: int) -> tuple[int, int] | None:
        """(what the peer expects next, what we would sign next) if the peer holds numbers we
        never signed as far as our store knows: our store went back in time. None otherwise."""
        return (peer_expects, self.send_next) if peer_expects > self.send_next else None

    def wants_refill(self) -> bool:
        """Whether the ordinary lane's dispatcher is worth waking after an answer: the window is
        refilled in batches, not one envelope per receipt."""
        return self.count_in_flight(Lane.ORDINARY) <= self.window // 2

    def ordinary_holds_back(self, urgent_busy: bool) -> bool:
        """Whether the ordinary lane signs nothing now: while a FLASH or IMMEDIATE may be waiting
        to be signed (``urgent_busy``), or is on its way, nothing less urgent is signed or put in
        front of the peer's processor."""
        return urgent_busy or self.count_in_flight(Lane.URGENT) > 0


def resend_plan(
    in_flight: Iterable[T],
    urgent: Sequence[L],
    ordinary: L | None,
    on_wire: Mapping[int, Collection[L]],
    live: Callable[[L], bool],
) -> dict[L, list[T]]:
    """What goes again, and on which link, after the links changed: every urgent envelope in
    flight to every link of ``urgent`` that has not carried it; every ordinary one that no live
    link carries to ``ordinary``, in sequence order. ``on_wire``: sequence number -> the links
    it was written on; ``live``: whether what a link carried may still arrive (open, heard, not
    replaced). What a link already carries is never written to it again: a link heard again
    after a stall still holds its bytes."""
    plan: dict[L, list[T]] = {}
    for item in in_flight:
        carried = on_wire.get(item.seq, ())
        if lane_of(item.rank) is Lane.URGENT:
            for link in urgent:
                if link not in carried:
                    plan.setdefault(link, []).append(item)
        elif ordinary is not None and not any(live(link) for link in carried):
            plan.setdefault(ordinary, []).append(item)
    return plan


def check_window(window: int, allowance: int = URGENT_ALLOWANCE) -> None:
    """A window the receiver's reach cannot take is refused (``ValueError``) before anything runs."""
    if window < 1:
        raise ValueError(f"window {window} is too small: at least 1")
    if window + allowance >= REACH:
        raise ValueError(f"window {window} is too large: at most {REACH - allowance - 1}")


def keeps_new_link(local: str, peer: str, current_dialed_by: str | None, new_dialed_by: str) -> bool:
    """When two links of one lane meet, both ends must keep the same one: the link dialed by the
    party whose name sorts first. Without a current link, the new one is kept; and a new link
    from the same dialer replaces the old (the dialer only redials once it has given the old one
    up, so the old one is half-open at our end)."""
    if current_dialed_by is None or current_dialed_by == new_dialed_by:
        return True
    return new_dialed_by == min(local, peer)


def receipt_due(batch_size: int, rank: int) -> bool:
    """Whether the envelopes read so far are stored and receipted now, without waiting for the
    rest of the read: a FLASH or IMMEDIATE at once, any batch once a receipt is full."""
    return batch_size >= MAX_RECEIPT_ENTRIES or rank <= URGENT_RANK
