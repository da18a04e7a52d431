"""What each peer asks of the watch, and the order a board lists peers in (issue 19).

With two parties the board has one row and the eye finds it. With dozens, the rows a watch must
act on have to come first: a peer that is down, one whose alarms call for someone, one that owes
acknowledgements or is owed them, and only then the quiet ones, by name. Pure: the node hands in
what it knows (standing alarms, open acknowledgements, the link's state) and the board gets an
order and, per peer, the few facts that explain its place.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from hotline.watch.alarms import LOUDEST, Alarm
from hotline.watch.escalation import Alert, Level


@dataclass(frozen=True)
class OpenAcks:
    """Acknowledgements outstanding with one peer, as the watch tracks them."""

    they_owe: int = 0  # our messages awaiting a person's acknowledgement at the peer
    we_owe: int = 0  # the peer's messages awaiting ours
    overdue: int = 0  # of both, past their deadline


@dataclass(frozen=True)
class Attention:
    """What one peer asks of the watch now."""

    peer: str
    down: bool  # no path up, and not held on purpose
    alarms: int  # alarms standing about this peer
    calls_for: Level | None  # the highest level its alarms and escalations call for
    loudest: bool  # one of them is of the loudest kinds (the hotline itself is down, its record in doubt)
    acks: OpenAcks
    undelivered: int  # queued or in flight to the peer

    @property
    def quiet(self) -> bool:
        """Nothing to act on: linked, no alarm, no acknowledgement outstanding, nothing waiting."""
        acks = self.acks
        return not (self.down or self.alarms or acks.they_owe or acks.we_owe or self.undelivered)

    def order(self) -> tuple[bool, bool, int, int, int, int, str]:
        """Sort key, most in need of attention first: the loudest alarms; a peer with no path
        up (its alarm may not be raised yet, within the grace); the level the alarms call for;
        acknowledgements overdue, then outstanding; messages waiting to go; the name."""
        acks = self.acks
        return (
            not self.loudest,
            not self.down,
            -(self.calls_for or 0),
            -acks.overdue,
            -(acks.they_owe + acks.we_owe),
            -self.undelivered,
            self.peer,
        )

    def view(self) -> dict[str, Any]:
        """As ``/v1/status`` shows it beside the peer."""
        return {
            "quiet": self.quiet,
            "down": self.down,
            "alarms": self.alarms,
            "calls_for": None if self.calls_for is None else self.calls_for.label,
            "they_owe": self.acks.they_owe,
            "we_owe": self.acks.we_owe,
            "overdue": self.acks.overdue,
        }


def attention(
    peer: str,
    down: bool,
    alarms: Iterable[Alarm],
    acks: tuple[int, int, int],
    undelivered: int,
    escalated: Level | None = None,
) -> Attention:
    """One peer's attention from the node's standing ``alarms`` (those about other peers, or
    about none, are passed over), its open acknowledgements (``Watch.open_acks``) and the
    level its acknowledgements' escalations have reached (``escalated``)."""
    own = [alarm for alarm in alarms if alarm.peer == peer]
    levels = [alarm.level for alarm in own] + ([escalated] if escalated is not None else [])
    return Attention(
        peer=peer,
        down=down,
        alarms=len(own),
        calls_for=max(levels, default=None),
        loudest=any(alarm.kind in LOUDEST for alarm in own),
        acks=OpenAcks(*acks),
        undelivered=undelivered,
    )


def escalation_levels(alerts: Iterable[Alert]) -> dict[str, Level]:
    """Per peer, the highest level its acknowledgements' escalations have reached."""
    levels: dict[str, Level] = {}
    for alert in alerts:
        levels[alert.peer] = max(alert.level, levels.get(alert.peer, alert.level))
    return levels
