"""The transcript's keeper: signs our log's checkpoints, has peers witness them, witnesses theirs.

Every second or so (``timers.checkpoint_interval``), if the log grew, a C2SP checkpoint of it is
signed with the party's key and stored. Each peer then gets it as an offer to cosign, with a
consistency proof from the last size that peer cosigned, the new leaf hashes, and which of them are
its envelopes (``log/witness.py`` says what a witness checks and why). A peer's offer is judged
in the store, in the same transaction that records its outcome; a cosignature received is
verified before it is kept. A refusal that says our log contradicts itself is recorded as
evidence against our own log and raised as loudly as one we find in a peer's.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING

import structlog

from hotline.crypto import VerifyKey
from hotline.errors import EncodingError, LocalProtocolError, StoreError
from hotline.log import (
    Checkpoint,
    CosignatureSigner,
    CosignatureVerifier,
    Ed25519Signer,
    Ed25519Verifier,
    Refusal,
    Signature,
    cosign,
    open_note,
    origin_for,
    parse_note,
    sign_checkpoint,
    verify_cosignature,
    witness_for,
)
from hotline.log.quorum import quorum
from hotline.log.witness import key_tag
from hotline.node.card import keys_of, log_tag_of
from hotline.node.config import NodeConfig
from hotline.node.keyring import Keyring
from hotline.node.lookout import Lookout
from hotline.node.station import Station
from hotline.protocol import Lane
from hotline.protocol import events as ev
from hotline.storage import RetiredKey, StoredCheckpoint
from hotline.watch.alarms import Kind

if TYPE_CHECKING:
    from hotline.node.channel import Channel
    from hotline.node.link import Link

log = structlog.get_logger("hotline.transcript")
# Entries between two checkpoints at most. A witness is offered each checkpoint in turn with an
# inclusion proof for each of its envelopes in the new part (~700 bytes each at a million
# entries), so this bounds an offer to a few hundred kilobytes, under the 1 MiB frame limit.
CHECKPOINT_STEP = 512
# An unproven claim of equivocation is recorded (and counted on its alarm) at most this often
# per peer: a hundred frames a second must not become a hundred writes a second.
ALLEGATION_EVERY_MS = 10_000


class Notary:
    def __init__(self, station: Station, keys: Keyring, config: NodeConfig, lookout: Lookout) -> None:
        self.station = station
        self.lookout = lookout
        self.keys = keys  # our signing keys (two while we rotate: ``keyring.py``)
        # Our log's name and our name as a witness: our first key's tag, kept across rotations.
        tag = config.keys.log or key_tag(keys.current.verify_key.raw)
        self.origin = origin_for(station.party, tag)
        self.witness_as = witness_for(station.party, tag)
        self.retired: list[VerifyKey] = []  # our keys rotated away from: older checkpoints bear them
        # Per peer, the keys it rotated away from and the log size up to which each may sign.
        self.peer_retired: dict[str, list[tuple[VerifyKey, int]]] = {}
        self._offered: dict[str, tuple[Link, int]] = {}  # per peer: the offer awaiting its answer
        self._alleged: dict[str, int] = {}  # per peer: when its last unproven claim was recorded
        self.quorum_size = config.bounds.witnesses

    def _now(self) -> int:
        return self.station.clock.wall_ms()

    @staticmethod
    async def guarded(work: Awaitable[object]) -> None:
        """Run a witnessing step for a peer; if it fails, say so and keep the node. (A failed
        store is different: it stops the node, as everywhere.)"""
        try:
            await work
        except StoreError:
            raise
        except Exception:
            log.exception("witnessing step failed; the node carries on")

    def sign(self, size: int, root: bytes) -> str:
        signers = [Ed25519Signer(self.origin, key) for key in self.keys.log_keys()]
        return sign_checkpoint(Checkpoint(self.origin, size, root), signers)

    def _retired_for(self, party: str, size: int) -> list[VerifyKey]:
        """A peer's retired keys that may have signed its checkpoint of ``size``."""
        return [key for key, upto in self.peer_retired.get(party, []) if size <= upto]

    def learn_retired(self, retired: list[RetiredKey], own: str) -> None:
        """The keys rotated away from, ours and the peers' (from the store, or one rotation's end)."""
        for key in retired:
            if key.party == own:
                self.retired.append(VerifyKey(key.sign_key))
            elif key.retired_size is not None:
                self.peer_retired.setdefault(key.party, []).append((VerifyKey(key.sign_key), key.retired_size))

    def _own_verifiers(self) -> list[Ed25519Verifier]:
        """Our signature on a checkpoint, whichever of our keys made it."""
        keys = [key.verify_key for key in self.keys.log_keys()] + self.retired
        return [Ed25519Verifier(self.origin, key) for key in keys]

    # -- our log -----------------------------------------------------------------------------

    async def checkpoints_forever(self, interval: float) -> None:
        while not self.station.stopped.is_set():
            await self.station.clock.sleep(interval)
            await self.guarded(self.checkpoint_now())

    async def checkpoint_now(self) -> StoredCheckpoint | None:
        checkpoint = await self.station.store.make_checkpoint(self.sign, self._now(), CHECKPOINT_STEP)
        if checkpoint is not None:
            log.debug("checkpoint signed", size=checkpoint.size)
            self.station.bulletin.post("transcript")
            for channel in list(self.station.channels.values()):
                await self.offer(channel)
        return checkpoint

    def chosen(self) -> frozenset[str]:
        """Our log's quorum when every peer is linked: whom the ranking names (``witnesses``
        is who stands in now)."""
        ranked = [c.party for c in self.station.channels.values() if not c.peer.witness and c.peer.state == "active"]
        return quorum(self.origin, ranked, [], self.quorum_size)

    def witnesses(self) -> frozenset[str]:
        """The peers our checkpoints are offered to: every neutral witness, and the quorum of
        our log (``log/quorum.py``) among the peers linked now and not suspended or removed. A
        witness of the quorum that is away is replaced by the next in rank until it is back
        (its own *Peer unreachable* alarm says it is away): our checkpoints never wait for
        cosignatures that cannot come."""
        channels = [c for c in self.station.channels.values() if c.peer.state != "removed"]
        neutral = [c.party for c in channels if c.peer.witness]
        ready = [c.party for c in channels if not c.peer.witness and c.peer.state == "active" and c.has_link()]
        return quorum(self.origin, ready, neutral, self.quorum_size)

    async def offer(self, channel: Channel, old: int | None = None) -> None:
        """Offer a peer the next checkpoint after the last one it cosigned (one at a time, in
        order, as a tlog witness sees them), unless one is already on its way to it, or the
        peer is not among our log's witnesses."""
        if channel.party not in self.witnesses():
            return
        store = self.station.store
        if old is None:
            old = await store.last_cosigned(channel.party)
        checkpoint = await store.next_checkpoint(old)
        link = channel.link_for(Lane.ORDINARY, self.station.clock.monotonic())
        if checkpoint is None or link is None or self._offered.get(channel.party) == (link, checkpoint.size):
            return
        offer = await store.offer_for(channel.party, checkpoint, old)
        self._offered[channel.party] = (link, checkpoint.size)
        try:
            link.send_witnessing(lambda session, now: session.send_checkpoint(offer, now))
        except LocalProtocolError as exc:  # a bug of ours (an offer too large): keep the node
            log.exception("checkpoint offer not sent", peer=channel.party, size=checkpoint.size, error=str(exc))

    async def on_cosignature(self, channel: Channel, event: ev.CosignatureReceived) -> None:
        store = self.station.store
        checkpoint = await store.checkpoint_at(event.size)
        name = witness_for(channel.party, log_tag_of(channel.peer))
        verifiers = [CosignatureVerifier(name, key) for key in keys_of(channel.key)]
        if checkpoint is None:
            log.warning("cosignature for a checkpoint we never signed", peer=channel.party, size=event.size)
            return
        try:
            signature = Signature.parse_line(event.line.removesuffix("\n"))
            # While the witness rotates, either of its keys may cosign: the line names which.
            verifier = next((v for v in verifiers if v.key_id == signature.key_id), verifiers[-1])
            verify_cosignature(Checkpoint(self.origin, checkpoint.size, checkpoint.root), signature, verifier)
        except EncodingError as exc:
            log.warning("cosignature refused", peer=channel.party, size=event.size, error=str(exc))
            return
        await store.add_cosignature(event.size, channel.party, signature.line(), self._now())
        self.station.bulletin.post("transcript")
        log.debug("checkpoint cosigned", witness=channel.party, size=event.size)
        self._offered.pop(channel.party, None)
        await self.offer(channel)  # the next one, if the log has grown meanwhile

    async def on_refused(self, channel: Channel, event: ev.CheckpointRefused) -> None:
        self._offered.pop(channel.party, None)
        if event.equivocation:
            await self._accused(channel, event)
            return
        if event.reason == "conflict" and event.held_size is not None:
            # tlog-witness's 409: the witness holds another size than we thought (after a restore,
            # or a lost cosignature). No accusation: offered again from where it stands.
            log.info("witness holds another size: offering again", witness=channel.party, detail=event.detail)
            await self.offer(channel, old=event.held_size)
            return
        log.warning("checkpoint not cosigned", witness=channel.party, reason=event.reason, detail=event.detail)

    async def _accused(self, channel: Channel, event: ev.CheckpointRefused) -> None:
        """A witness says our log contradicts what it cosigned. Believed only on evidence we
        verify ourselves: a checkpoint signed with our own key that our log no longer agrees
        with. Anything less is a claim: a lower alarm, one per peer however often it is made."""
        proof = await self._contradiction(event.held_note)
        if proof is None:
            now = self._now()
            if now - self._alleged.get(channel.party, -ALLEGATION_EVERY_MS) >= ALLEGATION_EVERY_MS:
                self._alleged[channel.party] = now
                log.warning(
                    "a witness claims our transcript contradicts what it cosigned, without a checkpoint of ours"
                    " that shows it",
                    witness=channel.party,
                    reason=event.reason,
                    detail=event.detail,
                )
                facts = {"reason": event.reason, "detail": event.detail, "size": event.size}
                await self.lookout.latch(Kind.ALLEGED_EQUIVOCATION, channel.party, None, facts)
            return
        held, ours, why = proof
        detail = f"{channel.party} refused to cosign ({event.reason}: {event.detail}); {why}"
        await self.station.store.record_equivocation(
            self.station.party, event.reason, detail, held, ours, self._now(), channel.party
        )
        await self.lookout.reload()
        self.station.bulletin.post("transcript", "alerts")
        log.critical(
            "EQUIVOCATION: our own transcript contradicts a checkpoint we signed",
            witness=channel.party,
            reason=event.reason,
            detail=why,
        )

    async def _contradiction(self, held_note: str | None) -> tuple[str, str, str] | None:
        """(the witness's checkpoint, ours, what differs) if ``held_note`` is a checkpoint we
        signed that our log now contradicts; None otherwise."""
        if held_note is None:
            return None
        try:
            checkpoint = Checkpoint.parse(open_note(held_note, self._own_verifiers()).text)
        except EncodingError:
            return None  # not signed by us: proves nothing about our log
        if checkpoint.origin != self.origin:
            return None
        store = self.station.store
        root = await store.root_at(checkpoint.size)
        if root == checkpoint.root_hash:
            return None  # our log agrees with what the witness holds
        latest = await store.latest_checkpoint()
        ours = latest.note if latest is not None else "(no checkpoint of ours is stored)\n"
        if root is None:
            return held_note, ours, f"we signed size {checkpoint.size}, and our log now holds fewer entries"
        return held_note, ours, f"we signed another root for size {checkpoint.size} than our log now has"

    # -- witnessing theirs -------------------------------------------------------------------

    async def on_offer(self, channel: Channel, link: Link, event: ev.CheckpointOffered) -> None:
        origin = origin_for(channel.party, log_tag_of(channel.peer))
        # The peer's key (both while it rotates), and a key it retired for the sizes it signed.
        size = _claimed_size(event.offer.note)
        keys = [*keys_of(channel.key), *self._retired_for(channel.party, size)]
        verifiers = [Ed25519Verifier(origin, key) for key in keys]
        result = await self.station.store.witness_offer(channel.party, event.offer, origin, verifiers, self._now())
        if isinstance(result, Checkpoint):
            cosigner = CosignatureSigner(self.witness_as, self.keys.for_peer(channel.party))
            line = cosign(result, cosigner, self._now() // 1000).line()
            link.send_witnessing(lambda session, now: session.send_cosignature(result.size, line, now))
            return
        size = _claimed_size(event.offer.note)
        if result.equivocation:
            await self.lookout.reload()
            self.station.bulletin.post("transcript", "alerts")
        link.send_witnessing(lambda session, now: session.send_checkpoint_refusal(size, result, now))
        report = log.critical if result.equivocation else log.info if result.reason == "conflict" else log.warning
        what = "EQUIVOCATION: a peer's transcript contradicts what we cosigned" if result.equivocation else None
        report(what or "peer checkpoint not cosigned", peer=channel.party, reason=result.reason, detail=result.detail)


def _claimed_size(note: str) -> int:
    """The size a checkpoint claims, unverified: only to name it in a refusal."""
    try:
        return Checkpoint.parse(parse_note(note).text).size
    except EncodingError:
        return 0


__all__ = ["Notary", "Refusal"]
