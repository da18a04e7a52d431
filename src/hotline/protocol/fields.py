"""The fields of the frames that are not envelopes (hello numbers, witnessing, a standby's
answer), each checked before anything acts on it: a peer's frame is not signed, and a value out
of range taken on trust would overflow a counter or send a dialer somewhere it should not go."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from hotline.errors import RemoteProtocolError
from hotline.log.merkle import HASH_SIZE
from hotline.log.witness import Offer
from hotline.protocol import events as ev
from hotline.protocol.frames import FrameType
from hotline.protocol.paths import MAX_PATHS

MAX_HELLO_NUMBER = 2**53  # resume points, serials and clocks in a hello or pong, at most
MAX_LOG_SIZE = 2**63 - 1  # SQLite's integers: no log of ours is larger, so no peer's claim may be
MAX_NOTE = 4096  # a checkpoint note with its signatures is a few hundred bytes
MAX_NODES = 16  # nodes of one party (an active one and its standbys), at most
MAX_ADDRESS = 300  # a host name and port


def standing_by(frame: dict[str, Any]) -> ev.PeerStandingBy:
    """A standby's answer: checked as strictly as a hello, since the dialer acts on it."""
    active = optional_int(frame, "active")
    addresses = frame.get("addresses", [])
    if (
        not isinstance(addresses, list)
        or len(addresses) > MAX_PATHS
        or not all(isinstance(a, str) and len(a) <= MAX_ADDRESS for a in addresses)
    ):
        raise RemoteProtocolError("malformed-frame", f"a standby frame lists at most {MAX_PATHS} addresses as text")
    epoch = optional_int(frame, "epoch") or 0
    if epoch > MAX_HELLO_NUMBER or (active is not None and not 0 < active <= MAX_NODES):
        raise RemoteProtocolError("malformed-frame", "a standby frame's epoch or active node is out of range")
    return ev.PeerStandingBy(active, tuple(addresses), epoch)


def checkpoint_offered(frame: dict[str, Any]) -> ev.CheckpointOffered:
    note, leaves, ours = frame.get("note"), frame.get("leaves"), frame.get("ours")
    if not isinstance(note, str) or not isinstance(leaves, bytes) or len(leaves) % HASH_SIZE:
        raise RemoteProtocolError("malformed-frame", "a cp frame carries 'note' text and 'leaves', 32 bytes each")
    if not isinstance(ours, list) or not all(
        isinstance(item, list) and len(item) == 2 and type(item[0]) is int and item[0] >= 0 and is_hash(item[1])
        for item in ours
    ):
        raise RemoteProtocolError("malformed-frame", "a cp frame's 'ours' is a list of [entry, 32-byte envelope id]")
    indexes = [index for index, _ in ours]
    if any(b <= a for a, b in itertools.pairwise(indexes)) or any(i > MAX_LOG_SIZE for i in indexes):
        raise RemoteProtocolError("malformed-frame", "a cp frame's 'ours' names each entry once, in order")
    offer = Offer(
        note,
        log_size(frame, "old"),
        hashes(frame, "proof"),
        hashes(frame, "frontier"),
        tuple(leaves[i : i + HASH_SIZE] for i in range(0, len(leaves), HASH_SIZE)),
        tuple((index, envelope_id) for index, envelope_id in ours),
    )
    return ev.CheckpointOffered(offer)


def log_size(frame: dict[str, Any], name: str) -> int:
    """A log size or index: what SQLite can hold (a larger one would fail in the store)."""
    value = int_field(frame, name)
    if value > MAX_LOG_SIZE:
        raise RemoteProtocolError("malformed-frame", f"{name!r} {value} is beyond any log ({MAX_LOG_SIZE})")
    return value


def hashes(frame: dict[str, Any], name: str) -> tuple[bytes, ...]:
    value = frame.get(name)
    if not isinstance(value, list) or not all(map(is_hash, value)):
        raise RemoteProtocolError("malformed-frame", f"a {frame.get('t')} frame's {name!r} is a list of 32-byte hashes")
    return tuple(value)


def cosignature(frame: dict[str, Any]) -> ev.CosignatureReceived:
    line = frame.get("line")
    if not isinstance(line, str) or len(line) > 1000:
        raise RemoteProtocolError("malformed-frame", "a cosig frame carries a signature 'line' of text")
    return ev.CosignatureReceived(log_size(frame, "size"), line)


def refused(frame: dict[str, Any]) -> ev.CheckpointRefused:
    reason, detail, equivocation, held = (frame.get(k) for k in ("reason", "detail", "equivocation", "held"))
    if not isinstance(reason, str) or not isinstance(detail, str) or not isinstance(equivocation, bool):
        raise RemoteProtocolError("malformed-frame", "a cpno frame carries 'reason', 'detail' and 'equivocation'")
    if isinstance(held, bool) or not isinstance(held, int) or not -1 <= held <= MAX_LOG_SIZE:
        raise RemoteProtocolError("malformed-frame", "a cpno frame carries 'held': a size, or -1")
    note = frame.get("held_note")
    if note is not None and (not isinstance(note, str) or len(note) > MAX_NOTE):
        raise RemoteProtocolError(
            "malformed-frame", f"a cpno frame's 'held_note' is a signed note of text, {MAX_NOTE} at most"
        )
    return ev.CheckpointRefused(
        log_size(frame, "size"), reason[:64], detail[:500], equivocation, None if held == -1 else held, note
    )


def is_hash(value: object) -> bool:
    return isinstance(value, bytes) and len(value) == HASH_SIZE


WITNESSING: dict[FrameType, Callable[[dict[str, Any]], ev.Event]] = {
    FrameType.CHECKPOINT: checkpoint_offered,
    FrameType.COSIGNATURE: cosignature,
    FrameType.CHECKPOINT_REFUSED: refused,
}


def optional_int(frame: dict[str, Any], name: str) -> int | None:
    """A field an older peer may leave out; if present, a non-negative integer like any other."""
    return None if frame.get(name) is None else int_field(frame, name)


def int_field(frame: dict[str, Any], name: str) -> int:
    value = frame.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise RemoteProtocolError("malformed-frame", f"{frame.get('t')} needs a non-negative integer {name!r}")
    return value
