"""Key rotation, both ways: ours (``hotline keys rotate``) and our peers' (their statements).

docs/architecture.md, "Keys that change", gives the design; ``crypto/rotation.py`` the statement
and its checks; ``keyring.py`` which of our keys signs what meanwhile.

*Ours.* ``rotate`` takes the key the party committed to (``next-signing.key``), makes a new TLS
key and certificate and the key after the new one, writes them to ``rotating/`` in the node
directory (so that a restart resumes the rotation), and queues a ``key_rotation`` envelope to
every peer that is not removed. A peer that receipts it is signed to with the new key from then
on. Once every one has, ``finish``: config.toml names the log (its first key's tag) and commits
to the next key, the new key and certificate take the old ones' places (the old private key is
gone), the TLS contexts present the new certificate, our old key is kept in the key history
(what it signed stays verifiable), and each peer is told (``key_rotation_done``).

*Theirs.* A ``key_rotation`` envelope from a peer is checked before it is stored (``check``);
refused, it is answered with a rejection and raises a latched alarm, and nothing changes.
Followed (``follow``), the new keys are pinned in the same order of store calls as the envelope,
so the peer's receipt is never sent before the new pin is durable; its old key stays accepted
(and its old certificate trusted) until its ``key_rotation_done``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import shutil
import tomllib
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import structlog

from hotline.crypto import KeySet, SigningKey, VerifyKey, generate_signing_key, generate_tls_identity, spki_pin
from hotline.crypto.keys import load_signing_key, signing_key_pem
from hotline.crypto.rotation import RotationRefusedError, RotationStatement, check_rotation, commitment
from hotline.envelope import Envelope, cbor, open_signed, serial
from hotline.errors import ConfigError, EncodingError, PairingError
from hotline.log import key_tag, origin_for
from hotline.node.card import IdentityCard, b64, keys_of, log_tag_of, unb64
from hotline.node.channel import Channel
from hotline.node.config import NEXT_KEY_FILE, NodeConfig, replace_private, write_settings
from hotline.node.intake import SendRequest
from hotline.node.key_settings import KeySettings
from hotline.node.keyring import Keyring
from hotline.node.station import Station
from hotline.storage import AuditEntry, PeerRecord, Queued, RetiredKey

log = structlog.get_logger("hotline.keys")
ROTATING = "rotating"  # the node directory's folder for a rotation under way
Enqueue = Callable[[list[SendRequest]], Awaitable[list[Queued]]]


@dataclasses.dataclass
class Pending:
    """A rotation of ours under way, as ``rotating/`` holds it."""

    new: SigningKey
    statement: RotationStatement
    signature: bytes
    started_ms: int


class Rotation:
    def __init__(
        self,
        station: Station,
        config: NodeConfig,
        keys: Keyring,
        enqueue: Enqueue,
        on_keys_changed: Callable[[NodeConfig, VerifyKey], None],
        spawn: Callable[[Awaitable[Any]], object],
        trust: Callable[[bytes], None],
        distrust: Callable[[bytes], None],
        latch: Callable[[str, str, dict[str, Any]], Awaitable[None]],
    ) -> None:
        self.station = station
        self.config = config
        self.keys = keys
        self.enqueue = enqueue
        self.on_keys_changed = on_keys_changed  # the TLS contexts and the notary follow the new keys
        self.spawn = spawn
        self.trust, self.distrust = trust, distrust  # a rotating peer's TLS certificates, new and old
        self.old_certs: dict[str, bytes] = {}  # per rotating peer: its old certificate, trusted until retired
        self.pending: Pending | None = None
        self._starting = False  # a rotation's files are being written
        self.latch = latch  # a refused rotation's alarm: (peer, subject, facts)
        self.awaiting: dict[str, int] = {}  # per peer: our statement's message number

    @property
    def folder(self) -> Path:
        return self.config.directory / ROTATING

    # -- ours --------------------------------------------------------------------------------

    async def rotate(self, next_key_pem: bytes, by: str) -> dict[str, Any]:
        """Begin rotating to ``next_key_pem`` (the committed next key); what the operator reads."""
        if self.pending is not None or self._starting or self.folder.exists():
            raise PairingError("a key rotation is already under way: it ends once every peer has its statement")
        if self.config.keys.next is None:
            raise PairingError(
                "this party has committed to no next key, so its peers would refuse a rotation: stop the node,"
                " run hotline keys commit, and give each peer the new card (its fingerprint read aloud)"
            )
        if self.config.store:
            raise PairingError(
                "a party of several nodes cannot rotate its keys yet: the new keys would exist on this node only"
            )
        try:
            new = load_signing_key(next_key_pem)
        except (ValueError, EncodingError) as exc:
            raise PairingError(f"the next key is not an Ed25519 signing key in PEM: {exc}") from None
        old = self.keys.current
        if new.verify_key.raw == old.verify_key.raw:
            raise PairingError("the next key is the current signing key")
        if commitment(new.verify_key.raw) != self.config.keys.next:
            raise PairingError(
                "this is not the key the party committed to (its card's next key): the peers would refuse it."
                " Use the next-signing.key made at init or at the last rotation"
            )
        self._starting = True  # no second rotation while this one's files are written
        try:
            return await self._start(old, new, by)
        finally:
            self._starting = False

    async def _start(self, old: SigningKey, new: SigningKey, by: str) -> dict[str, Any]:
        now = self.station.clock.wall_ms()
        tls = generate_tls_identity(self.config.party, dt.datetime.fromtimestamp(now / 1000, dt.UTC))
        upcoming = generate_signing_key()
        statement = RotationStatement(
            party=self.config.party,
            log=self._origin(),
            old_key=old.verify_key.raw,
            new_key=new.verify_key.raw,
            tls_cert=tls.cert_der,
            next_commitment=commitment(upcoming.verify_key.raw),
            log_size=await self.station.store.transcript_size(),
            at_ms=now,
        )
        signature = statement.sign(new)
        # Everything the rotation makes, the key after the new one too, in one folder that exists
        # whole or not at all; the files take their places when the rotation ends.
        _write_folder(self.folder, new, tls.key_pem, tls.cert_pem, statement, signature, now, upcoming)
        await self.station.store.record_audit(
            AuditEntry(now, by, None, "keys-rotate", self.config.party, f"to key {key_tag(new.verify_key.raw)}")
        )
        log.warning("key rotation begun", new_key=key_tag(new.verify_key.raw), by=by)
        await self._begin(Pending(new, statement, signature, now))
        return {
            "new_key": key_tag(new.verify_key.raw),
            "next_key_file": str(self.config.directory / NEXT_KEY_FILE),
            "peers": sorted(self.awaiting),
        }

    async def resume(self) -> None:
        """At start: a rotation of ours left under way by a stop goes on where it stood (one
        that stopped while its files were being moved was finished by ``settle_leftovers``)."""
        pending = _read_folder(self.folder)
        if pending is None:
            return
        log.info("key rotation under way, resumed", new_key=key_tag(pending.new.verify_key.raw))
        await self._begin(pending)

    async def _begin(self, pending: Pending) -> None:
        self.pending = pending
        self.keys.new = pending.new
        body = {"statement": b64(pending.statement.encode()), "signature": b64(pending.signature)}
        tag = key_tag(pending.new.verify_key.raw)
        parties = [p for p, c in sorted(self.station.channels.items()) if c.peer.state != "removed"]
        requests = [
            SendRequest(to=party, kind="key_rotation", body=body, precedence="PRIORITY", by_machine=True,
                        ref=f"key-rotation-{tag}-{party}")
            for party in parties
        ]  # fmt: skip
        queued = await self.enqueue(requests) if requests else []
        self.awaiting = {q.draft.peer: q.number for q in queued}
        delivered = await self.station.store.find_outbox(sorted(self.awaiting.values()))
        for row in delivered:
            if row.state == "delivered":
                self.keys.switched.add(row.peer)
        await self._finish_if_done()

    def receipted(self, party: str, numbers: list[int]) -> None:
        """The dispatcher's receipts: a peer that receipted our statement follows the new key;
        any receipt may be the last one the rotation waited for."""
        if self.pending is None or party not in self.awaiting:
            return
        if self.awaiting[party] in numbers:
            self.keys.switched.add(party)
            log.info("peer follows our new key", peer=party, waiting=self._waiting())
        self.spawn(self._finish_if_done())

    def rejected(self, party: str, number: int, reason: str, detail: str) -> None:
        """A peer refused our statement: the rotation cannot end without it, and people must know."""
        if self.pending is None or self.awaiting.get(party) != number:
            return
        log.critical("a peer refused our key rotation: it cannot end", peer=party, reason=reason, detail=detail)
        facts = {"reason": reason, "detail": detail, "ours": True}
        self.spawn(self.latch(party, serial(self.config.party, number), facts))

    def _waiting(self) -> list[str]:
        """The peers the rotation waits for: to receipt our statement, or to receipt every
        envelope we signed to them with the old key (after the end they would not verify)."""
        channels = self.station.channels
        return sorted(
            party
            for party in self.awaiting
            if party in channels
            and channels[party].peer.state != "removed"
            and (party not in self.keys.switched or self._old_in_flight(channels[party]))
        )

    def _old_in_flight(self, channel: Channel) -> bool:
        old = self.keys.current.verify_key
        for item in channel.ledger.in_flight():
            try:
                open_signed(item.envelope, "envelope").verify(old)
            except EncodingError:
                continue
            return True
        return False

    async def _finish_if_done(self) -> None:
        if self.pending is None or self._waiting():
            return
        pending, self.pending = self.pending, None  # one finish, however many receipts call it
        card = self.config.card()  # the old card, read before the keys change
        tag = self._tag()
        # The old key signs nothing from here on (not even a checkpoint), so the size read after
        # bounds every checkpoint it signed: the size a verifier holds it to.
        old = self.keys.finished()
        size = await self.station.store.transcript_size()
        now = self.station.clock.wall_ms()
        # Durable before any file moves: the peers' notices (signed with the new key when they
        # leave) and our old key in the history. A stop from here on finishes at the next start.
        done = {"retired": b64(old.verify_key.raw), "log_size": size}
        parties = [p for p in sorted(self.awaiting) if self.station.channels[p].peer.state != "removed"]
        requests = [
            SendRequest(to=party, kind="key_rotation_done", body=done, precedence="PRIORITY", by_machine=True,
                        ref=f"key-rotation-done-{key_tag(old.verify_key.raw)}-{party}")
            for party in parties
        ]  # fmt: skip
        if requests:
            await self.enqueue(requests)
        await self.station.store.add_retired_key(
            RetiredKey(self.config.party, old.verify_key.raw, card.tls_cert, card.line(), pending.started_ms, now, size)
        )
        keys = KeySettings(pending.statement.next_commitment, tag)
        _settle_files(self.config.directory, keys)
        self.config = dataclasses.replace(self.config, keys=keys)
        self.on_keys_changed(self.config, old.verify_key)
        self.awaiting = {}
        log.warning("keys rotated: the old signing key is retired", retired_at_size=size)

    def _tag(self) -> str:
        return self.config.keys.log or key_tag(self.keys.current.verify_key.raw)

    def _origin(self) -> str:
        return origin_for(self.config.party, self._tag())

    # -- theirs ------------------------------------------------------------------------------

    def check(self, channel: Channel, envelope: Envelope) -> RotationStatement | RotationRefusedError:
        """A peer's rotation statement, checked against what we pinned for it."""
        try:
            data = unb64(str(envelope.body["statement"]), "statement")
            signature = unb64(str(envelope.body["signature"]), "signature")
        except (KeyError, PairingError) as exc:
            return RotationRefusedError("malformed", str(exc))
        card = IdentityCard.parse(channel.peer.card)
        origin = origin_for(channel.party, card.log_tag)
        try:  # delivered again (a restart, or replayed): already followed, nothing to do
            again = RotationStatement.decode(data)
            if again.new_key == channel.peer.sign_key and again.old_key in {k.raw for k in keys_of(channel.key)}:
                return again
        except RotationRefusedError:
            pass
        try:
            statement = check_rotation(data, signature, channel.party, origin, channel.peer.sign_key, card.next_key)
        except RotationRefusedError as refused:
            return refused
        for other in self.station.channels.values():
            if other is channel:
                continue
            if other.peer.sign_key == statement.new_key or spki_pin(other.peer.tls_cert) == spki_pin(
                statement.tls_cert
            ):
                return RotationRefusedError("taken", f"its new keys are already pinned for {other.party}")
        return statement

    def follow(self, channel: Channel, statement: RotationStatement) -> None:
        """Pin the peer's new keys beside its old ones (store calls made now, before the
        envelope's own, so they are durable before it is receipted)."""
        if statement.new_key == channel.peer.sign_key:
            return  # followed already
        now = self.station.clock.wall_ms()
        old = channel.peer
        card = IdentityCard.parse(old.card)
        new_card = dataclasses.replace(
            card, sign_key=statement.new_key, tls_cert=statement.tls_cert, next_key=statement.next_commitment,
            log=log_tag_of(old),
        )  # fmt: skip
        record = dataclasses.replace(old, sign_key=statement.new_key, tls_cert=statement.tls_cert, card=new_card.line())
        store = self.station.store
        # Made now, not in a task: the store applies its calls in the order they are made.
        self.spawn(store.add_retired_key(RetiredKey(old.party, old.sign_key, old.tls_cert, old.card, now)))
        self.spawn(store.add_peer(record))
        _accept(channel, record, (*keys_of(channel.key), VerifyKey(statement.new_key)))
        self.old_certs[channel.party] = old.tls_cert
        self.trust(statement.tls_cert)
        log.warning("peer rotated its keys: its new keys are pinned", peer=channel.party,
                    new_key=key_tag(statement.new_key), fingerprint=new_card.fingerprint)  # fmt: skip
        self.station.bulletin.post("links")

    def retire(self, channel: Channel, envelope: Envelope) -> bytes | None:
        """A peer's ``key_rotation_done``: its old key is no longer accepted. The key retired
        (None if it names no key of the peer's we still accept)."""
        try:
            retired = unb64(str(envelope.body["retired"]), "retired key")
            size = int(envelope.body["log_size"])
        except (KeyError, ValueError, PairingError):
            return None
        current = VerifyKey(channel.peer.sign_key)
        if retired == current.raw or retired not in {k.raw for k in keys_of(channel.key)}:
            return None
        _accept(channel, channel.peer, (current,))
        self.spawn(self.station.store.retire_key(channel.party, retired, self.station.clock.wall_ms(), size))
        old_cert = self.old_certs.pop(channel.party, None)
        if old_cert is not None:
            self.distrust(old_cert)
        log.info("peer retired its old key", peer=channel.party, retired=key_tag(retired), at_size=size)
        return retired


