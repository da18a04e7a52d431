"""Recovering a store restored from an older backup, from the peers, before the node signs anything.

``hotline restore`` puts a copy back and marks the store: the node then refuses to start, since
it would sign sequence numbers, serials and log positions its peers already hold. ``recover``
(run by ``hotline restore`` itself, and by ``hotline recover`` again if a peer was away) asks
every pinned peer, over a TLS connection of its own (``recovery_answer.py`` answers), what the
copy lacks: the leaf hashes of our log each peer cosigned, our newest checkpoint it holds, and the
signed objects exchanged with it since the copy. It checks every signature against our keys and
the peer's pins, has ``log/recovery.py`` put the entries in log order, and replays them through
the store's own operations in one transaction, which also checks that the rebuilt tree has the
root the witnesses cosigned. What it could not recover is said in the report, kept with the
restore, told to every peer, and printed.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import structlog

from hotline.crypto import KeySet, VerifyKey
from hotline.envelope import Envelope, Receipt, ReceiptEntry, Rejection, cbor
from hotline.envelope.signed import KINDS, Opened, open_signed
from hotline.errors import EncodingError, RemoteProtocolError, SignatureError, StoreError
from hotline.log import Ed25519Verifier, Frontier, origin_for, perfect_subtrees
from hotline.log.checkpoint import open_checkpoint
from hotline.log.recovery import Piece, PieceKind, Plan, Step, StepKind, plan
from hotline.log.witness import key_tag
from hotline.node.card import parse_address
from hotline.node.clock import SYSTEM_CLOCK, Clock
from hotline.node.config import NodeConfig
from hotline.node.inbound import received_row
from hotline.node.tls import tls_context
from hotline.node.watchkeeper import acknowledgement_in
from hotline.protocol import RECOVERY_ALPN, FrameReader, FrameType, encode_frame
from hotline.storage import InboxRow, PeerRecord, Recovery, RecoveryBounds, Replay, SentAgain, Store

log = structlog.get_logger("hotline.recovery")
DIAL_TIMEOUT = 5.0
ANSWER_TIMEOUT = 120.0  # seconds for a peer's whole answer once it began
MAX_PART = 4 << 20  # a part of the answer: half a megabyte of objects, and one more at most
MAX_ANSWER = 1 << 30  # bytes from one peer: years of traffic since a copy would be a wrong request
RETRY_EVERY = 2.0  # seconds between rounds of dialing the peers that did not answer


@dataclass
class PeerCopy:
    """What one peer holds of ours: the newest checkpoint of our log it cosigned, the leaf hashes
    it cosigned from our copy's size on, and the objects exchanged with it since."""

    party: str
    note: str | None = None
    leaves: dict[int, bytes] = field(default_factory=dict)
    objects: list[bytes] = field(default_factory=list)
    writer: asyncio.StreamWriter | None = None  # kept open to tell it the outcome
    taken: int = 0  # bytes of its answer so far


@dataclass
class Outcome:
    recovery: Recovery
    size: int = 0  # the transcript's size once recovered
    exact_to: int = 0
    recovered: int = 0  # entries put back
    report: str = ""
    problems: list[str] = field(default_factory=list)


async def recover(
    config: NodeConfig, store: Store, wait: float, without: Sequence[str] = (), clock: Clock = SYSTEM_CLOCK
) -> Outcome:
    """Recover what the restored store lacks from every pinned peer (those in ``without`` aside),
    waiting up to ``wait`` seconds for those that do not answer. Raises ``StoreError`` when there is
    no restore to recover from, or a peer did not answer (nothing is changed then)."""
    pending = await store.pending_recovery()
    if pending is None:
        raise StoreError(nothing_to_recover(await store.recoveries()))
    peers = [p for p in await store.peers() if p.state != "removed" and p.party not in without]
    start = await store.transcript_size()
    bounds = {p.party: await store.recovery_bounds(p.party) for p in peers}
    copies = await _ask_all(config, peers, bounds, start, wait, clock)
    try:
        return await _rebuild(config, store, pending, peers, copies, start, without, clock.wall_ms())
    finally:
        for copy in copies.values():
            if copy.writer is not None:
                copy.writer.close()


