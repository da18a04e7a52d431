"""Witnessing a peer's transcript: when to cosign a checkpoint, and when to cry foul (pure).

A node's peers witness its log, with the semantics of C2SP tlog-witness carried over the channel
instead of HTTP. The log offers a new signed checkpoint together with a consistency proof from
the last size this witness cosigned, and -- our addition, what makes a peer a useful witness --
the leaf hashes of the new part of the tree, with the old tree's top subtree hashes: from them
the witness recomputes the new root itself, and so sees exactly what the log's signature commits
each new position to, and which of them are envelopes of its own. (Per-envelope inclusion proofs
would say the same at ~20 times the bytes and, measured, ~10 times the CPU.)
The witness cosigns (cosignature/v1) only if:

1. the note is signed by the log's key and names the log's origin;
2. it does not go back: a smaller size than already cosigned is a *rollback*, another root for
   the size already cosigned is a *fork*;
3. the consistency proof from what we cosigned verifies (otherwise the log was *rewritten*);
4. the leaf hashes given extend the tree we cosigned to exactly the new root, each envelope of
   ours is at the position the log says, and every position the log's receipts named to us in
   that range holds our envelope (otherwise a *receipt position holds another leaf*).

A fork (two roots signed for one size), a rollback, a rewritten history (the new checkpoint does
not extend the one cosigned, by proof or by leaves), and a receipt whose position holds another
leaf are equivocation: the log has shown two different histories, and the two signed
checkpoints (with the signed receipt) are the portable proof of it. The offer's own unsigned
parts (its consistency proof, the list of our envelopes) being wrong is only a bad offer; that,
a bad signature or a stale ``old`` size is refused without accusing anyone. Origins are named
``hotline.transcript/<PARTY>/<key>`` and witnesses ``hotline.witness/<PARTY>/<key>``, where
``<key>`` is the first 32 hex digits of the SHA-256 of the party's Ed25519 public key: unique per
party and per key, so a re-keyed party starts a new log.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from hotline.errors import EncodingError
from hotline.log.checkpoint import Checkpoint
from hotline.log.merkle import Frontier, ProofError, leaf_hash, verify_consistency
from hotline.log.note import Verifier, open_note


def key_tag(public_key: bytes) -> str:
    return hashlib.sha256(public_key).hexdigest()[:32]  # 128 bits: no key can be ground to match


def log_origin(party: str, public_key: bytes) -> str:
    """The origin line (and signing key name) of a party's transcript, named by its first key."""
    return origin_for(party, key_tag(public_key))


def witness_name(party: str, public_key: bytes) -> str:
    """The key name under which a party cosigns others' checkpoints."""
    return witness_for(party, key_tag(public_key))


def origin_for(party: str, tag: str) -> str:
    """The origin of a party's log named by ``tag``: its first key's, kept across rotations."""
    return f"hotline.transcript/{party}/{tag}"


def witness_for(party: str, tag: str) -> str:
    return f"hotline.witness/{party}/{tag}"


@dataclass(frozen=True)
class Offer:
    note: str  # the signed checkpoint
    old_size: int  # the size the log believes we cosigned last (0: none)
    consistency: tuple[bytes, ...]  # RFC 9162 consistency proof from old_size
    frontier: tuple[bytes, ...]  # the old tree's perfect subtree hashes (``perfect_subtrees``)
    leaves: tuple[bytes, ...]  # the leaf hashes of entries old_size .. size - 1
    ours: tuple[tuple[int, bytes], ...]  # (entry, envelope id) for each envelope of ours among them


@dataclass(frozen=True)
class Held:
    """The last checkpoint of this log that we cosigned."""

    size: int
    root: bytes
    note: str


class Refusal(Exception):  # noqa: N818 - a verdict, not a failure of ours
    """We do not cosign. ``equivocation`` says whether the log contradicted itself (the
    highest alert on both sides), as opposed to an offer we merely cannot accept."""

    def __init__(
        self,
        reason: str,
        detail: str,
        *,
        equivocation: bool = False,
        held_size: int | None = None,
        held_note: str | None = None,
    ) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
        self.equivocation = equivocation
        self.held_size = held_size
        # With an equivocation: the checkpoint we cosigned, signed by the log itself. Sent with
        # the refusal, it lets the log's own node check the accusation instead of believing it.
        self.held_note = held_note


