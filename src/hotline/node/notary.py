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

import asyncio
import time
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
    log_origin,
    parse_note,
    sign_checkpoint,
    verify_cosignature,
    witness_name,
)
from hotline.node.desk import wall_ms
from hotline.protocol import Lane
from hotline.protocol import events as ev
from hotline.storage import StoredCheckpoint

if TYPE_CHECKING:
    from hotline.node.channel import Channel
    from hotline.node.link import Link
    from hotline.node.service import Node

log = structlog.get_logger("hotline.transcript")
# Entries between two checkpoints at most. A witness is offered each checkpoint in turn with an
# inclusion proof for each of its envelopes in the new part (~700 bytes each at a million
# entries), so this bounds an offer to a few hundred kilobytes, under the 1 MiB frame limit.
CHECKPOINT_STEP = 512


class Notary:
    def __init__(self, node: Node) -> None:
        self.node = node
        public = node.key.verify_key.raw
        self.origin = log_origin(node.party, public)
        self.signer = Ed25519Signer(self.origin, node.key)
        self.cosigner = CosignatureSigner(witness_name(node.party, public), node.key)
        self._offered: dict[str, tuple[Link, int]] = {}  # per peer: the offer awaiting its answer

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
        return sign_checkpoint(Checkpoint(self.origin, size, root), [self.signer])

    # -- our log -----------------------------------------------------------------------------

    async def checkpoints_forever(self, interval: float) -> None:
        while not self.node.stopped.is_set():
            await asyncio.sleep(interval)
            await self.guarded(self.checkpoint_now())

    async def checkpoint_now(self) -> StoredCheckpoint | None:
        checkpoint = await self.node.store.make_checkpoint(self.sign, wall_ms(), CHECKPOINT_STEP)
        if checkpoint is not None:
            log.debug("checkpoint signed", size=checkpoint.size)
            self.node.bulletin.post("transcript")
            for channel in list(self.node.channels.values()):
                await self.offer(channel)
        return checkpoint

    async def offer(self, channel: Channel, old: int | None = None) -> None:
        """Offer a peer the next checkpoint after the last one it cosigned (one at a time, in
        order, as a tlog witness sees them), unless one is already on its way to it."""
        store = self.node.store
        if old is None:
            old = await store.last_cosigned(channel.party)
        checkpoint = await store.next_checkpoint(old)
        link = channel.link_for(Lane.ORDINARY)
        if checkpoint is None or link is None or self._offered.get(channel.party) == (link, checkpoint.size):
            return
        offer = await store.offer_for(channel.party, checkpoint, old)
        self._offered[channel.party] = (link, checkpoint.size)
        try:
            link.send_witnessing(lambda session, now: session.send_checkpoint(offer, now))
        except LocalProtocolError as exc:  # a bug of ours (an offer too large): keep the node
            log.exception("checkpoint offer not sent", peer=channel.party, size=checkpoint.size, error=str(exc))

    async def on_cosignature(self, channel: Channel, event: ev.CosignatureReceived) -> None:
        store = self.node.store
        checkpoint = await store.checkpoint_at(event.size)
        key = channel.peer.sign_key
        verifier = CosignatureVerifier(witness_name(channel.party, key), VerifyKey(key))
        if checkpoint is None:
            log.warning("cosignature for a checkpoint we never signed", peer=channel.party, size=event.size)
            return
        try:
            signature = Signature.parse_line(event.line.removesuffix("\n"))
            verify_cosignature(Checkpoint(self.origin, checkpoint.size, checkpoint.root), signature, verifier)
        except EncodingError as exc:
            log.warning("cosignature refused", peer=channel.party, size=event.size, error=str(exc))
            return
        await store.add_cosignature(event.size, channel.party, signature.line(), wall_ms())
        self.node.bulletin.post("transcript")
        log.debug("checkpoint cosigned", witness=channel.party, size=event.size)
        self._offered.pop(channel.party, None)
        await self.offer(channel)  # the next one, if the log has grown meanwhile

    async def on_refused(self, channel: Channel, event: ev.CheckpointRefused) -> None:
        self._offered.pop(channel.party, None)
        if event.equivocation:
            checkpoint = await self.node.store.checkpoint_at(event.size)
            offered = checkpoint.note if checkpoint is not None else f"(no checkpoint of size {event.size} here)\n"
            detail = f"{channel.party} refused to cosign: {event.detail}"
            await self.node.store.record_equivocation(self.node.party, event.reason, detail, None, offered, wall_ms())
            self.node.bulletin.post("transcript", "alerts")
            log.critical(
                "EQUIVOCATION: a witness says our transcript contradicts what it cosigned",
                witness=channel.party,
                reason=event.reason,
                detail=event.detail,
            )
            return
        log.warning("checkpoint not cosigned", witness=channel.party, reason=event.reason, detail=event.detail)
        if event.reason == "conflict" and event.held_size is not None:
            await self.offer(channel, old=event.held_size)

    # -- witnessing theirs -------------------------------------------------------------------

    async def on_offer(self, channel: Channel, link: Link, event: ev.CheckpointOffered) -> None:
        key = channel.peer.sign_key
        origin = log_origin(channel.party, key)
        verifier = Ed25519Verifier(origin, VerifyKey(key))
        result = await self.node.store.witness_offer(channel.party, event.offer, origin, verifier, wall_ms())
        if isinstance(result, Checkpoint):
            line = cosign(result, self.cosigner, int(time.time())).line()
            link.send_witnessing(lambda session, now: session.send_cosignature(result.size, line, now))
            return
        size = _claimed_size(event.offer.note)
        if result.equivocation:
            self.node.bulletin.post("transcript", "alerts")
        link.send_witnessing(lambda session, now: session.send_checkpoint_refusal(size, result, now))
        report = log.critical if result.equivocation else log.warning
        what = "EQUIVOCATION: a peer's transcript contradicts what we cosigned" if result.equivocation else None
        report(what or "peer checkpoint not cosigned", peer=channel.party, reason=result.reason, detail=result.detail)


def _claimed_size(note: str) -> int:
    """The size a checkpoint claims, unverified: only to name it in a refusal."""
    try:
        return Checkpoint.parse(parse_note(note).text).size
    except EncodingError:
        return 0


__all__ = ["Notary", "Refusal"]
