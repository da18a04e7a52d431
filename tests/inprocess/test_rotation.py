"""A key rotation between two nodes on one manual clock (issue #17, item 1): SACEUR rotates to the
key its card committed to; GENSTAB follows without a ceremony; traffic carries on both ways; the
rotation ends with the old key retired at both ends, and survives restarts."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import pytest

from hotline.crypto import KeySet, load_signing_key
from hotline.evidence import EvidenceError, audit, write_evidence
from hotline.log import key_tag
from hotline.testing import InProcessNetwork, wait_until
from hotline.verification import parties_known_at, verify_evidence
from tests.inprocess.helpers import arrived, in_state, send, text


def next_key(network: InProcessNetwork, party: str) -> bytes:
    return (network[party].config.directory / "next-signing.key").read_bytes()


async def test_a_rotation_is_followed_without_a_ceremony_and_ends_with_the_old_key_retired(
    pair: InProcessNetwork, tmp_path: Path
) -> None:
    saceur, genstab = pair
    directory = saceur.config.directory
    old = load_signing_key((directory / "signing.key").read_bytes()).verify_key.raw
    committed = load_signing_key(next_key(pair, "SACEUR")).verify_key.raw
    before = await send(saceur, text("GENSTAB", "Before the rotation."))
    await in_state(saceur, f"SACEUR-{before.number:06d}", "delivered")

    answer = await saceur.desk.rotate_keys(next_key(pair, "SACEUR"), "Maj. J. Hale")
    assert answer["new_key"] == key_tag(committed)
    assert answer["peers"] == ["GENSTAB"]
    # Traffic both ways while the rotation runs.
    during = await send(saceur, text("GENSTAB", "During the rotation."))
    back = await send(genstab, text("SACEUR", "Answer during the rotation."))
    await arrived(genstab, f"SACEUR-{during.number:06d}")
    await arrived(saceur, f"GENSTAB-{back.number:06d}")

    async def ended() -> bool:
        assert genstab.node is not None
        channel = genstab.node.channels["SACEUR"]
        return saceur.desk.rotation_under_way() is None and not isinstance(channel.key, KeySet)

    await wait_until(ended, "the rotation to end at both ends")
    assert genstab.node is not None
    pinned = genstab.node.channels["SACEUR"].peer
    assert pinned.sign_key == committed, "GENSTAB pins SACEUR's new key"
    assert genstab.desk.peers()[0].card == saceur.desk.identity().line(), "and its new card, word for word"
    assert load_signing_key((directory / "signing.key").read_bytes()).verify_key.raw == committed
    assert not (directory / "rotating").exists()
    assert saceur.config.directory.joinpath("config.toml").read_text().count(key_tag(old)) == 1, (
        "the log keeps its name"
    )
    retired = await genstab.node.store.retired_keys()
    assert [(k.party, k.sign_key, k.retired_size is not None) for k in retired] == [("SACEUR", old, True)]

    after = await send(saceur, text("GENSTAB", "After the rotation."))
    reply = await send(genstab, text("SACEUR", "Answer after the rotation."))
    await arrived(genstab, f"SACEUR-{after.number:06d}")
    await arrived(saceur, f"GENSTAB-{reply.number:06d}")

    # Each witnesses the other's log under the new key: SACEUR's newest checkpoint is cosigned.
    assert saceur.node is not None
    checkpoint = await saceur.node.notary.checkpoint_now()
    assert checkpoint is not None

    async def cosigned() -> bool:
        assert saceur.node is not None
        return await saceur.node.store.last_cosigned("GENSTAB") == checkpoint.size

    await wait_until(cosigned, "GENSTAB to cosign SACEUR's checkpoint signed by the new key")
    # The witness keeps the leaf hashes the cosigned root commits to: what SACEUR's log holds,
    # position by position, should SACEUR's store ever go back in time.
    assert genstab.node is not None
    kept = await genstab.node.store.witnessed_leaves("SACEUR", 0, 100_000)
    leaves = await saceur.node.store.tree_hashes(0, 0, checkpoint.size)
    assert kept == [(int(i), bytes(h)) for i, h in leaves]
    assert len(kept) == checkpoint.size
    assert "hotline.transcript/SACEUR/" + key_tag(old) in checkpoint.note, "under the log's old name"

    # Evidence for a message signed before the rotation and one after, at either end, verifies
    # offline and against the other side's pins (its key history).
    assert genstab.node is not None
    theirs = await genstab.node.notary.checkpoint_now()
    assert theirs is not None

    async def witnessed() -> bool:
        assert genstab.node is not None
        return await genstab.node.store.last_cosigned("SACEUR") == theirs.size

    await wait_until(witnessed, "SACEUR to cosign GENSTAB's checkpoint with its new key")
    for holder, other in ((saceur, genstab), (genstab, saceur)):
        for message in (before, after):
            bundle = tmp_path / f"{holder.party}-{message.number}"
            await asyncio.to_thread(write_evidence, holder.config.directory, f"SACEUR-{message.number:06d}", bundle)
            alone = await asyncio.to_thread(verify_evidence, bundle)
            assert alone.message["serial"] == f"SACEUR-{message.number:06d}"
            pins = await asyncio.to_thread(parties_known_at, other.config.directory)
            checked = await asyncio.to_thread(verify_evidence, bundle, pins)
            assert checked.checked_against == "pinned keys"
    # Without the rotation that leads to it, the new key is only a key with another's name.
    bundle = tmp_path / f"SACEUR-{after.number}"
    (bundle / "rotations").unlink()
    with pytest.raises(EvidenceError, match="nor rotated to from it"):
        await asyncio.to_thread(verify_evidence, bundle)

    # Both restart: they link again on SACEUR's new TLS certificate and its new key.
    await saceur.restart()
    await genstab.restart()
    await pair.wait_linked()
    last = await send(saceur, text("GENSTAB", "After both restarted."))
    await arrived(genstab, f"SACEUR-{last.number:06d}")
    assert saceur.node is not None
    restarted = await saceur.node.notary.checkpoint_now()
    assert restarted is not None
    assert "hotline.transcript/SACEUR/" + key_tag(old) in restarted.note, "the log keeps its name after a restart"
    assert (await asyncio.to_thread(audit, saceur.config.directory)).problems == []
    for node in (saceur, genstab):
        assert node.desk.alarms() == [], f"{node.party}: {node.desk.alarms()}"


async def test_a_thief_of_the_current_key_cannot_rotate_the_party_to_a_key_of_its_own(
    pair: InProcessNetwork,
) -> None:
    """Someone holding SACEUR's signing key (not its offline next key) sends a rotation statement
    to a key of their own: GENSTAB refuses it, raises the alarm, and pins nothing new."""
    import base64
    import datetime as dt

    from hotline.crypto import generate_signing_key, generate_tls_identity
    from hotline.crypto.rotation import RotationStatement, commitment
    from hotline.log import origin_for
    from hotline.node import SendRequest
    from hotline.node.card import log_tag_of

    saceur, genstab = pair
    assert saceur.node is not None
    assert genstab.node is not None
    pinned = genstab.node.channels["SACEUR"].peer
    thief = generate_signing_key()
    tls = generate_tls_identity("SACEUR", dt.datetime.fromtimestamp(genstab.clock.wall_ms() / 1000, dt.UTC))
    statement = RotationStatement(
        "SACEUR", origin_for("SACEUR", log_tag_of(pinned)), pinned.sign_key, thief.verify_key.raw, tls.cert_der,
        commitment(generate_signing_key().verify_key.raw), 0, genstab.clock.wall_ms(),
    )  # fmt: skip

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    body = {"statement": b64(statement.encode()), "signature": b64(statement.sign(thief))}
    forged = SendRequest(to="GENSTAB", kind="key_rotation", body=body, precedence="PRIORITY", by_machine=True)
    [row] = await saceur.desk.send([forged], wait_dispatch=5.0)  # signed by SACEUR's own, current key
    await in_state(saceur, f"SACEUR-{row.number:06d}", "rejected")

    [alarm] = genstab.desk.alarms()
    assert (alarm.kind.value, alarm.peer, alarm.facts["reason"]) == ("rotation-refused", "SACEUR", "not-committed")
    assert genstab.node.channels["SACEUR"].peer == pinned, "nothing changed"
    assert await genstab.node.store.retired_keys() == []
    # The channel carries on under the pinned keys.
    after = await send(saceur, text("GENSTAB", "Still here, under the pinned key."))
    await arrived(genstab, f"SACEUR-{after.number:06d}")


async def test_a_suspended_peer_delays_the_end_and_no_peer_is_pinned_meanwhile(
    pair: InProcessNetwork, tmp_path: Path
) -> None:
    from hotline.errors import PairingError
    from hotline.node import IdentityCard, init_node

    saceur, genstab = pair
    await saceur.desk.set_peer_state("GENSTAB", "suspended", "watch", "drill")
    await saceur.desk.rotate_keys(next_key(pair, "SACEUR"), "Maj. J. Hale")
    under_way = saceur.desk.rotation_under_way()
    assert under_way is not None
    assert under_way["waiting_for"] == ["GENSTAB"], "a suspended peer gets the statement when resumed"
    newcomer = init_node(tmp_path / "mod", "MOD", "127.0.0.1:7301", "127.0.0.1:7302").card()
    with pytest.raises(PairingError, match="rotation is under way"):
        await saceur.desk.add_peers([newcomer])
    # A list is pinned whole or not at all: GENSTAB (which passes alone) is not pinned again
    # when a card after it is refused.
    [genstab_card] = [IdentityCard.parse(p.card) for p in saceur.desk.peers()]
    with pytest.raises(PairingError, match="rotation is under way"):
        await saceur.desk.add_peers([dataclasses.replace(genstab_card, addresses=("127.0.0.1:7399",)), newcomer])
    assert [p.addresses for p in saceur.desk.peers()] == [genstab_card.addresses], "GENSTAB's pin unchanged"
    with pytest.raises(PairingError, match="already under way"):
        await saceur.desk.rotate_keys(next_key(pair, "SACEUR"), "Maj. J. Hale")
    await saceur.desk.set_peer_state("GENSTAB", "active", "watch")

    async def ended() -> bool:
        return saceur.desk.rotation_under_way() is None

    await wait_until(ended, "the rotation to end once GENSTAB is resumed")

    # GENSTAB's receipt of the statement ends the rotation at SACEUR; GENSTAB's own channel
    # takes the new key as it commits what it received, which may be a moment later.
    async def followed() -> bool:
        assert genstab.node is not None
        return genstab.node.channels["SACEUR"].peer.sign_key == saceur.desk.identity().sign_key

    await wait_until(followed, "GENSTAB to pin SACEUR's new key")
