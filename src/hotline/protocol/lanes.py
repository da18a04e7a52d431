"""The two lanes of a channel: urgent traffic never waits behind ordinary traffic on the wire.

Between two nodes there are two TLS connections, each carrying one lane: FLASH and IMMEDIATE
envelopes (and their receipts) on the urgent lane, PRIORITY and ROUTINE on the ordinary one.
A FLASH signed while hundreds of ROUTINE envelopes are still on their way then travels, and is
read, beside them instead of behind them: one TCP stream delivers bytes in order, and no
receiver can act on an envelope whose bytes sit behind others it has not read yet.

Both lanes share the channel's one sequence (``sequence.py`` explains why the receiver accepts
numbers out of order across lanes). Which lane a connection carries is agreed in the TLS
handshake by ALPN, so both ends know it before the first frame; a lane whose connection is
down lends its traffic to the other one. The ALPN also names the path (``paths.py``) when it is
not the first: ``hotline-urgent/2`` is the urgent lane of path 0, ``hotline-urgent/2+1`` that of
path 1, so a node of before paths still speaks to path 0.
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

    def path_alpn(self, path: int) -> str:
        """The ALPN protocol id that asks for this lane on path ``path``."""
        return self.alpn if path == 0 else f"{self.alpn}+{path}"

    @classmethod
    def from_alpn(cls, protocol: str | None) -> tuple[Lane, int] | None:
        """The lane and path an ALPN protocol id asks for, or None if it names none."""
        name, _, path = (protocol or "").partition("+")
        lane = next((lane for lane in cls if lane.alpn == name), None)
        if lane is None or (path and not (path.isdigit() and path == str(int(path)) and int(path) > 0)):
            return None
        return lane, int(path or 0)


URGENT_RANK = Precedence.IMMEDIATE.rank  # FLASH and IMMEDIATE travel urgent


def lane_of(rank: int) -> Lane:
    """The lane for a precedence rank (0 = FLASH)."""
    return Lane.URGENT if rank <= URGENT_RANK else Lane.ORDINARY
