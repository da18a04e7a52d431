"""Putting a log back in order from its peers' copies, after a restore from an older backup.

A node restored from a backup holds its transcript up to the backup's size. Every entry it
appended after that was a signed object exchanged with one peer or another -- its envelopes,
their receipts and rejections, their envelopes with its receipt or rejection -- and each peer
keeps what it exchanged. Witnesses keep more: the leaf hash of every position they cosigned.

So the log is rebuilt in two parts (``plan``):

- **Up to the last cosigned size**, position by position: the witnesses' leaf hashes say which
  object each position held, and the peers' objects are found by their hash. The result is the
  very tree the witnesses cosigned (the caller checks the root), so nothing anyone holds is
  contradicted.
- **Beyond it**, nobody cosigned anything, but our receipts did name positions: each peer holds
  receipts of ours that say where its envelopes sit in our log. Those groups go back exactly
  where the receipts put them; the rest (our envelopes, the peers' receipts and rejections, the
  envelopes we refused) fill the gaps in the order of their own times. If they cannot fill the
  gaps exactly (something is lost everywhere, or arrived in a different order than its times
  say), the rest is appended in time order and the plan says that positions named in earlier
  receipts were not kept: a witness holding such a receipt will object, and should.

The plan is pure: the caller fetches, verifies and parses the objects, replays the steps
through the store's own operations, and says plainly what could not be recovered.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from hotline.log.merkle import leaf_hash


class PieceKind(enum.StrEnum):
    ENVELOPE = "envelope"
    RECEIPT = "receipt"
    REJECTION = "rejection"


@dataclass(frozen=True)
class Piece:
    """One signed object a peer gave back, opened and verified by the caller.

    ``names`` is what the object refers to: for a receipt, (seq, envelope id, our log index) of
    each envelope it names; for a rejection, the one envelope id (index -1, unknown)."""

    raw: bytes
    kind: PieceKind
    sender: str
    recipient: str
    time_ms: int  # an envelope's signing time, a receipt's storing time, a rejection's time
    object_id: bytes  # the object's own id (an envelope's id names it in receipts)
    names: tuple[tuple[int, bytes, int], ...] = ()
    # What must sit before it in any log: what a receipt or rejection answers, the message an
    # envelope replies to (an acknowledgement settles nothing that is not yet stored).
    after: tuple[bytes, ...] = ()

    @property
    def leaf(self) -> bytes:
        return leaf_hash(self.raw)


class StepKind(enum.StrEnum):
    SENT = "sent"  # our envelope
    RECEIPTED = "receipted"  # a peer's receipt of ours
    REJECTED = "rejected"  # a peer's rejection of ours
    STORED = "stored"  # a peer's envelopes, then our receipt naming them
    REFUSED = "refused"  # a peer's envelope and our rejection (or our rejection alone)


@dataclass(frozen=True)
class Step:
    """What one store operation appended, at ``index``: ``pieces`` in log order."""

    kind: StepKind
    index: int
    pieces: tuple[Piece, ...]
    # A receipt of ours whose named positions could not be kept: the caller signs a new one.
    receipt_moved: bool = False

    @property
    def size(self) -> int:
        return len(self.pieces)


@dataclass
class Plan:
    start: int  # the backup's log size: the first position rebuilt
    steps: list[Step] = field(default_factory=list)
    exact_to: int = 0  # positions below this hold exactly what the witnesses cosigned
    positions_kept: bool = True  # every position a receipt of ours named holds what it named
    problems: list[str] = field(default_factory=list)  # what could not be recovered, said plainly
    unplaced: list[Piece] = field(default_factory=list)  # peers' envelopes we cannot show we held

    @property
    def end(self) -> int:
        return self.steps[-1].index + self.steps[-1].size if self.steps else self.start


def plan(party: str, start: int, cosigned: Mapping[int, bytes], pieces: Iterable[Piece]) -> Plan:
    """The steps that rebuild our log (``party``'s) from ``start``: ``cosigned`` maps positions
    to the leaf hashes witnesses cosigned (contiguous from ``start``), ``pieces`` are the objects
    the peers gave back that our store lacks."""
    result = Plan(start)
    left = {p.leaf: p for p in pieces}
    position = start
    ordered: list[Piece] = []
    while position in cosigned:
        piece = left.get(cosigned[position])
        if piece is None:
            result.problems.append(
                f"position {position} of our log (leaf {cosigned[position].hex()[:16]})"
                " is held by no peer that answered"
            )
            break
        ordered.append(piece)
        position += 1
    exact, stopped = _group(party, start, ordered)
    result.steps.extend(exact)
    if stopped is not None:
        result.problems.append(stopped)
    result.exact_to = result.end
    for step in exact:
        for piece in step.pieces:
            left.pop(piece.leaf, None)
    if result.exact_to < start + len(ordered) or position in cosigned:
        # The cosigned part could not be rebuilt whole: nothing after it can sit where it sat.
        result.positions_kept = False
    _fill_tail(party, result, list(left.values()))
    return result


def _group(party: str, first: int, ordered: list[Piece]) -> tuple[list[Step], str | None]:
    """Split entries known to be in log order into the store operations that appended them."""
    steps: list[Step] = []
    i = 0
    while i < len(ordered):
        piece, index = ordered[i], first + i
        ours = piece.sender == party
        if piece.kind is PieceKind.ENVELOPE and ours:
            steps.append(Step(StepKind.SENT, index, (piece,)))
        elif piece.kind is PieceKind.RECEIPT and not ours:
            steps.append(Step(StepKind.RECEIPTED, index, (piece,)))
        elif piece.kind is PieceKind.REJECTION and not ours:
            steps.append(Step(StepKind.REJECTED, index, (piece,)))
        elif piece.kind is PieceKind.REJECTION:  # ours, the envelope not kept
            steps.append(Step(StepKind.REFUSED, index, (piece,)))
        elif piece.kind is PieceKind.ENVELOPE:
            run = i
            while (
                run < len(ordered) and ordered[run].kind is PieceKind.ENVELOPE and ordered[run].sender == piece.sender
            ):
                run += 1
            closing = ordered[run] if run < len(ordered) else None
            group = tuple(ordered[i:run])
            if closing is not None and closing.sender == party and _names(closing, group, index):
                kind = StepKind.STORED if closing.kind is PieceKind.RECEIPT else StepKind.REFUSED
                steps.append(Step(kind, index, (*group, closing)))
                i = run + 1
                continue
            return steps, f"position {index} of our log holds {piece.sender}'s envelope with no answer of ours after it"
        else:  # a receipt of ours with no envelopes before it
            return steps, f"position {index} of our log holds a receipt of ours that follows no envelope"
        i += 1
    return steps, None


def _same_run(piece: Piece, first: Piece) -> bool:
    return piece.kind is PieceKind.ENVELOPE and piece.sender == first.sender


def _names(answer: Piece, group: tuple[Piece, ...], first: int) -> bool:
    """Does our receipt (or rejection) answer exactly ``group``, sitting at ``first`` onward?"""
    if answer.kind is PieceKind.REJECTION:
        return len(group) == 1 and answer.names[0][1] == group[0].object_id
    expected = tuple((p.object_id, first + n) for n, p in enumerate(group))
    return tuple((env_id, index) for _, env_id, index in answer.names) == expected


@dataclass(frozen=True)
class _Group:
    pieces: tuple[Piece, ...]
    kind: StepKind
    at: int | None  # where our receipt said its first envelope sits (a pin), or None
    time_ms: int
    rank: int  # among equal times: envelopes before the answers that follow them


def _fill_tail(party: str, result: Plan, left: list[Piece]) -> None:
    """Pinned groups where our receipts put them; the others in the gaps, each after what it
    answers or acknowledges (times come from two clocks, and only break ties), the earliest
    that fits the gap first."""
    groups = _tail_groups(party, result, left)
    floor = result.end
    pinned = sorted((g for g in groups if g.at is not None and g.at >= floor), key=lambda g: g.at or 0)
    floating = sorted((g for g in groups if g.at is None or g.at < floor), key=_by_time)
    present = {p.object_id for g in groups for p in g.pieces}
    placed: set[bytes] = set()

    def ready(group: _Group) -> bool:
        own = {p.object_id for p in group.pieces}
        return all(d not in present or d in placed or d in own for p in group.pieces for d in p.after)

    def place(group: _Group, position: int) -> int:
        result.steps.append(Step(group.kind, position, group.pieces, receipt_moved=_moved(group, position)))
        placed.update(p.object_id for p in group.pieces)
        return position + len(group.pieces)

    position = floor
    while result.positions_kept and (pinned or floating):
        if pinned and pinned[0].at == position:
            position = place(pinned.pop(0), position)
            continue
        found = _next_in_gap(floating, ready, (pinned[0].at or 0) - position if pinned else None)
        if found is None:
            break
        floating.remove(found)
        position = place(found, position)
    if pinned:
        result.positions_kept = False
        result.problems.append(
            f"{len(pinned)} receipt(s) of ours named positions past the last cosigned size that cannot be kept"
            " (what sat before them is lost): new receipts are signed, and a witness holding the old ones"
            " will object"
        )
    rest = sorted([*pinned, *floating], key=_by_time)
    while rest:
        group = next((g for g in rest if ready(g)), rest[0])
        rest.remove(group)
        position = place(group, position)


def _next_in_gap(floating: list[_Group], ready: Callable[[_Group], bool], room: int | None) -> _Group | None:
    """The earliest group that can go next: ready, and (before a pin) leaving a room that the
    others can still fill exactly, so that a one-entry answer that arrived after the pin does
    not take the place of the two entries that sat before it."""
    for group in floating:
        if not ready(group):
            continue
        if room is None:
            return group
        size = len(group.pieces)
        if size <= room and _fills([len(g.pieces) for g in floating if g is not group], room - size):
            return group
    return None


def _fills(sizes: list[int], room: int) -> bool:
    """Do some of ``sizes`` add up to exactly ``room``? (Subset sum, as a bit set of the sums.)"""
    reach = 1
    for size in sizes:
        reach |= reach << size
    return bool(reach >> room & 1)


def _by_time(group: _Group) -> tuple[int, int, bytes]:
    return (group.time_ms, group.rank, group.pieces[0].raw)


def _moved(group: _Group, position: int) -> bool:
    """A receipt of ours that will not sit where it said its envelopes sit."""
    return group.kind is StepKind.STORED and group.at != position


def _tail_groups(party: str, result: Plan, left: list[Piece]) -> list[_Group]:
    envelopes = {p.object_id: p for p in left if p.kind is PieceKind.ENVELOPE and p.sender != party}
    answered: set[bytes] = set()
    groups: list[_Group] = []
    for piece in left:
        ours = piece.sender == party
        if piece.kind is PieceKind.RECEIPT and ours:
            named = [envelopes.get(env_id) for _, env_id, _ in piece.names]
            if any(p is None for p in named):
                result.problems.append(f"a receipt of ours to {piece.recipient} names envelopes it did not give back")
                continue
            group = tuple(p for p in named if p is not None)
            answered.update(p.object_id for p in group)
            at = piece.names[0][2]
            contiguous = [index for _, _, index in piece.names] == list(range(at, at + len(group)))
            groups.append(_Group((*group, piece), StepKind.STORED, at if contiguous else None, piece.time_ms, 1))
        elif piece.kind is PieceKind.REJECTION and ours:
            refused = envelopes.get(piece.names[0][1]) if piece.names else None
            group = (refused, piece) if refused is not None else (piece,)
            if refused is not None:
                answered.add(refused.object_id)
            groups.append(_Group(group, StepKind.REFUSED, None, piece.time_ms, 1))
        elif piece.kind is PieceKind.ENVELOPE and ours:
            groups.append(_Group((piece,), StepKind.SENT, None, piece.time_ms, 0))
        elif piece.kind is PieceKind.RECEIPT:
            groups.append(_Group((piece,), StepKind.RECEIPTED, None, piece.time_ms, 2))
        elif piece.kind is PieceKind.REJECTION:
            groups.append(_Group((piece,), StepKind.REJECTED, None, piece.time_ms, 2))
    # A peer's envelope with no answer of ours: as far as anyone can show, we never stored it.
    # The peer holds it unreceipted and sends it again once we are back.
    result.unplaced = [p for p in envelopes.values() if p.object_id not in answered]
    return groups
