"""Traffic with a peer held on purpose: ``hotline peer suspend|resume|remove``.

A peer's state is "active", "suspended" (held both ways: nothing is dialed, a link the peer
opens is told why and closed, queued messages wait) or "removed" (the same, for good: what was
exchanged stays, and its evidence still verifies against the keys kept). The peer is told in
the ``error`` frame it reads instead of our hello (code "suspended" or "removed"), and shows it
on its board (``Hold.SUSPENDED_BY_PEER``, ``REMOVED_BY_PEER``) instead of "peer unreachable".
"""

from __future__ import annotations

from typing import Any

from hotline.storage import PeerRecord
from hotline.watch.alarms import Hold

ACTIVE, SUSPENDED, REMOVED = "active", "suspended", "removed"
VERBS = {SUSPENDED: "suspend", ACTIVE: "resume", REMOVED: "remove"}  # the state: the command that sets it
# What a peer's error frame code means for us: it holds the traffic with us.
BY_PEER = {SUSPENDED: Hold.SUSPENDED_BY_PEER, REMOVED: Hold.REMOVED_BY_PEER}


def refusal(party: str, current: str, wanted: str) -> str | None:
    """Why a peer in state ``current`` cannot be put in state ``wanted``; None if it can."""
    if current == REMOVED:
        return f"{party} was removed: nothing more is exchanged with it (pair again with hotline peer add)"
    if current == wanted:
        return f"{party} is already {'active' if wanted == ACTIVE else wanted}"
    return None


def our_hold(peer: PeerRecord) -> tuple[Hold | None, dict[str, Any]]:
    """How we hold the traffic with ``peer`` (None: we do not), and what the board says of it."""
    facts = {"by_name": peer.state_by or "?", **({"remark": peer.state_remark} if peer.state_remark else {})}
    if peer.state == SUSPENDED:
        return Hold.SUSPENDED_BY_US, facts
    if peer.state == REMOVED:
        return Hold.REMOVED_BY_US, facts
    return None, {}
