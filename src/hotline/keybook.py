"""Every signing key each party has had, as a node's store knows them: for evidence that must
verify after keys have changed (``evidence.py``; docs/architecture.md, "Keys that change").

A party's log keeps the name its first key gave it; each later key is proven by the rotation
envelope the key before it signed (``crypto.rotation.follow_chain``), which evidence carries
beside the keys so that it verifies offline.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from hotline.errors import PairingError
from hotline.log import key_tag
from hotline.node import IdentityCard, load_config
from hotline.storage import PeerRecord, Store


@dataclass(frozen=True)
class PartyKeys:
    party: str
    tag: str  # the log's tag: its first key's
    keys: tuple[bytes, ...]  # every signing key it has had, the first first and the current last
    rotations: tuple[bytes, ...]  # the rotation envelopes that chain them (as stored here)
    retired_at: dict[bytes, int] = field(default_factory=dict)  # a retired key: the log size it signed up to

    @property
    def current(self) -> bytes:
        return self.keys[-1]


async def key_book(store: Store, directory: Path) -> dict[str, PartyKeys]:
    """Our own keys and each pinned peer's, with their rotations."""
    config = load_config(directory)
    current = config.signing_key().verify_key.raw
    retired = await store.retired_keys()
    book = {}
    own_old = [k.sign_key for k in retired if k.party == config.party]
    tag = config.keys.log or key_tag(current)
    sizes = {(k.party, k.sign_key): k.retired_size for k in retired if k.retired_size is not None}
    ours = {key: size for (party, key), size in sizes.items() if party == config.party}
    rotations = tuple(await store.rotation_envelopes(None))
    book[config.party] = PartyKeys(config.party, tag, (*own_old, current), rotations, ours)
    for peer in await store.peers():
        old = [k.sign_key for k in retired if k.party == peer.party and k.sign_key != peer.sign_key]
        rotations = tuple(await store.rotation_envelopes(peer.party)) if old else ()
        retired_at = {key: size for (party, key), size in sizes.items() if party == peer.party}
        book[peer.party] = PartyKeys(peer.party, _log_tag(peer), (*old, peer.sign_key), rotations, retired_at)
    return book


def _log_tag(peer: PeerRecord) -> str:
    """The peer's log tag, from its card; its key's own for a record whose card this release
    cannot read (pinned by a test, or damaged: its checks then fail by name, saying so)."""
    try:
        return IdentityCard.parse(peer.card).log_tag
    except PairingError:
        return key_tag(peer.sign_key)
