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
import concurrent.futures
import hashlib
from collections.abc import AsyncGenerator, Awaitable, Callable, Coroutine
from contextlib import aclosing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from hotline.crypto import VerifyKey
from hotline.envelope import Envelope, open_signed, parse_message_key
from hotline.errors import EncodingError, HotlineError, NotFoundError, StoreError
from hotline.log import (
    ALG_COSIGNATURE_V1,
    ALG_ED25519,
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
    log_origin,
    open_note,
    parse_note,
    parse_verifier_key,
    tile_bytes,
    tiles_for_size,
    verify_cosignature,
    verify_tlog_proof,
    witness_name,
)
from hotline.node import load_config
from hotline.storage import Evidence, Store, StoredCheckpoint, open_store

T = TypeVar("T")
_PAGE = 1024  # entries or hashes read per call when going through the whole log


class EvidenceError(HotlineError):
    """Evidence that does not verify, or cannot be produced; the message says which and why."""


def _read(directory: Path, read: Callable[[Store], Awaitable[T]]) -> T:
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


def _identity(directory: Path) -> tuple[str, bytes]:
    from hotline.node import load_config

    config = load_config(directory)
    return config.party, config.signing_key().verify_key.raw


async def _peer_keys(store: Store) -> dict[str, bytes]:
    return {peer.party: bytes(peer.sign_key) for peer in await store.peers()}


# -- the latest checkpoint --------------------------------------------------------------------


def latest(directory: Path) -> StoredCheckpoint:
    checkpoint = _read(directory, lambda store: store.latest_checkpoint())
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
    party, public, found, peers = _read(directory, lambda store: _evidence_of(store, directory, message))
    proof = TlogProof(found.index, found.hashes, found.checkpoint.cosigned_note)
    keys = [Ed25519Verifier(log_origin(party, public), VerifyKey(public)).key_string()]
    sender = open_signed(found.entry, "envelope").fields.get("from")
    for witness, _ in found.checkpoint.cosignatures:
        keys.append(CosignatureVerifier(witness_name(witness, peers[witness]), VerifyKey(peers[witness])).key_string())
    if isinstance(sender, str) and sender in peers:  # the key that signed a received envelope
        keys.append(Ed25519Verifier(log_origin(sender, peers[sender]), VerifyKey(peers[sender])).key_string())
    out.mkdir(parents=True, exist_ok=True)
    (out / "entry").write_bytes(found.entry)
    (out / "proof.tlog-proof").write_text(proof.encode())
    (out / "keys").write_text("".join(f"{key}\n" for key in dict.fromkeys(keys)))
    return found.index, found.checkpoint


async def _evidence_of(store: Store, directory: Path, message: str) -> tuple[str, bytes, Evidence, dict[str, bytes]]:
    """Our party and key, the message's entry with its proof, and the pinned peers' keys."""
    party, public = _identity(directory)
    found = await store.evidence(await _log_index(store, party, message))
    return party, public, found, await _peer_keys(store)


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


# -- verifying evidence offline ---------------------------------------------------------------


@dataclass
class Verified:
    origin: str
    size: int
    index: int
    log_key: str
    cosigned_by: list[str] = field(default_factory=list)
    message: dict[str, object] = field(default_factory=dict)
    envelope_signature: str = ""
    checked_against: str = ""
    key_hashes: dict[str, str] = field(default_factory=dict)  # SHA-256 of each public key, to compare


def parties_known_at(directory: Path) -> dict[str, bytes]:
    """The signing keys a node trusts: its own, and each pinned peer's."""
    party, public = _identity(directory)
    return {party: public, **_read(directory, _peer_keys)}


def _check_key(verifier: Ed25519Verifier | CosignatureVerifier, trusted: dict[str, bytes] | None) -> str:
    """A key's name must be the one our scheme gives its key (party and key tag), and, when the
    reader says whom to trust, the key must be that party's pinned key. Returns the party."""
    public = verifier.key.raw
    kind, _, rest = verifier.name.partition("/")
    party, _, tag = rest.partition("/")
    if kind not in ("hotline.transcript", "hotline.witness") or tag != key_tag(public):
        raise EvidenceError(f"the key named {verifier.name} is not the key that name stands for")
    if trusted is not None and trusted.get(party) != public:
        raise EvidenceError(f"the key named {verifier.name} is not the key pinned for {party} at the node given")
    return party


def verify_evidence(folder: Path, trusted: dict[str, bytes] | None = None) -> Verified:
    """Check evidence written by `hotline evidence`, with nothing but the files in ``folder``
    (and, if given, the parties' keys to trust, from a node directory)."""
    try:
        entry = (folder / "entry").read_bytes()
        proof_text = (folder / "proof.tlog-proof").read_text()
        key_text = (folder / "keys").read_text()
    except FileNotFoundError as exc:
        raise EvidenceError(
            f"missing {Path(str(exc.filename)).name}: evidence is entry, proof.tlog-proof and keys"
        ) from None
    except UnicodeDecodeError:
        raise EvidenceError("proof.tlog-proof or keys is not UTF-8 text") from None
    return check_evidence(entry, proof_text, key_text, trusted)


