"""After a compromise, the pairing ceremony again (issue #17, item 2): a party's new card, its
fingerprint confirmed by voice, replaces the pin with --replace only; the link comes back on
the new keys; the old key stays for what it signed, and the transcript keeps everything."""

from __future__ import annotations

import asyncio
import datetime as dt
import tomllib
from pathlib import Path

import pytest
import tomli_w

from hotline.crypto import generate_signing_key, generate_tls_identity, load_signing_key, signing_key_pem
from hotline.crypto.rotation import commitment
from hotline.errors import PairingError
from hotline.evidence import write_evidence
from hotline.log import key_tag
from hotline.node.card import b64
from hotline.testing import InProcessNetwork, wait_until
from hotline.verification import parties_known_at, verify_evidence
from tests.inprocess.helpers import arrived, in_state, send, text


def new_keys(directory: Path, now_ms: int) -> None:
    """What a party does after its keys were stolen: new keys in its node directory, its log
    keeping its name (``[keys] log``)."""
    old = load_signing_key((directory / "signing.key").read_bytes()).verify_key.raw
    (directory / "signing.key").write_bytes(signing_key_pem(generate_signing_key()))
    tls = generate_tls_identity("SACEUR", dt.datetime.fromtimestamp(now_ms / 1000, dt.UTC))
    (directory / "tls.key").write_bytes(tls.key_pem)
    (directory / "tls.crt").write_bytes(tls.cert_pem)
    settings = tomllib.loads((directory / "config.toml").read_text())
    upcoming = commitment(generate_signing_key().verify_key.raw)
    settings["keys"] = {"log": key_tag(old), "next": b64(upcoming)}
    (directory / "config.toml").write_text(tomli_w.dumps(settings))


async def test_a_new_card_replaces_a_compromised_pin_only_when_told(pair: InProcessNetwork, tmp_path: Path) -> None:
    saceur, genstab = pair
    before = await send(saceur, text("GENSTAB", "Before the compromise."))
    await in_state(saceur, f"SACEUR-{before.number:06d}", "delivered")
    old_key = saceur.desk.identity().sign_key

    await saceur.stop()
    new_keys(saceur.config.directory, saceur.clock.wall_ms())
    await saceur.start()
    card = saceur.desk.identity()
    assert card.sign_key != old_key
    assert not await genstab.linked("SACEUR"), "GENSTAB does not know the new keys"

    with pytest.raises(PairingError, match="--replace"):
        await genstab.desk.add_peer(card)
    await genstab.desk.add_peer(card, replace=True, by="Col. I. Petrov")
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

    async def quiet() -> bool:
        return genstab.desk.alarms() == [] and saceur.desk.alarms() == []

    await wait_until(quiet, "no alarm at either end")
