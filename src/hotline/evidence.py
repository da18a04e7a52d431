"""Evidence from the co-signed transcript, for people who trust neither node: the thin I/O shell
behind `hotline log checkpoint`, `hotline evidence`, `hotline verify`, `hotline log export` and
`hotline log audit`.

Everything here reads the node's store through the ``Store`` interface, opened read-only, so it
works whether the node runs or not and writes nothing; `verify` reads only the evidence
directory. The store is asynchronous and these functions are not: each runs its reading on an
event loop of its own (``_read``). All the checking is done by the pure
``hotline.log`` functions, which follow the C2SP specifications: what `evidence` writes is a
standard tlog-proof, signed note and verifier keys, and `log export` writes a standard tlog-tiles
tree, so that tools other than ours can check them.
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
from collections.abc import AsyncGenerator, Awaitable, Callable, Coroutine, Sequence
from contextlib import aclosing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from hotline.crypto import VerifyKey
from hotline.envelope import open_signed, parse_message_key
from hotline.errors import EncodingError, HotlineError, NotFoundError, StoreError
from hotline.keybook import PartyKeys, key_book
from hotline.log import (
    Checkpoint,
    CosignatureVerifier,
    Ed25519Verifier,
    Frontier,
    Signature,
    SubtreeHash,
    TlogProof,
    encode_bundle,
    key_tag,
    leaf_hash,
    open_note,
    origin_for,
    parse_note,
    tile_bytes,
    tiles_for_size,
    verify_cosignature,
    witness_for,
)
from hotline.node import load_config
from hotline.storage import Evidence, Store, StoredCheckpoint, open_store

T = TypeVar("T")
_PAGE = 1024  # entries or hashes read per call when going through the whole log


class EvidenceError(HotlineError):
    """Evidence that does not verify, or cannot be produced; the message says which and why."""


def read_store(directory: Path, read: Callable[[Store], Awaitable[T]]) -> T:
    """What ``read`` finds in the node's store, opened read-only (the node may be running)."""
    location: Path | str = directory / "store.db"
    if (directory / "config.toml").exists():
        location = load_config(directory).store_location  # a party's nodes may share a database
    if isinstance(location, Path) and not location.exists():
        raise StoreError(f"{directory} holds no store (no store.db): is it a node directory?")

    async def opened() -> T:
        store = open_store(location, read_only=True)
        try:
            return await read(store)
        finally:
            await store.close()

    return _run(opened())


def _run(reading: Coroutine[Any, Any, T]) -> T:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(reading)
    # Called from a coroutine: the store wants a loop of its own, so it gets a thread of its own.
    # The caller's loop waits, as it would for any blocking read.
    with concurrent.futures.ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, reading).result()


def _identity(directory: Path) -> str:
    return load_config(directory).party


def _ed25519_for(party: PartyKeys, signatures: Sequence[Signature]) -> list[Ed25519Verifier]:
    """Of a party's keys, each that made one of ``signatures`` of its log (by key ID): both of
    them, on a checkpoint signed while the party rotated."""
    origin = origin_for(party.party, party.tag)
    made = {s.key_id for s in signatures if s.name == origin}
    verifiers = [Ed25519Verifier(origin, VerifyKey(key)) for key in reversed(party.keys)]
    return [v for v in verifiers if v.key_id in made]


def _cosigner_for(party: PartyKeys, line: str) -> CosignatureVerifier:
    """The witness's key that made its cosignature ``line`` (by key ID; else its current key)."""
    name = witness_for(party.party, party.tag)
    wanted = Signature.parse_line(line.removesuffix("\n")).key_id
    verifiers = [CosignatureVerifier(name, VerifyKey(key)) for key in reversed(party.keys)]
    return next((v for v in verifiers if v.key_id == wanted), verifiers[0])


# -- the latest checkpoint --------------------------------------------------------------------


def latest(directory: Path) -> StoredCheckpoint:
    checkpoint = read_store(directory, lambda store: store.latest_checkpoint())
    if checkpoint is None:
        raise NotFoundError("no checkpoint yet: the node signs one within seconds of its log growing")
    return checkpoint


# -- evidence for one message -----------------------------------------------------------------


