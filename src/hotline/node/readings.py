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
