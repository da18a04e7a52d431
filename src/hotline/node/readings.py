"""What a scrape of ``/metrics`` reports, read from the node at one moment (``Desk.readings``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from hotline.watch import Alert
from hotline.watch.alarms import Alarm


@dataclass(frozen=True)
class PeerSnapshot:
    party: str
    lanes: dict[str, bool]
    rtt_s: float | None
    last_contact_ms: int | None
    queued: int
    in_flight: int
    skew_ms: int | None
    signing_stopped: bool
    undelivered_urgent: int
    oldest_undelivered_ms: int | None
    connected: bool = False  # some path is up: traffic can flow
    paths: dict[int, tuple[bool, float | None]] = field(default_factory=dict)  # path (from 1): (up, round trip)


@dataclass(frozen=True)
class PortReading:
    """The peer port and the file handles, as ``/metrics`` and ``/v1/status`` report them."""

    handshakes: int  # under way now, each holding a slot
    handshakes_limit: int  # [bounds] peer_handshakes
    refused: dict[str, int]  # since the node started, by cause (``protocol.admission.Refusal``)
    handles_open: int | None  # file handles the process holds now (None: not known here)
    handles_limit: int | None  # its soft limit, as raised at start
    handles_needed: int | None  # what the bounds need

    @property
    def handles_short(self) -> bool:
        """The limit is below what the bounds need (the hard limit did not allow more)."""
        limit, need = self.handles_limit, self.handles_needed
        return limit is not None and need is not None and limit < need


@dataclass(frozen=True)
class Snapshot:
    party: str
    now_ms: int
    stopping: bool
    peers: list[PeerSnapshot]
    alarms: list[Alarm]
    alerts: list[Alert]
    transcript_size: int | None = None
    checkpoint_ms: int | None = None
    cosigned_by: list[str] = field(default_factory=list)
    hook: dict[str, int] = field(default_factory=dict)
    traffic: dict[tuple[str, str], int] = field(default_factory=dict)  # (peer, outcome): count
    oldest_unacknowledged_ms: dict[str, int] = field(default_factory=dict)  # side: since when
    node: int = 0  # this node's number among its party's nodes (0: the party's only node)
    epoch: int = 0  # the lease epoch it is active under (0: no lease, a store of its own)
    port: PortReading | None = None  # None until the node listens
