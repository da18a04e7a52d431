"""The co-signed transcript between two real nodes: checkpoints cosigned both ways, evidence that
verifies offline and fails for any changed byte, and a rewritten log caught by its peer."""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hotline.crypto import generate_signing_key
from hotline.errors import HotlineError
from hotline.log import Checkpoint, Ed25519Signer, Ed25519Verifier, TlogProof, leaf_hash, log_origin, sign_checkpoint
from hotline.storage.sql.treelog import grow_to_transcript
from hotline.testing import Party, sign_envelope
from hotline.verification import verify_evidence
from tests.integration.harness import NodeProcess, make_node, paired, pin, query, wait_for
from tests.integration.test_cli import hotline

FAST = {"checkpoint_interval": 0.2}


def run(node: NodeProcess | None, *args: str, expect: int = 0) -> str:
    result = hotline(*args, directory=node.config.directory if node else None)
    assert result.returncode == expect, result.stdout + result.stderr
    return result.stdout + result.stderr


@pytest.fixture
async def pair(tmp_path: Path) -> AsyncIterator[tuple[NodeProcess, NodeProcess]]:
    async with paired(tmp_path, timers=FAST) as nodes:
        yield nodes


async def exchange(a: NodeProcess, b: NodeProcess, count: int) -> None:
    await wait_for(lambda: a.connected(b.config.party), 20, "the link to come up")
    for i in range(count):
        await a.api("POST", "/v1/messages", json={"to": b.config.party, "body": {"text": f"to {i}", "lang": "en"}})
        await b.api("POST", "/v1/messages", json={"to": a.config.party, "body": {"text": f"от {i}", "lang": "ru"}})

    async def all_delivered() -> bool:
        return all(not query(n, "SELECT 1 FROM outbox WHERE state != 'delivered'") for n in (a, b))

    await wait_for(all_delivered, 20, "every message to be delivered")


async def cosigned_to_the_end(a: NodeProcess, b: NodeProcess) -> None:
    """Each log's checkpoint of all its entries is cosigned by the other side."""

    async def done() -> bool:
        for log, witness in ((a, b), (b, a)):
            [(size,)] = query(log, "SELECT count(*) FROM transcript")
            if not query(log, "SELECT 1 FROM cosignatures WHERE size=? AND witness=?", size, witness.config.party):
                return False
        return True

    await wait_for(done, 20, "both logs to be cosigned to the end")