def judge(
    offer: Offer,
    *,
    origin: str,
    verifier: Verifier | Sequence[Verifier],
    held: Held | None,
    sent: Callable[[bytes], bytes | None],
    receipted: Mapping[int, bytes],
) -> Checkpoint:
    """The checkpoint to cosign, or ``Refusal``.

    ``sent(envelope_id)`` gives the bytes of an envelope we sent this peer (None if we did not);
    ``receipted`` maps the log positions its receipts named for our envelopes, in the range
    this offer extends, to the envelope ids.
    """
    try:
        opened = open_note(offer.note, list(verifier) if isinstance(verifier, Sequence) else [verifier])
        checkpoint = Checkpoint.parse(opened.text)
    except EncodingError as exc:
        raise Refusal("bad-checkpoint", f"the checkpoint does not verify under the log's key: {exc}") from None
    if checkpoint.origin != origin:
        raise Refusal("wrong-origin", f"the checkpoint is for {checkpoint.origin!r}, not {origin!r}")
    held_size = 0 if held is None else held.size
    if held is not None and checkpoint.size == held.size and checkpoint.root_hash != held.root:
        # Two roots signed for one size: provable by anyone from the two notes alone.
        raise Refusal(
            "fork", f"a second root for size {held.size}, which we cosigned", equivocation=True, held_note=held.note
        )
    if offer.old_size != held_size:
        # tlog-witness's 409: the log does not know what we hold (a lost cosignature, a stale
        # offer). Told where to resume, an honest log simply offers again; no accusation.
        raise Refusal("conflict", f"we last cosigned size {held_size}, not {offer.old_size}", held_size=held_size)
    if held is not None and checkpoint.size < held.size:
        raise Refusal(
            "rollback",
            f"size {checkpoint.size} is smaller than {held.size}, which we cosigned and it claims to extend",
            equivocation=True,
            held_note=held.note,
        )
    try:
        leaves = _check_extension(offer, checkpoint, held)
        extension: Refusal | None = None
    except Refusal as refusal:
        leaves, extension = {}, refusal
    if held is not None and held.size > 0 and checkpoint.size > held.size:
        try:
            verify_consistency(held.size, checkpoint.size, held.root, checkpoint.root_hash, offer.consistency)
        except ProofError as exc:
            if extension is None:  # the leaves prove the extension: only the proof is broken
                raise Refusal("bad-offer", f"the consistency proof does not verify: {exc}") from None
            raise Refusal(
                "rewritten",
                f"size {checkpoint.size} is not an extension of size {held.size}, which we cosigned: {exc}",
                equivocation=True,
                held_note=held.note,
            ) from None
    if extension is not None:
        raise extension
    _check_positions(offer.ours, leaves, held_size, sent, receipted)
    return checkpoint


def _check_extension(offer: Offer, checkpoint: Checkpoint, held: Held | None) -> dict[int, bytes]:
    """The leaves the offer claims, once it is proven that they are exactly what the signed
    checkpoint adds to the tree we cosigned (so each is committed to by the log's signature)."""
    held_size = 0 if held is None else held.size
    if len(offer.leaves) != checkpoint.size - held_size:
        raise Refusal("bad-offer", f"{len(offer.leaves)} leaf hashes for entries {held_size}..{checkpoint.size - 1}")
    try:
        frontier = Frontier.of(held_size, offer.frontier)
        if held is not None and frontier.root() != held.root:
            raise Refusal("bad-offer", f"the subtree hashes given are not those of size {held_size}, which we cosigned")
        for leaf in offer.leaves:
            frontier.append(leaf)
    except (ValueError, ProofError) as exc:
        raise Refusal("bad-offer", str(exc)) from None
    if frontier.root() != checkpoint.root_hash:
        raise Refusal("bad-offer", "the leaf hashes given do not make the checkpoint's root")
    return {held_size + i: leaf for i, leaf in enumerate(offer.leaves)}


def _check_positions(
    ours: Sequence[tuple[int, bytes]],
    leaves: Mapping[int, bytes],
    held_size: int,
    sent: Callable[[bytes], bytes | None],
    receipted: Mapping[int, bytes],
) -> None:
    claimed: dict[int, bytes] = {}
    for index, envelope_id in ours:
        if index not in leaves:
            raise Refusal(
                "bad-offer", f"entry {index} is outside the new part, {held_size}..{held_size + len(leaves) - 1}"
            )
        envelope = sent(envelope_id)
        if envelope is None:
            raise Refusal("bad-offer", f"entry {index} names an envelope we never sent")
        if leaf_hash(envelope) != leaves[index]:  # an unsigned claim of the offer: wrong, not perjury
            raise Refusal("bad-offer", f"entry {index} does not hold our envelope {envelope_id.hex()[:16]}")
        claimed[index] = envelope_id
    for index, envelope_id in sorted(receipted.items()):
        if index not in leaves:
            continue
        envelope = sent(envelope_id)
        if envelope is None or leaf_hash(envelope) != leaves[index]:
            raise Refusal(
                "receipt-position",
                f"entry {index} holds another leaf than our envelope {envelope_id.hex()[:16]},"
                " which the log's receipt put there",
                equivocation=True,
            )
        if index not in claimed:
            raise Refusal(
                "missing-position", f"the offer does not name entry {index}, where a receipt put our envelope"
            )