def _fresh(out: Path) -> None:
    """Evidence is never mixed with files already there: ``out`` must be new or empty."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise EvidenceError(f"{out} already exists and is not empty; name a new directory")


def write_evidence(directory: Path, message: str, out: Path) -> tuple[int, StoredCheckpoint]:
    """Write ``entry``, ``proof.tlog-proof`` and ``keys`` for a message into ``out``."""
    _fresh(out)
    party, found, book = read_store(directory, lambda store: _evidence_of(store, directory, message))
    proof = TlogProof(found.index, found.hashes, found.checkpoint.cosigned_note)
    ours = book[party]
    log_keys = _ed25519_for(ours, parse_note(found.checkpoint.note).signatures)
    if not log_keys:
        raise EvidenceError(f"checkpoint {found.checkpoint.size} is signed by none of {party}'s keys known here")
    verifiers: list[Ed25519Verifier | CosignatureVerifier] = [*log_keys]
    verifiers += [_cosigner_for(book[witness], line) for witness, line in found.checkpoint.cosignatures]
    opened = open_signed(found.entry, "envelope")
    sender = book.get(str(opened.fields.get("from")))
    if sender is not None:  # the key that signed the envelope itself
        signer = next((k for k in reversed(sender.keys) if _signs(opened, k)), sender.current)
        verifiers.append(Ed25519Verifier(origin_for(sender.party, sender.tag), VerifyKey(signer)))
    # A key that is not its party's first is proven by the party's rotation envelopes.
    rotations = [r for v in verifiers for r in _chain_of(book, v)]
    out.mkdir(parents=True, exist_ok=True)
    (out / "entry").write_bytes(found.entry)
    (out / "proof.tlog-proof").write_text(proof.encode())
    (out / "keys").write_text("".join(f"{key}\n" for key in dict.fromkeys(v.key_string() for v in verifiers)))
    if rotations:
        (out / "rotations").write_text("".join(f"{_b64(r)}\n" for r in dict.fromkeys(rotations)))
    return found.index, found.checkpoint


def _signs(opened: Any, key: bytes) -> bool:
    try:
        opened.verify(VerifyKey(key))
    except EncodingError:
        return False
    return True


def _chain_of(book: dict[str, PartyKeys], verifier: Ed25519Verifier | CosignatureVerifier) -> tuple[bytes, ...]:
    _, _, rest = verifier.name.partition("/")
    party, _, tag = rest.partition("/")
    keys = book.get(party)
    if keys is None or key_tag(verifier.key.raw) == tag:
        return ()
    return keys.rotations


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


async def _evidence_of(store: Store, directory: Path, message: str) -> tuple[str, Evidence, dict[str, PartyKeys]]:
    """Our party, the message's entry with its proof, and every party's keys known here."""
    party = _identity(directory)
    found = await store.evidence(await _log_index(store, party, message))
    return party, found, await key_book(store, directory)


async def _log_index(store: Store, party: str, message: str) -> int:
    """Where a message (serial or envelope id) sits in our transcript."""
    try:
        named = parse_message_key(message)
    except ValueError as exc:
        raise NotFoundError(str(exc)) from None
    if isinstance(named, bytes):
        positions = await store.log_positions(envelope_id=named)
    elif named[0] == party:
        positions = await store.log_positions(sent=named[1])
    else:
        positions = await store.log_positions(received=named)
    if not positions:
        raise NotFoundError(f"no signed message {message} is stored here (a queued one is not in the log yet)")
    if positions[0] is None:
        raise NotFoundError(f"{message} was stored before this version kept log positions; see `hotline log audit`")
    return positions[0]


# -- export and audit -------------------------------------------------------------------------


def export(directory: Path, out: Path) -> StoredCheckpoint:
    """Write the log as C2SP tlog-tiles under ``out``: checkpoint, hash tiles, entry bundles."""
    _fresh(out)
    return read_store(directory, lambda store: _export(store, out))


async def _export(store: Store, out: Path) -> StoredCheckpoint:
    checkpoint = await store.latest_checkpoint()
    if checkpoint is None:
        raise NotFoundError("no checkpoint yet: nothing to export")
    for tile in tiles_for_size(checkpoint.size):
        hashes = await store.tree_hashes(tile.merkle_level, tile.first_hash, tile.width)
        _write(out / tile.path(), tile_bytes(tile, _stored(dict(hashes))))
        if tile.level == 0:
            entries = await store.transcript_entries(tile.start, tile.end - tile.start)
            _write(out / tile.entries_path(), encode_bundle([obj for index, obj in entries if index < tile.end]))
    _write(out / "checkpoint", checkpoint.cosigned_note.encode())
    return checkpoint


def _stored(hashes: dict[int, bytes]) -> SubtreeHash:
    """The hashes read for one tile, as the ``SubtreeHash`` that ``tile_bytes`` asks."""

    def get_hash(level: int, index: int) -> bytes:
        if index not in hashes:
            raise StoreError(f"the transcript tree lacks the subtree hash ({level}, {index})")
        return hashes[index]

    return get_hash


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


@dataclass
class AuditReport:
    entries: int = 0
    checkpoints: int = 0
    cosignatures: int = 0
    positions: int = 0
    problems: list[str] = field(default_factory=list)


def audit(directory: Path) -> AuditReport:
    """Recompute the whole tree from the stored entries and check everything stored against it."""
    return read_store(directory, lambda store: _audit(store, directory))


async def _audit(store: Store, directory: Path) -> AuditReport:
    report = AuditReport()
    book = await key_book(store, directory)
    ours = book[_identity(directory)]
    origin = origin_for(ours.party, ours.tag)
    # Our checkpoints bear whichever of our keys signed them (both while we rotated).
    log_keys = [Ed25519Verifier(origin, VerifyKey(key)) for key in ours.keys]
    wanted = {c.size: c for c in await store.checkpoints()}
    frontier = Frontier()
    entries = _paged(store.transcript_entries)
    leaves = _paged(lambda start, limit: store.tree_hashes(0, start, limit))
    async with aclosing(entries), aclosing(leaves):
        async for index, obj in entries:
            if index != frontier.size:
                report.problems.append(f"the transcript skips from entry {frontier.size} to {index}")
                break
            leaf = leaf_hash(obj)
            leaf_row = await anext(leaves, None)
            if leaf_row is None or leaf_row[0] != index or leaf_row[1] != leaf:
                report.problems.append(f"entry {index}: the stored tree does not hold its hash (entry changed?)")
            frontier.append(leaf)
            if frontier.size in wanted:
                _check_checkpoint(wanted.pop(frontier.size), frontier.root(), origin, log_keys, book, report)
    report.entries = frontier.size
    for size in sorted(wanted):
        report.problems.append(f"checkpoint {size} is beyond the {frontier.size} entries stored (truncated?)")
    # Each message's recorded log position holds exactly that message's envelope.
    report.positions, wrong = await store.check_positions()
    report.problems += [_misplaced(table, index) for table, index in wrong]
    return report


def _misplaced(table: str, index: int | None) -> str:
    if table != "receipts":
        return f"{table} says entry {index} is its envelope, and it is not"
    if index is None:
        return "a stored receipt names no transcript entry (damaged before it was given one)"
    return f"the receipt stored for entry {index} is not that entry (the stored copy is damaged)"


async def _paged(
    read: Callable[[int, int], Awaitable[list[tuple[int, bytes]]]],
) -> AsyncGenerator[tuple[int, bytes], None]:
    """Every (index, bytes) row that ``read(start, limit)`` gives from index 0 on, a page at a time."""
    start = 0
    while rows := await read(start, _PAGE):
        for row in rows:
            yield row
        start = rows[-1][0] + 1


def _check_checkpoint(
    checkpoint: StoredCheckpoint,
    root: bytes,
    origin: str,
    keys: list[Ed25519Verifier],
    book: dict[str, PartyKeys],
    report: AuditReport,
) -> None:
    report.checkpoints += 1
    if checkpoint.root != root:
        report.problems.append(f"checkpoint {checkpoint.size}: its root is not the root of the stored entries")
    try:
        body = Checkpoint.parse(open_note(checkpoint.note, keys).text)
    except EncodingError as exc:
        report.problems.append(f"checkpoint {checkpoint.size}: our signature does not verify: {exc}")
        return
    if (body.origin, body.size, body.root_hash) != (origin, checkpoint.size, checkpoint.root):
        report.problems.append(f"checkpoint {checkpoint.size}: the signed note says something else")
    for witness, line in checkpoint.cosignatures:
        try:
            verifier = _cosigner_for(book[witness], line)
            verify_cosignature(body, Signature.parse_line(line.removesuffix("\n")), verifier)
            report.cosignatures += 1
        except (EncodingError, KeyError) as exc:
            report.problems.append(f"checkpoint {checkpoint.size}: the cosignature of {witness} does not verify: {exc}")