async def test_evidence_from_either_side_verifies_offline_and_any_changed_byte_is_refused(
    pair: tuple[NodeProcess, NodeProcess], tmp_path: Path
) -> None:
    saceur, genstab = pair
    await exchange(saceur, genstab, 4)
    await cosigned_to_the_end(saceur, genstab)

    note = run(saceur, "log", "checkpoint")
    assert note.startswith("hotline.transcript/SACEUR/")
    assert "— hotline.witness/GENSTAB/" in note, "the checkpoint carries GENSTAB's cosignature"
    report = json.loads(run(genstab, "log", "checkpoint", "--json"))
    assert report["cosigned_by"] == ["SACEUR"]

    for node, message in ((saceur, "SACEUR-000002"), (genstab, "SACEUR-000002"), (genstab, "GENSTAB-000003")):
        folder = tmp_path / f"evidence-{node.config.party}-{message}"
        run(node, "evidence", message, "--out", str(folder))
        shutil.copytree(folder, tmp_path / "moved", dirs_exist_ok=True)  # nothing ties it to the node
        said = run(None, "verify", str(tmp_path / "moved"))
        assert "VERIFIED" in said
        assert f"message {message}" in said
        witness = "GENSTAB" if node is saceur else "SACEUR"
        assert f"hotline.witness/{witness}/" in said
        sender = message.split("-")[0]
        assert f"signed by {sender}" in said

    said = run(saceur, "evidence", "SACEUR-000001", "--out", str(tmp_path / "moved"), expect=1)
    assert "already exists and is not empty" in said  # never mixed with older files
    for message, reason in (("SACEUR-999999", "no signed message SACEUR-999999"), ("nonsense", "neither a serial")):
        said = run(saceur, "evidence", message, "--out", str(tmp_path / "none"), expect=1)
        assert reason in said
    assert not (tmp_path / "none").exists(), "nothing is written for a message that is not there"
    said = run(None, "verify", str(tmp_path / "moved"), "--against", str(tmp_path), expect=3)
    assert "not a node directory" in said

    # One byte changed anywhere in the evidence: refused, with a reason.
    folder = tmp_path / "evidence-SACEUR-SACEUR-000002"
    for name in ("entry", "proof.tlog-proof", "keys"):
        original = (folder / name).read_bytes()
        for position in range(len(original)):
            changed = bytearray(original)
            changed[position] ^= 0x01
            (folder / name).write_bytes(bytes(changed))
            with pytest.raises(HotlineError) as info:
                verify_evidence(folder)
            assert str(info.value), f"{name} byte {position}: refused without a reason"
        (folder / name).write_bytes(original)
    verify_evidence(folder)  # restored: verifies again
    said = run(None, "verify", str(tmp_path / "nothing-here"), expect=1)
    assert "NOT VERIFIED: missing entry" in said

    export = tmp_path / "export"
    run(saceur, "log", "export", "--out", str(export))
    assert (export / "checkpoint").read_text() == run(saceur, "log", "checkpoint")
    assert any(export.glob("tile/0/*"))
    assert any(export.glob("tile/entries/*"))
    assert "the transcript is consistent" in run(genstab, "log", "audit")

    # A flipped bit in a stored copy of GENSTAB's receipt: the API no longer offers it as proof,
    # and the log audit, which before read only the transcript, names it.
    shown = await saceur.api("GET", "/v1/messages/SACEUR-000002")
    assert shown["receipt"] is not None
    assert shown["receipt_damaged"] is False
    conn = sqlite3.connect(saceur.config.store_path)
    with conn:
        [(receipt_id, index, obj)] = conn.execute(
            "SELECT r.id, r.log_index, r.obj FROM outbox o JOIN receipts r ON r.id = o.receipt_id WHERE o.num = 2"
        ).fetchall()
        flipped = bytearray(obj)
        flipped[len(flipped) // 2] ^= 0x04
        conn.execute("UPDATE receipts SET obj=? WHERE id=?", (bytes(flipped), receipt_id))
    conn.close()
    shown = await saceur.api("GET", "/v1/messages/SACEUR-000002")
    assert (shown["receipt"], shown["receipt_damaged"]) == (None, True)
    said = run(saceur, "log", "audit", expect=1)
    assert f"the receipt stored for entry {index} is not that entry (the stored copy is damaged)" in said


@pytest.mark.parametrize("how", ["entry-changed", "truncated-and-regrown"])
async def test_a_rewritten_log_is_refused_by_its_witness_and_both_sides_raise_the_alarm(
    pair: tuple[NodeProcess, NodeProcess], how: str
) -> None:
    saceur, genstab = pair
    await exchange(saceur, genstab, 3)
    await cosigned_to_the_end(saceur, genstab)

    # GENSTAB's operator rewrites history on disk, then recomputes the tree so that the log
    # agrees with itself again: either SACEUR's first envelope is replaced by another signed
    # object, or the log is cut in half (its later checkpoints and cosignatures with it), to
    # grow again with other entries.
    genstab.stop()
    conn = sqlite3.connect(genstab.config.store_path)
    if how == "entry-changed":
        [(index,)] = conn.execute("SELECT log_index FROM inbox WHERE peer='SACEUR' ORDER BY seq LIMIT 1").fetchall()
        [(other,)] = conn.execute("SELECT obj FROM transcript WHERE kind='receipt' LIMIT 1").fetchall()
        conn.execute("UPDATE transcript SET obj=? WHERE idx=?", (other, index))
    else:
        [(size,)] = conn.execute("SELECT count(*) FROM transcript").fetchall()
        conn.execute("DELETE FROM transcript WHERE idx >= ?", (size // 2,))
        conn.execute("DELETE FROM cosignatures WHERE size > ?", (size // 2,))
        conn.execute("DELETE FROM checkpoints WHERE size > ?", (size // 2,))
    conn.execute("DELETE FROM tree_hashes")
    grow_to_transcript(conn)
    conn.commit()
    conn.close()
    assert "PROBLEM" in run(genstab, "log", "audit", expect=1)  # its own audit sees it at once
    cosigned_before = query(genstab, "SELECT size FROM cosignatures ORDER BY size")

    await genstab.start()
    # The log grows again, past the size SACEUR cosigned (with other entries, where it was cut).
    # Until then SACEUR only answers that it holds a larger size: a lost cosignature looks the
    # same to it, so it accuses nobody before the log shows a history that does not extend it.
    for i in range(10):
        await saceur.api("POST", "/v1/messages", json={"to": "GENSTAB", "body": {"text": f"after {i}", "lang": "en"}})

    async def both_alarmed() -> bool:
        return all(query(n, "SELECT 1 FROM equivocations") for n in (saceur, genstab))

    await wait_for(both_alarmed, 20, "both sides to record the equivocation")
    [(log, reason, held, offered)] = query(saceur, "SELECT log, reason, held, offered FROM equivocations")
    assert log == "GENSTAB"
    assert reason in {"rewritten", "fork", "rollback"}
    assert held.startswith("hotline.transcript/GENSTAB/")
    assert offered.startswith("hotline.transcript/GENSTAB/")
    assert held != offered, "both signed checkpoints are kept as evidence"
    [(log, own_reason)] = query(genstab, "SELECT log, reason FROM equivocations")
    assert (log, own_reason) == ("GENSTAB", reason)
    for node, title, says in (
        (saceur, "TRANSCRIPT EQUIVOCATION", "GENSTAB's transcript contradicts a checkpoint we cosigned"),
        (genstab, "НАРУШЕНИЕ ЦЕЛОСТНОСТИ ЖУРНАЛА", "наш собственный журнал обмена противоречит"),
    ):
        said = " ".join(run(node, "alerts").split())  # rich wraps long lines
        assert title in said
        assert says in said
    assert query(genstab, "SELECT size FROM cosignatures ORDER BY size") == cosigned_before, (
        "SACEUR cosigned nothing after the rewrite"
    )


async def test_a_neutral_witness_cosigns_both_logs_and_sends_nothing(tmp_path: Path) -> None:
    saceur, genstab = make_node(tmp_path, "SACEUR", timers=FAST), make_node(tmp_path, "GENSTAB", "ru", timers=FAST)
    osce = make_node(tmp_path, "OSCE", timers=FAST, witness_only=True)
    nodes = (saceur, genstab, osce)
    for node in nodes:
        for other in nodes:
            if other is not node:
                pin(node, other.config)
    for node in nodes:
        await node.start()
    try:
        await exchange(saceur, genstab, 2)

        async def cosigned_by_both() -> bool:
            [(size,)] = query(saceur, "SELECT count(*) FROM transcript")
            witnesses = query(saceur, "SELECT witness FROM cosignatures WHERE size=? ORDER BY witness", size)
            return witnesses == [("GENSTAB",), ("OSCE",)]

        await wait_for(cosigned_by_both, 20, "SACEUR's log to be cosigned by GENSTAB and by the neutral witness")
        folder = tmp_path / "evidence"
        run(saceur, "evidence", "SACEUR-000001", "--out", str(folder))
        said = run(None, "verify", str(folder))
        assert "hotline.witness/GENSTAB/" in said
        assert "hotline.witness/OSCE/" in said

        refused = await osce.client.post("/v1/messages", json={"to": "SACEUR", "body": {"text": "x", "lang": "en"}})
        assert refused.status_code == 422
        assert "only witnesses" in refused.text
        refused = await saceur.client.post("/v1/messages", json={"to": "OSCE", "body": {"text": "x", "lang": "en"}})
        assert refused.status_code == 422
        assert "OSCE only witnesses" in refused.text
        assert query(osce, "SELECT count(*) FROM outbox") == [(0,)]
    finally:
        for node in nodes:
            node.stop()
            await node.client.aclose()


async def test_evidence_made_with_other_keys_is_refused_against_the_pinned_ones(
    pair: tuple[NodeProcess, NodeProcess], tmp_path: Path
) -> None:
    saceur, genstab = pair
    await exchange(saceur, genstab, 1)
    await cosigned_to_the_end(saceur, genstab)
    real = tmp_path / "real"
    run(saceur, "evidence", "SACEUR-000001", "--out", str(real))
    said = run(None, "verify", str(real), "--against", str(genstab.config.directory))
    assert "each one is the key pinned at" in said

    # A key whose name claims to be SACEUR's log key but is another key: refused outright.
    impostor = generate_signing_key()
    lines = (real / "keys").read_text().splitlines()
    name = lines[0].split("+")[0]
    lines[0] = Ed25519Verifier(name, impostor.verify_key).key_string()
    swapped = tmp_path / "swapped"
    shutil.copytree(real, swapped)
    (swapped / "keys").write_text("".join(f"{line}\n" for line in lines))
    assert "is not the key that name stands for" in run(None, "verify", str(swapped), expect=1)

    # A whole forgery, consistent in itself: a "SACEUR" envelope and log under a forged key. On
    # its own it verifies, showing the keys' digests to compare; against the pinned keys it fails.
    forger = Party("SACEUR", key=impostor)
    entry = sign_envelope(forger, "GENSTAB", 1, "Launch authorised")
    origin = log_origin("SACEUR", impostor.verify_key.raw)
    note = sign_checkpoint(Checkpoint(origin, 1, leaf_hash(entry)), [Ed25519Signer(origin, impostor)])
    forged = tmp_path / "forged"
    forged.mkdir()
    (forged / "entry").write_bytes(entry)
    (forged / "proof.tlog-proof").write_text(TlogProof(0, (), note).encode())
    (forged / "keys").write_text(Ed25519Verifier(origin, impostor.verify_key).key_string() + "\n")
    alone = run(None, "verify", str(forged))
    assert "compare them with the parties' published keys" in alone
    assert hashlib.sha256(impostor.verify_key.raw).hexdigest() in alone
    against = run(None, "verify", str(forged), "--against", str(genstab.config.directory), expect=1)
    assert "is not a key pinned for SACEUR" in against
