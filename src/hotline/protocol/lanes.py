"""The two lanes of a channel: urgent traffic never waits behind ordinary traffic on the wire.

Between two nodes there are two TLS connections, each carrying one lane: FLASH and IMMEDIATE
envelopes (and their receipts) on the urgent lane, PRIORITY and ROUTINE on the ordinary one.
A FLASH signed while hundreds of ROUTINE envelopes are still on their way then travels, and is
read, beside them instead of behind them: one TCP stream delivers bytes in order, and no
receiver can act on an envelope whose bytes sit behind others it has not read yet.

Both lanes share the channel's one sequence (``sequence.py`` explains why the receiver accepts
numbers out of order across lanes). Which lane a connection carries is agreed in the TLS
handshake by ALPN, so both ends know it before the first frame; a lane whose connection is
down lends its traffic to the other one.
"""

from __future__ import annotations

import enum

from hotline.envelope import Precedence


class Lane(enum.StrEnum):
    URGENT = "urgent"
    ORDINARY = "ordinary"

    @property
    def alpn(self) -> str:
        """The ALPN protocol id that asks for this lane in the TLS handshake."""
        return f"hotline-{self.value}/2"

    @property
    def other(self) -> Lane:
        return Lane.ORDINARY if self is Lane.URGENT else Lane.URGENT

    @property
    def ranks(self) -> tuple[int, int]:
        """The precedence ranks (0 = FLASH) this lane carries, first and last."""
        return (0, URGENT_RANK) if self is Lane.URGENT else (URGENT_RANK + 1, len(Precedence) - 1)

    @classmethod
    def from_alpn(cls, protocol: str | None) -> Lane | None:
        return next((lane for lane in cls if lane.alpn == protocol), None)


URGENT_RANK = Precedence.IMMEDIATE.rank  # FLASH and IMMEDIATE travel urgent


def lane_of(rank: int) -> Lane:
    """The lane for a precedence rank (0 = FLASH)."""
    return Lane.URGENT if rank <= URGENT_RANK else Lane.ORDINARY
