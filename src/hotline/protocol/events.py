"""What the session core reports to the node: frozen dataclasses, nothing else."""

from __future__ import annotations

from dataclasses import dataclass

from hotline.envelope import Envelope, Opened, Receipt, Rejection
from hotline.log.witness import Offer


@dataclass(frozen=True)
class SessionOpened:
    """The peer's hello arrived and matched; each side has told where it resumes."""

    peer_recv_next: int  # the next sequence number the peer expects from us
    peer_send_next: int  # the next sequence number the peer will send us
    skew_ms: int | None = None  # the peer's clock minus ours, if both sides gave a clock
    peer_held_number: int | None = None  # the highest message number of ours the peer holds
    peer_epoch: int = 0  # the lease epoch the peer's node is active under (0: a party of one node)
    peer_ack_version: int = 1  # the newest version of the acknowledgement form the peer reads


@dataclass(frozen=True)
class EnvelopeReceived:
    """An authentic, valid envelope with the next sequence number: store it, then receipt it."""

    envelope: Envelope
    opened: Opened


@dataclass(frozen=True)
class DuplicateReceived:
    """An authentic envelope whose sequence number was already used: answer from the store."""

    seq: int
    opened: Opened


@dataclass(frozen=True)
class EnvelopeRefused:
    """An authentic envelope that fails validation: keep it as evidence, send a rejection.

    ``consumed`` says whether its sequence number is used up (it was the next one expected).
    """

    opened: Opened
    seq: int | None
    reason: str
    detail: str
    consumed: bool


@dataclass(frozen=True)
class ReceiptReceived:
    receipt: Receipt
    opened: Opened


@dataclass(frozen=True)
class RejectionReceived:
    rejection: Rejection
    opened: Opened


@dataclass(frozen=True)
class RoundTrip:
    """A heartbeat came back; ``seconds`` is the measured round-trip time."""

    seconds: float
    skew_ms: int | None = None  # the peer's clock minus ours, allowing half the round trip


@dataclass(frozen=True)
class LinkSilent:
    """Nothing heard on a probed link for its silence limit: its path is down, the link open."""


@dataclass(frozen=True)
class LinkHeard:
    """Bytes again on a link that had fallen silent: its path may be up again."""


@dataclass(frozen=True)
class PeerStandingBy:
    """The node we reached is one of the peer's standbys: it names the active node to dial."""

    active: int | None  # the active node's number (1 = the first of each path's addresses)
    addresses: tuple[str, ...]  # the active node's addresses, one per path, as it advertised them
    epoch: int


@dataclass(frozen=True)
class PeerClosed:
    """The peer reported a protocol error and is closing the connection."""

    code: str
    detail: str


@dataclass(frozen=True)
class CheckpointOffered:
    """The peer offers its log's new checkpoint for us to witness (not yet judged)."""

    offer: Offer


@dataclass(frozen=True)
class CosignatureReceived:
    """The peer cosigned our checkpoint of ``size`` (not yet verified)."""

    size: int
    line: str


@dataclass(frozen=True)
class CheckpointRefused:
    """The peer will not cosign our checkpoint of ``size``. ``equivocation``: it says our log
    contradicts what it cosigned before; ``held_size``: the size it did cosign, to resume from."""

    size: int
    reason: str
    detail: str
    equivocation: bool
    held_size: int | None
    held_note: str | None = None  # with an equivocation: the checkpoint of ours it cosigned (unverified)


Event = (
    SessionOpened
    | EnvelopeReceived
    | DuplicateReceived
    | EnvelopeRefused
    | ReceiptReceived
    | RejectionReceived
    | RoundTrip
    | LinkSilent
    | LinkHeard
    | PeerClosed
    | PeerStandingBy
    | CheckpointOffered
    | CosignatureReceived
    | CheckpointRefused
)
