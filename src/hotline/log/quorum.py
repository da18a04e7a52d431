"""Who witnesses a party's log in a network of many parties (issue 19).

Every party cosigning every other party's log is n x (n - 1) witnessing streams: 3,192 in a
network of 57, each busy whenever its log grows. Instead each log is offered to a quorum: ``k``
of the log's peers, and every neutral witness (a party that only witnesses, ``:witness`` on its
card). The ``k`` are chosen by rendezvous hashing: each peer ranked by SHA-256 of the log's
origin and the peer's name, the ``k`` first taken. So

- anyone who holds the network's card list computes the same quorum for any log, and can say
  which cosignatures a checkpoint of it should carry;
- the quorums spread evenly: every party witnesses about ``k`` logs, not 56;
- a party joining or leaving moves only the logs whose quorum it enters or leaves;
- nobody chooses their own witnesses: the origin is fixed by the party's first key, before
  anyone knew who would be in the network.

What a checkpoint cosigned by its quorum proves, and what it does not, is in
docs/architecture.md (*Witnessing in a network of many*).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable


def rank(origin: str, peer: str) -> bytes:
    """A peer's place in the order for the log ``origin``: lower goes first."""
    return hashlib.sha256(f"{origin}\n{peer}".encode()).digest()


def quorum(origin: str, peers: Iterable[str], neutral: Iterable[str], k: int) -> frozenset[str]:
    """The parties offered the log ``origin``'s checkpoints: the ``k`` of ``peers`` that rank
    first, and every one of ``neutral``."""
    chosen = sorted(set(peers), key=lambda peer: rank(origin, peer))[: max(k, 0)]
    return frozenset(chosen) | frozenset(neutral)