def nothing_to_recover(done: list[Recovery]) -> str:
    """Why there is nothing to recover: never restored, or recovered already (when, and how)."""
    if not done:
        return "nothing to recover: this store was never restored from a backup"
    last = done[-1]
    when = datetime.fromtimestamp((last.done_ms or last.restored_ms) / 1000, UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"nothing to recover: the restore from {last.backup} recovered from the peers on {when} ({last.report})"


async def _rebuild(
    config: NodeConfig,
    store: Store,
    pending: Recovery,
    peers: list[PeerRecord],
    copies: dict[str, PeerCopy],
    start: int,
    without: Sequence[str],
    now_ms: int,
) -> Outcome:
    outcome = Outcome(pending)
    keys = await _keys(config, store, peers)
    frontier = await _frontier(store, start)
    origin = origin_for(config.party, config.keys.log or key_tag(config.signing_key().verify_key.raw))
    cosigned, notes = _witnessed(origin, keys[config.party], copies.values(), frontier, outcome.problems)
    pieces = _verified(config.party, keys, copies.values(), outcome.problems)
    held = await store.held_leaves([p.leaf for p in pieces])
    the_plan = plan(config.party, start, cosigned, [p for p in pieces if p.leaf not in held])
    outcome.problems += the_plan.problems
    if without:
        outcome.problems.append(f"not asked: {', '.join(without)} (what only they hold is not recovered)")
    checkpoints = []
    for party, (size, root, note) in sorted(notes.items()):
        if size <= the_plan.exact_to:
            checkpoints.append((size, root, note))
        else:
            outcome.problems.append(
                f"{party} cosigned our log at size {size}, but only {the_plan.exact_to} entries could be"
                " rebuilt as they were: it will refuse our next checkpoint"
            )
    replays = [_replay(config, step) for step in the_plan.steps]
    replays += _numbering(config.party, pieces, now_ms)
    outcome.report = _report(config.party, start, the_plan, outcome.problems)
    lost = bool(outcome.problems)
    outcome.size = await store.rebuild(replays, checkpoints, now_ms, outcome.report, lost)
    outcome.exact_to, outcome.recovered = the_plan.exact_to, outcome.size - start
    report = log.warning if outcome.problems else log.info
    report("recovered from the peers", size=outcome.size, exact_to=the_plan.exact_to, problems=outcome.problems)
    for copy in copies.values():  # committed: a peer that went away meanwhile misses only the report
        if copy.writer is not None:
            with contextlib.suppress(ConnectionError, OSError):
                copy.writer.write(encode_frame(FrameType.RECOVER, report=outcome.report, lost=lost))
                await copy.writer.drain()
    return outcome


async def _frontier(store: Store, size: int) -> tuple[int, list[bytes]]:
    """Our tree at ``size`` (the copy's), as the hashes of its perfect subtrees."""
    hashes = []
    for level, index in perfect_subtrees(size):
        [(_, value)] = await store.tree_hashes(level, index, 1)
        hashes.append(value)
    return size, hashes


def _numbering(party: str, pieces: list[Piece], now_ms: int) -> list[Replay]:
    """Never sign again a number a peer holds: for each peer, past the highest sequence number
    and serial of ours that anything it gave back names (placed in the log or not)."""
    sequences: dict[str, int] = {}
    serials = 0
    for piece in pieces:
        if piece.sender == party and piece.kind is PieceKind.ENVELOPE:
            envelope = Envelope.from_opened(open_signed(piece.raw, "envelope"))
            sequences[piece.recipient] = max(sequences.get(piece.recipient, 0), envelope.seq)
            serials = max(serials, envelope.number)
        elif piece.sender != party and piece.kind is not PieceKind.ENVELOPE:
            named = max((seq for seq, _, _ in piece.names), default=0)
            sequences[piece.sender] = max(sequences.get(piece.sender, 0), named)
    remark = "numbers the peers hold, learned in the recovery after a restore"
    return [
        ("numbering", (peer, seq + 1, serials + 1, now_ms, "(recovery)", remark)) for peer, seq in sequences.items()
    ]


# -- asking the peers ---------------------------------------------------------------------------


async def _ask_all(
    config: NodeConfig,
    peers: list[PeerRecord],
    bounds: dict[str, RecoveryBounds],
    start: int,
    wait: float,
    clock: Clock,
) -> dict[str, PeerCopy]:
    copies: dict[str, PeerCopy] = {}
    errors: dict[str, str] = {}
    deadline = clock.monotonic() + wait
    while True:
        missing = [p for p in peers if p.party not in copies]
        results = await asyncio.gather(*(_ask(config, p, bounds[p.party], start) for p in missing))
        for peer, result in zip(missing, results, strict=True):
            if isinstance(result, PeerCopy):
                copies[peer.party] = result
            else:
                errors[peer.party] = result
        if len(copies) == len(peers) or clock.monotonic() + RETRY_EVERY > deadline:
            break
        await clock.sleep(RETRY_EVERY)  # a pause between rounds of dialing, not a wait for an event
    absent = [p.party for p in peers if p.party not in copies]
    if absent:
        for copy in copies.values():
            if copy.writer is not None:
                copy.writer.close()
        said = "; ".join(f"{party}: {errors.get(party, 'no answer')}" for party in absent)
        raise StoreError(
            f"no answer from {', '.join(absent)} ({said}). Nothing was changed and the node stays stopped:"
            " run `hotline recover` again once they are reachable, or name a peer that is gone for good"
            " with --without (what only it holds is then lost)"
        )
    return copies


async def _ask(config: NodeConfig, peer: PeerRecord, bounds: RecoveryBounds, start: int) -> PeerCopy | str:
    """One peer's copy, from the first of its addresses that answers; or why none did."""
    context = tls_context(False, *config.tls_files(), [peer.tls_cert])
    context.set_alpn_protocols([RECOVERY_ALPN])
    why = "it advertises no address"
    for path in peer.addresses:
        for address in path.split("|"):
            host, port = parse_address(address)
            try:
                async with asyncio.timeout(DIAL_TIMEOUT):
                    reader, writer = await asyncio.open_connection(host, port, ssl=context, server_hostname=host)
            except (OSError, TimeoutError, ssl.SSLError) as exc:
                why = f"{address}: {exc or 'timed out'}"
                continue
            try:
                writer.write(
                    encode_frame(
                        FrameType.RECOVER, size=start, ours_from=bounds.ours_from, theirs_from=bounds.theirs_from
                    )
                )
                copy = await _read_answer(peer.party, reader)
            except (OSError, TimeoutError, RemoteProtocolError, EncodingError) as exc:
                writer.close()
                why = f"{address}: {exc or 'timed out'}"
                continue
            copy.writer = writer
            return copy
    return why


async def _read_answer(party: str, reader: asyncio.StreamReader) -> PeerCopy:
    copy = PeerCopy(party)
    frames = FrameReader(MAX_PART)
    async with asyncio.timeout(ANSWER_TIMEOUT):
        while True:
            frame = frames.next_frame()
            if frame is None:
                data = await reader.read(1 << 16)
                if not data:
                    raise ConnectionError("the peer closed the connection (a node standing by, or an older version?)")
                frames.feed(data)
                continue
            kind, fields = frame
            if kind is FrameType.ERROR:
                raise RemoteProtocolError(str(fields.get("code")), str(fields.get("detail")))
            if kind is not FrameType.RECOVERY:
                raise RemoteProtocolError("unexpected-frame", f"expected a recovery answer, got {kind}")
            part = fields.get("part")
            if part == "end":
                return copy
            _take_part(copy, part, fields)


def _take_part(copy: PeerCopy, part: object, fields: dict[str, object]) -> None:
    items = fields.get("items")
    copy.taken += sum(len(v) for v in fields.values() if isinstance(v, bytes))
    copy.taken += sum(len(i) for i in items if isinstance(i, bytes)) if isinstance(items, list) else 0
    if copy.taken > MAX_ANSWER:
        raise RemoteProtocolError("answer-too-large", f"{copy.party} sent more than {MAX_ANSWER} bytes")
    if part == "head":
        note = fields.get("note")
        copy.note = note if isinstance(note, str) else None
    elif part == "leaves":
        first, hashes = fields.get("first"), fields.get("hashes")
        if not (isinstance(first, int) and isinstance(hashes, bytes) and len(hashes) % 32 == 0):
            raise RemoteProtocolError("malformed-frame", "leaves need an integer first and 32-byte hashes")
        copy.leaves |= {first + n: hashes[32 * n : 32 * n + 32] for n in range(len(hashes) // 32)}
    elif part == "objects":
        items = fields.get("items")
        if not (isinstance(items, list) and all(isinstance(i, bytes) for i in items)):
            raise RemoteProtocolError("malformed-frame", "objects are a list of byte strings")
        copy.objects += [bytes(i) for i in items if isinstance(i, bytes)]
    else:
        raise RemoteProtocolError("malformed-frame", f"unknown part {part!r}")


# -- checking what they said --------------------------------------------------------------------


async def _keys(config: NodeConfig, store: Store, peers: list[PeerRecord]) -> dict[str, KeySet]:
    """Every key that may have signed what the peers give back: ours and theirs, retired too."""
    found: dict[str, list[VerifyKey]] = {config.party: [config.signing_key().verify_key]}
    for peer in peers:
        found[peer.party] = [VerifyKey(peer.sign_key)]
    for retired in await store.retired_keys():
        found.setdefault(retired.party, []).insert(0, VerifyKey(retired.sign_key))
    return {party: KeySet(tuple(keys)) for party, keys in found.items()}


def _witnessed(
    origin: str,
    ours: KeySet,
    copies: Iterable[PeerCopy],
    frontier: tuple[int, list[bytes]],
    problems: list[str],
) -> tuple[dict[int, bytes], dict[str, tuple[int, bytes, str]]]:
    """The leaf hashes the witnesses cosigned, each copy's taken only if they make, on top of our
    copy's tree, the root of the checkpoint of ours it holds (signed by one of our keys); and
    those checkpoints. Two witnesses whose checked leaves differ show that our log forked."""
    verifiers = [Ed25519Verifier(origin, key) for key in ours.keys]
    merged: dict[int, bytes] = {}
    notes: dict[str, tuple[int, bytes, str]] = {}
    for copy in copies:
        if copy.note is None:
            continue
        try:
            checkpoint, signed_by = open_checkpoint(copy.note, verifiers)
        except EncodingError as exc:
            problems.append(f"{copy.party} holds a checkpoint of our log that does not verify ({exc}): not used")
            continue
        if not signed_by:
            problems.append(f"{copy.party} holds a checkpoint of our log that none of our keys signed: not used")
            continue
        start = frontier[0]
        leaves = [copy.leaves.get(i) for i in range(start, checkpoint.size)]
        # (A checkpoint within our copy is checked against our own tree when it is put back.)
        if checkpoint.size > start and not _makes_root(frontier, leaves, checkpoint.root_hash):
            problems.append(f"the leaf hashes {copy.party} gave do not make our checkpoint it holds: not used")
            continue
        notes[copy.party] = (checkpoint.size, checkpoint.root_hash, copy.note)
        for index, leaf in enumerate(leaves, start):
            assert leaf is not None
            if merged.setdefault(index, leaf) != leaf:
                raise StoreError(
                    f"two witnesses cosigned different entries at position {index} of our log, each under our"
                    " signature: our log forked before the loss; nothing was changed. Keep both stores and"
                    " investigate"
                )
    return merged, notes


def _makes_root(frontier: tuple[int, list[bytes]], leaves: list[bytes | None], root: bytes) -> bool:
    grown = Frontier.of(*frontier)
    for leaf in leaves:
        if leaf is None:
            return False
        grown.append(leaf)
    return grown.root() == root


def _verified(party: str, keys: dict[str, KeySet], copies: Iterable[PeerCopy], problems: list[str]) -> list[Piece]:
    pieces: dict[bytes, Piece] = {}
    for copy in copies:
        refused = 0
        for raw in copy.objects:
            try:
                piece = _piece(raw, party, copy.party, keys)
            except (EncodingError, SignatureError, KeyError, ValueError, TypeError):
                refused += 1
                continue
            if piece is not None:
                pieces[piece.leaf] = piece
        if refused:
            problems.append(f"{refused} object(s) from {copy.party} did not verify and were not used")
    return list(pieces.values())


def _piece(raw: bytes, party: str, peer: str, keys: dict[str, KeySet]) -> Piece | None:
    """The object opened and checked, or None for one that never enters our log; raises for one
    that is not what it claims."""
    outer = cbor.decode(raw)
    kind = outer[0] if isinstance(outer, list) and outer else None
    if kind not in KINDS:
        raise EncodingError("not a signed object")
    opened = open_signed(raw, str(kind))
    sender, recipient = opened.fields.get("from"), opened.fields.get("to")
    if not (isinstance(sender, str) and isinstance(recipient, str) and {sender, recipient} == {party, peer}):
        raise EncodingError("not exchanged between us and this peer")
    opened.verify(keys[sender])
    names: tuple[tuple[int, bytes, int], ...] = ()
    after: tuple[bytes, ...] = ()
    if kind == "envelope":
        envelope = Envelope.from_opened(opened)
        time_ms = envelope.sent_ms
        after = () if envelope.reply_to is None else (envelope.reply_to,)
    elif kind == "receipt":
        receipt = Receipt.from_opened(opened)
        time_ms, names = receipt.stored_ms, tuple((e.seq, e.envelope_id, e.index) for e in receipt.entries)
        after = tuple(e.envelope_id for e in receipt.entries)
    else:
        rejection = Rejection.from_opened(opened)
        if sender == peer and not rejection.consumed:
            return None  # we kept that number in flight and logged nothing (dispatch.py): so again
        time_ms, names = rejection.at_ms, ((rejection.seq or 0, rejection.envelope_id, -1),)
        after = (rejection.envelope_id,)
    return Piece(raw, PieceKind(kind), sender, recipient, time_ms, opened.id, names, after)


# -- the store operations that put it back ------------------------------------------------------


def _replay(config: NodeConfig, step: Step) -> Replay:
    pieces, index = step.pieces, step.index
    first = open_signed(pieces[0].raw, pieces[0].kind.value)
    if step.kind is StepKind.SENT:
        envelope = Envelope.from_opened(first)
        return ("sent", (_sent_again(config, envelope, first.raw, first.id), index))
    if step.kind is StepKind.RECEIPTED:
        receipt = Receipt.from_opened(first)
        delivered = [(e.seq, e.index) for e in receipt.entries]
        return ("receipted", (receipt.sender, delivered, first.raw, receipt.stored_ms, index))
    if step.kind is StepKind.REJECTED:
        rejection = Rejection.from_opened(first)
        return ("rejected", (rejection.envelope_id, first.raw, rejection.at_ms, index))
    answer = open_signed(pieces[-1].raw, pieces[-1].kind.value)
    if step.kind is StepKind.STORED:
        receipt = Receipt.from_opened(answer)
        rows = [_inbox_row(config, open_signed(p.raw, "envelope"), receipt.stored_ms) for p in pieces[:-1]]
        raw = answer.raw
        if step.receipt_moved:  # the positions it named are lost: a new receipt names the new ones
            entries = tuple(ReceiptEntry(r.seq, r.envelope_id, index + n) for n, r in enumerate(rows))
            raw = Receipt(config.party, receipt.recipient, receipt.stored_ms, entries).seal(config.signing_key())
        return ("stored", (rows, raw, index))
    rejection = Rejection.from_opened(answer)
    kept = len(pieces) == 2
    envelope_raw = pieces[0].raw if kept else b""
    return (
        "refused",
        (rejection.recipient, rejection.seq, rejection.consumed, rejection.envelope_id, envelope_raw,
         rejection.reason, rejection.detail, answer.raw, rejection.at_ms, index, kept),
    )  # fmt: skip


def _sent_again(config: NodeConfig, envelope: Envelope, raw: bytes, envelope_id: bytes) -> SentAgain:
    policy = config.watch.policy(envelope.recipient)
    return SentAgain(
        number=envelope.number,
        peer=envelope.recipient,
        seq=envelope.seq,
        precedence=envelope.precedence.value,
        marking=envelope.marking,
        kind=envelope.kind,
        kind_version=envelope.kind_version,
        body=cbor.encode(envelope.body),
        reply_to=envelope.reply_to,
        signed_ms=envelope.sent_ms,
        due_ms=policy.due_ms(envelope.sent_ms, envelope.precedence, envelope.kind),
        envelope=raw,
        envelope_id=envelope_id,
        acknowledges=acknowledgement_in(envelope),
    )


def _inbox_row(config: NodeConfig, opened: Opened, received_ms: int) -> InboxRow:
    envelope = Envelope.from_opened(opened)
    due_ms = config.watch.policy(envelope.sender).due_ms(received_ms, envelope.precedence, envelope.kind)
    return received_row(envelope, opened, received_ms, due_ms)


def _report(party: str, start: int, the_plan: Plan, problems: list[str]) -> str:
    first = (
        f"{party}'s store was restored at log size {start} and rebuilt from its peers' copies to size"
        f" {the_plan.end}; positions up to {the_plan.exact_to} hold exactly what the witnesses cosigned."
    )
    said = [first]
    if the_plan.unplaced:
        said.append(
            f"{len(the_plan.unplaced)} envelope(s) from peers had no receipt of ours: the peers send them again."
        )
    said += problems or ["Nothing was lost."]
    return " ".join(said)
