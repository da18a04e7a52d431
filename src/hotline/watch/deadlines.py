"""When a person must have acknowledged a message: DESIGN.md's table, configurable per peer.

Both parties compute the same deadlines from the same agreement; the deadline is not carried
in the envelope, so neither side can shorten the other's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from hotline.envelope.model import Precedence

# Allied handling objectives, in seconds (DESIGN.md "Precedence and deadlines").
DEFAULT_DEADLINES: Mapping[Precedence, int] = MappingProxyType(
    {
        Precedence.FLASH: 10 * 60,
        Precedence.IMMEDIATE: 30 * 60,
        Precedence.PRIORITY: 3 * 3600,
        Precedence.ROUTINE: 6 * 3600,
    }
)

# Kinds a machine answers, or that answer something themselves: no person is chased for them.
MACHINE_KINDS = frozenset({"ack", "link_test", "key_rotation", "key_rotation_done"})  # no person acknowledges
# A readiness check proves the watch is staffed: it is due within the FLASH deadline whatever
# precedence it was sent with.
READINESS_KIND = "readiness_check"


def needs_acknowledgement(kind: str) -> bool:
    return kind not in MACHINE_KINDS


@dataclass(frozen=True)
class DeadlinePolicy:
    seconds: Mapping[Precedence, int] = field(default_factory=lambda: DEFAULT_DEADLINES)

    def __post_init__(self) -> None:
        missing = set(Precedence) - set(self.seconds)
        if missing:
            raise ValueError(f"no deadline for {', '.join(sorted(missing))}")
        bad = [p for p, s in self.seconds.items() if not 0 < s <= 7 * 86400]
        if bad:
            raise ValueError(f"the {bad[0]} deadline must be between 1 second and 7 days")

    def effective_precedence(self, precedence: Precedence, kind: str) -> Precedence:
        """The precedence whose deadline and escalation steps apply."""
        return Precedence.FLASH if kind == READINESS_KIND else precedence

    def due_ms(self, start_ms: int, precedence: Precedence, kind: str) -> int | None:
        """When the acknowledgement is due, or None for kinds no person acknowledges."""
        if not needs_acknowledgement(kind):
            return None
        return start_ms + self.seconds[self.effective_precedence(precedence, kind)] * 1000

    def with_overrides(self, overrides: Mapping[str, int]) -> DeadlinePolicy:
        """This policy with some precedences changed (a peer's agreed deadlines)."""
        unknown = set(overrides) - set(Precedence.__members__)
        if unknown:
            raise ValueError(f"unknown precedence {min(unknown)!r} in deadlines")
        return DeadlinePolicy({**self.seconds, **{Precedence(k): v for k, v in overrides.items()}})