def _accept(channel: Channel, record: PeerRecord, keys: tuple[VerifyKey, ...]) -> None:
    """The keys the peer's signatures are checked against from now on, on live links too: its
    answers, by every key it has had here since this start (see ``PeerSession.answer_key``)."""
    channel.peer = record
    channel.key = keys[0] if len(keys) == 1 else KeySet(keys)
    answered = {k.raw: k for k in (*keys_of(channel.answer_key or channel.key), *keys)}
    channel.answer_key = KeySet(tuple(answered.values()))
    for link in channel.links.values():
        link.session.peer_key = channel.key
        link.session.answer_key = channel.answer_key


# -- the files of a rotation -------------------------------------------------------------------


def _write_folder(folder: Path, new: SigningKey, tls_key: bytes, tls_cert: bytes, statement: RotationStatement,
                  signature: bytes, started_ms: int, upcoming: SigningKey) -> None:  # fmt: skip
    """``rotating/``, written whole under a temporary name and renamed: it exists complete or not at all."""
    partial = folder.with_name(f".{folder.name}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(mode=0o700)
    replace_private(partial / "signing.key", signing_key_pem(new))
    replace_private(partial / "tls.key", tls_key)
    replace_private(partial / "tls.crt", tls_cert)
    replace_private(partial / NEXT_KEY_FILE, signing_key_pem(upcoming))
    record = cbor.encode({"statement": statement.encode(), "signature": signature, "started": started_ms})
    replace_private(partial / "statement.cbor", record)
    partial.rename(folder)
    _sync(folder.parent)


def _read_folder(folder: Path) -> Pending | None:
    if not folder.exists():
        return None
    try:
        record = cbor.decode((folder / "statement.cbor").read_bytes())
        statement = RotationStatement.decode(record["statement"])
        new = load_signing_key((folder / "signing.key").read_bytes())
    except (OSError, KeyError, TypeError, ValueError, EncodingError) as exc:
        raise ConfigError(
            f"{folder} holds a key rotation that cannot be read ({exc}): restore it or remove it"
        ) from None
    return Pending(new, statement, record["signature"], record["started"])


def _settle_files(directory: Path, keys: KeySettings) -> None:
    """The rotation's end on disk. config.toml first (naming the log and committing to the next
    key): from then on the rotation counts as ended, and ``settle_leftovers`` completes the rest
    at the next start if a stop interrupts it. Then the new files replace the old (the key after
    the new one where the consumed one was), and ``rotating/`` goes."""
    raw = tomllib.loads((directory / "config.toml").read_text())
    assert keys.next is not None
    raw["keys"] = {**raw.get("keys", {}), "log": keys.log, "next": b64(keys.next)}
    write_settings(directory, raw)
    _move_into_place(directory)


def _move_into_place(directory: Path) -> None:
    folder = directory / ROTATING
    for name in ("tls.crt", "tls.key", NEXT_KEY_FILE, "signing.key"):
        if (folder / name).exists():
            (folder / name).replace(directory / name)
    _sync(directory)
    shutil.rmtree(folder)
    _sync(directory)


def settle_leftovers(directory: Path) -> bool:
    """Before a node reads its keys: a rotation that a stop interrupted while its files were
    being moved (config.toml already names its next key) is completed now; one interrupted
    earlier is left to ``Rotation.resume``. Whether one was completed."""
    folder = directory / ROTATING
    if not folder.exists():
        return False
    pending = _read_statement(folder)
    if pending is None:
        return False
    settings = tomllib.loads((directory / "config.toml").read_text()).get("keys", {})
    if settings.get("next") != b64(pending.next_commitment):
        return False
    _move_into_place(directory)
    log.warning("a key rotation interrupted while its files were moved is completed")
    return True


def _read_statement(folder: Path) -> RotationStatement | None:
    try:
        record = cbor.decode((folder / "statement.cbor").read_bytes())
        return RotationStatement.decode(record["statement"])
    except (OSError, KeyError, TypeError, EncodingError) as exc:
        raise ConfigError(
            f"{folder} holds a key rotation that cannot be read ({exc}): restore it or remove it"
        ) from None


def _sync(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


__all__ = ["ROTATING", "Rotation"]