def check_evidence(entry: bytes, proof_text: str, key_text: str, trusted: dict[str, bytes] | None) -> Verified:
    """The checks themselves, on the three files' contents (pure)."""
    # One key per line, each ended by a newline; nothing else (not even another line break).
    if not key_text.endswith("\n"):
        raise EvidenceError("keys must end with a newline")
    verifiers: list[Ed25519Verifier | CosignatureVerifier] = []
    for number, line in enumerate(key_text[:-1].split("\n"), 1):
        try:
            alg = parse_verifier_key(line).alg
            if alg == ALG_ED25519:
                verifiers.append(Ed25519Verifier.from_key_string(line))
            elif alg == ALG_COSIGNATURE_V1:
                verifiers.append(CosignatureVerifier.from_key_string(line))
            else:
                raise EvidenceError(f"keys line {number}: unknown key type {alg}")
        except EncodingError as exc:
            raise EvidenceError(f"keys line {number}: {exc}") from None
        _check_key(verifiers[-1], trusted)
    try:
        proof = TlogProof.parse(proof_text)
        origin = Checkpoint.parse(parse_note(proof.checkpoint).text).origin
        log_keys = [v for v in verifiers if isinstance(v, Ed25519Verifier) and v.name == origin]
        if not log_keys:
            raise EvidenceError(f"keys holds no key for the log {origin}")
        result = verify_tlog_proof(entry, proof, verifiers, origin=origin)
    except EncodingError as exc:
        raise EvidenceError(f"the proof does not verify: {exc}") from None
    if origin not in result.verified_by:
        raise EvidenceError(f"the checkpoint is not signed by the log's own key {origin}")
    # Evidence says exactly what it claims: every signature on the checkpoint verifies under a
    # key given, and every key given is used, so no part of it can be altered unnoticed.
    for signature in parse_note(proof.checkpoint).signatures:
        if signature.name not in result.verified_by:
            raise EvidenceError(f"the checkpoint carries a signature by {signature.name} that no key given verifies")
    unused = {v.name for v in verifiers} - set(result.verified_by)
    verified = Verified(origin, result.checkpoint.size, result.index, origin)
    verified.checked_against = "pinned keys" if trusted is not None else "the keys in the evidence only"
    verified.key_hashes = {v.name: hashlib.sha256(v.key.raw).hexdigest() for v in verifiers}
    verified.cosigned_by = [name for name in result.verified_by if name != origin]
    sender_key = _describe_entry(entry, verifiers, verified)
    if unused - {sender_key}:
        raise EvidenceError(f"keys holds a key that verifies nothing here: {min(unused - {sender_key})}")
    return verified


def _describe_entry(
    entry: bytes, verifiers: list[Ed25519Verifier | CosignatureVerifier], verified: Verified
) -> str | None:
    """Fill in which message the entry is and check its own signature; returns the name of
    the key that verified it."""
    try:
        opened = open_signed(entry, "envelope")
        envelope = Envelope.from_opened(opened)
    except EncodingError as exc:
        raise EvidenceError(f"the entry is in the log, but it is not a hotline envelope: {exc}") from None
    verified.message = {
        "serial": envelope.serial,
        "from": envelope.sender,
        "to": envelope.recipient,
        "seq": envelope.seq,
        "kind": envelope.kind,
        "precedence": envelope.precedence.value,
        "sent_ms": envelope.sent_ms,
        "envelope_id": opened.id.hex(),
    }
    prefix = f"hotline.transcript/{envelope.sender}/"
    sender_keys = [v for v in verifiers if isinstance(v, Ed25519Verifier) and v.name.startswith(prefix)]
    if not sender_keys:
        verified.envelope_signature = f"not checked: keys holds no key for {envelope.sender}"
        return None
    try:
        opened.verify(sender_keys[0].key)
    except EncodingError as exc:
        raise EvidenceError(
            f"the envelope's own signature does not verify under {envelope.sender}'s key: {exc}"
        ) from None
    verified.envelope_signature = f"signed by {envelope.sender} ({sender_keys[0].name})"
    return sender_keys[0].name


# -- export and audit -------------------------------------------------------------------------


def export(directory: Path, out: Path) -> StoredCheckpoint:
    """Write the log as C2SP tlog-tiles under ``out``: checkpoint, hash tiles, entry bundles."""
    _fresh(out)
    return _read(directory, lambda store: _export(store, out))


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
    return _read(directory, lambda store: _audit(store, directory))


async def _audit(store: Store, directory: Path) -> AuditReport:
    report = AuditReport()
    party, public = _identity(directory)
    origin = log_origin(party, public)
    log_key = Ed25519Verifier(origin, VerifyKey(public))
    peers = await _peer_keys(store)
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
                _check_checkpoint(wanted.pop(frontier.size), frontier.root(), origin, log_key, peers, report)
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
    key: Ed25519Verifier,
    peers: dict[str, bytes],
    report: AuditReport,
) -> None:
    report.checkpoints += 1
    if checkpoint.root != root:
        report.problems.append(f"checkpoint {checkpoint.size}: its root is not the root of the stored entries")
    try:
        body = Checkpoint.parse(open_note(checkpoint.note, [key]).text)
    except EncodingError as exc:
        report.problems.append(f"checkpoint {checkpoint.size}: our signature does not verify: {exc}")
        return
    if (body.origin, body.size, body.root_hash) != (origin, checkpoint.size, checkpoint.root):
        report.problems.append(f"checkpoint {checkpoint.size}: the signed note says something else")
    for witness, line in checkpoint.cosignatures:
        try:
            verifier = CosignatureVerifier(witness_name(witness, peers[witness]), VerifyKey(peers[witness]))
            verify_cosignature(body, Signature.parse_line(line.removesuffix("\n")), verifier)
            report.cosignatures += 1
        except (EncodingError, KeyError) as exc:
            report.problems.append(f"checkpoint {checkpoint.size}: the cosignature of {witness} does not verify: {exc}")
