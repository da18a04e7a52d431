"""Plain records that cross the Store interface. No behaviour; the store only keeps them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class PeerRecord:
    party: str
    sign_key: bytes
    tls_cert: bytes
    addresses: tuple[str, ...]
    card: str
    added_ms: int
    # Whether traffic flows (``hotline peer suspend|resume|remove``): "active", "suspended" (held
    # both ways until resumed) or "removed" (refused from then on; what was exchanged is kept).
    state: str = "active"
    state_since_ms: int | None = None
    state_by: str | None = None
    state_remark: str | None = None

    @property
    def witness(self) -> bool:
        """A neutral party that only witnesses (its card says so, under its fingerprint)."""
        return self.card.endswith(":witness")


@dataclass(frozen=True)
class RetiredKey:
    """A signing key a party rotated away from (ours or a peer's), kept so that what it signed
    still verifies: ``retired_size`` is the party's log size when it stopped being accepted
    (checkpoints up to that size may bear it); None while the rotation is under way."""

    party: str
    sign_key: bytes
    tls_cert: bytes
    card: str  # the identity card the key was pinned with
    replaced_ms: int  # when the rotation away from it began (was followed)
    retired_ms: int | None = None
    retired_size: int | None = None


@dataclass(frozen=True)
class Draft:
    """A message an operator asked to send, before it has a sequence number or signature."""

    peer: str
    precedence: str
    marking: str
    kind: str
    kind_version: int
    body: bytes  # canonical CBOR of the form body
    reply_to: bytes | None
    created_ms: int
    ref: str | None = None  # the client's idempotency key: the same ref never queues twice
    due_ms: int | None = None  # when a person at the peer must have acknowledged it
    # One copy of a message to several parties: the drafts of one call with the same group
    # are one entry, known by the number of its first copy (``OutboxRow.broadcast``).
    broadcast: int | None = None


@dataclass(frozen=True)
class Queued:
    """A draft in the outbox, with the node-wide number people know it by."""

    number: int
    draft: Draft
    new: bool = True  # False: a retried ref found this message already queued (or long sent)


@dataclass(frozen=True)
class Dispatched:
    """A queued message given its sequence number and signed; it may now go on the wire."""

    number: int
    peer: str
    seq: int
    envelope: bytes
    envelope_id: bytes
    signed_ms: int
    rank: int


@dataclass(frozen=True)
class ChannelState:
    """Where one channel stands, as the store proves it: the sequence number we sign next, and
    the highest numbers the peer has used up, from which the receiver finds where the peer
    resumes (``InboundSequence.resume``; the store only reads the numbers)."""

    send_next: int
    recv_used: tuple[int, ...] = ()  # ascending; the highest ones, as many as were asked for


@dataclass(frozen=True)
class Acknowledgement:
    """A person (or, for link tests, the machine) has read a message."""

    by: str
    at_ms: int
    remark: str | None = None
    auto: bool = False
    rank: str | None = None  # a code of ``hotline.forms.ranks.Rank``, read in each reader's language


@dataclass(frozen=True)
class OutboxRow:
    number: int
    peer: str
    ref: str | None
    precedence: str
    marking: str
    kind: str
    body: bytes
    created_ms: int
    seq: int | None
    envelope_id: bytes | None
    state: str
    sent_ms: int | None
    delivered_ms: int | None
    rejected_ms: int | None
    envelope: bytes | None
    receipt: bytes | None
    rejection: bytes | None
    kind_version: int = 1
    reply_to: bytes | None = None
    due_ms: int | None = None
    ack: Acknowledgement | None = None  # the peer's acknowledgement, once it arrived
    ack_received_ms: int | None = None
    # The stored receipt is not its transcript entry (a damaged store): ``receipt`` is not to be
    # believed, and ``hotline log audit`` says more.
    receipt_damaged: bool = False
    # A copy of a message sent to several parties: the number of its first copy, which names
    # the whole (each copy has its own number, sequence and signature, as its channel needs).
    broadcast: int | None = None
    copies: tuple[OutboxRow, ...] = ()  # on a first copy read as one entry: the others

    @property
    def display_state(self) -> str:
        """The delivery state, with ``acknowledged`` once a person at the peer has read it."""
        return "acknowledged" if self.ack is not None else self.state


@dataclass(frozen=True)
class ReplyTarget:
    """What a reply's ``reply_to`` names: a message we sent (``sent``) or received, with whom,
    and of which kind."""

    sent: bool
    peer: str
    kind: str


@dataclass(frozen=True)
class InboxRow:
    """A received envelope. ``receipt`` (the signed receipt that names it, perhaps with other
    envelopes of the same commit) is filled when the row is read back."""

    peer: str
    seq: int
    number: int
    envelope_id: bytes
    precedence: str
    marking: str
    kind: str
    body: bytes
    sent_ms: int
    received_ms: int
    envelope: bytes
    receipt: bytes = b""
    kind_version: int = 1
    reply_to: bytes | None = None
    due_ms: int | None = None  # when a person here must have acknowledged it; None: no one need
    ack: Acknowledgement | None = None  # our acknowledgement (given with the row for link tests)
    ack_number: int | None = None  # the outbox number of the envelope carrying our acknowledgement
    acknowledges: Acknowledgement | None = None  # this row is the peer's acknowledgement of ``reply_to``
    receipt_damaged: bool = False  # as OutboxRow's


@dataclass(frozen=True)
class StoredAnswer:
    """What the store holds for an inbound (peer, seq): the envelope id and our signed answer."""

    envelope_id: bytes
    answer: bytes  # the receipt, or the rejection if the envelope was refused
    is_receipt: bool


@dataclass(frozen=True)
class AwaitingAck:
    """A message a person has yet to acknowledge: received (we must) or sent (they must)."""

    received: bool
    peer: str
    party: str  # whose serial it carries
    number: int
    precedence: str
    kind: str
    start_ms: int
    due_ms: int


@dataclass(frozen=True)
class InboundStored:
    """What storing a received batch also did: replies queued, our messages acknowledged."""

    replies: list[Queued]
    acknowledged: list[int]  # outbox numbers the peer's acknowledgements settled


@dataclass(frozen=True)
class Undelivered:
    """A FLASH or IMMEDIATE message of ours that the peer has not yet receipted or rejected."""

    peer: str
    number: int
    precedence: str
    created_ms: int


# -- pages, for people reading: each read is bounded, and says how much it left out -----------

MACHINE_KINDS = ("ack", "link_test")  # the machine's traffic: shown with what it answers


@dataclass(frozen=True)
class Page(Generic[T]):
    """At most ``limit`` rows from ``offset`` on, and how many match in all."""

    rows: list[T]
    total: int
    offset: int


@dataclass(frozen=True)
class MessageFilter:
    """Which messages a search of the log asks for; a field left None asks for any."""

    peer: str | None = None
    kind: str | None = None  # None: every form people write (not ``MACHINE_KINDS``)
    precedence: str | None = None
    since_ms: int | None = None  # from this moment, inclusive
    until_ms: int | None = None  # up to this moment, exclusive
    sent: bool | None = None  # True: ours only; False: the peers' only


@dataclass(frozen=True)
class LoggedMessage:
    """One message in the log, either way, without its bytes: a line of a search result."""

    sent: bool
    peer: str
    party: str  # whose serial it carries
    number: int
    precedence: str
    kind: str
    kind_version: int
    at_ms: int  # queued (ours) or received (theirs)
    state: str  # ours: queued, sent, delivered, rejected, acknowledged; theirs: received
    due_ms: int | None
    ack_by: str | None  # who acknowledged it: a person at the peer (ours) or here (theirs)
    ack_ms: int | None
    ack_rank: str | None = None  # their rank (a ``Rank`` code), if the acknowledgement gave one


@dataclass(frozen=True)
class SignedMessage:
    """A message of either direction as signed: who signed it, its number and id, its form and
    body, when it was signed, where it sits in our transcript, what it replies to."""

    party: str
    number: int
    envelope_id: bytes
    kind: str
    kind_version: int
    body: bytes
    signed_ms: int
    log_index: int | None
    reply_to: bytes | None
    recipient: str  # whom it went to: the peer, for ours; us, for a peer's
