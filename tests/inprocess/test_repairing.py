"""After a compromise, the pairing ceremony again (issue #17, item 2): a party's new card, its
fingerprint confirmed by voice, replaces the pin with --replace only; the link comes back on
the new keys; the old key stays for what it signed, and the transcript keeps everything."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from hotline.cli.keys import replace_keys
from hotline.errors import PairingError
from hotline.evidence import audit, write_evidence
from hotline.testing import InProcessNetwork, wait_until
from hotline.verification import parties_known_at, verify_evidence
from tests.inprocess.helpers import arrived, in_state, send, text


async def test_a_new_card_replaces_a_compromised_pin_only_when_told(pair: InProcessNetwork, tmp_path: Path) -> None:
    saceur, genstab = pair
    before = await send(saceur, text("GENSTAB", "Before the compromise."))
    await in_state(saceur, f"SACEUR-{before.number:06d}", "delivered")
    old_key = saceur.desk.identity().sign_key

    assert saceur.node is not None
    assert await saceur.node.notary.checkpoint_now() is not None  # signed by the key about to be lost
    await saceur.stop()
    await replace_keys(saceur.config.directory, "Maj. J. Hale")  # hotline keys replace
    await saceur.start()
    card = saceur.desk.identity()
    assert card.sign_key != old_key
    assert not await genstab.linked("SACEUR"), "GENSTAB does not know the new keys"

    with pytest.raises(PairingError, match="--replace"):
        await genstab.desk.add_peers([card])
    await genstab.desk.add_peers([card], replace=True, by="Col. I. Petrov")
    await pair.wait_linked()
    after = await send(saceur, text("GENSTAB", "After the ceremony."))
    await arrived(genstab, f"SACEUR-{after.number:06d}")

    assert genstab.node is not None
    [retired] = await genstab.node.store.retired_keys()
    assert (retired.party, retired.sign_key) == ("SACEUR", old_key)
    [entry] = [e for e in await genstab.node.store.audit_trail(10) if e.action == "peer-replace"]
    assert (entry.user, entry.target) == ("Col. I. Petrov", "SACEUR")
    # What the old key signed still verifies against GENSTAB's pins, and so does the new, under
    # a checkpoint SACEUR cosigned with its new key.
    checkpoint = await genstab.node.notary.checkpoint_now()
    assert checkpoint is not None

    async def cosigned() -> bool:
        assert genstab.node is not None
        return await genstab.node.store.last_cosigned("SACEUR") == checkpoint.size

    await wait_until(cosigned, "SACEUR to cosign GENSTAB's checkpoint with its new key")
    for message in (before, after):
        bundle = tmp_path / f"evidence-{message.number}"
        await asyncio.to_thread(write_evidence, genstab.config.directory, f"SACEUR-{message.number:06d}", bundle)
        pins = await asyncio.to_thread(parties_known_at, genstab.config.directory)
        checked = await asyncio.to_thread(verify_evidence, bundle, pins)
        assert checked.message["serial"] == f"SACEUR-{message.number:06d}"

    # SACEUR's own log still audits clean, checkpoints before and after: its old key is in its history.
    assert saceur.node is not None
    assert await saceur.node.notary.checkpoint_now() is not None
    report = await asyncio.to_thread(audit, saceur.config.directory)
    assert report.problems == []
    assert report.checkpoints == 2

    async def quiet() -> bool:
        return genstab.desk.alarms() == [] and saceur.desk.alarms() == []

    await wait_until(quiet, "no alarm at either end")
