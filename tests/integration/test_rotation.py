"""Keys that change (issue #17, item 1), with real node processes.

SACEUR, GENSTAB and a neutral witness (WITNESS), each pinned by the others. Traffic flows both
ways between SACEUR and GENSTAB while SACEUR rotates to the key its card committed to: nothing
is lost or repeated, GENSTAB and the witness pin SACEUR's new keys without a ceremony, and
evidence for a message from before the rotation and one from after verifies against GENSTAB's
pins, cosigned by the witness with SACEUR's log under its old name.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from hotline.testing.process import pair
from tests.integration.harness import QUIET_WATCH, NodeProcess, stop_all, wait_for

pytestmark = pytest.mark.slow
RATE = 20  # messages a second, each way


def hotline(node: NodeProcess | None, *args: str) -> subprocess.CompletedProcess[str]:
    where = ["--dir", str(node.config.directory)] if node is not None else []
    command = [sys.executable, "-m", "hotline", *args, *where]
    return subprocess.run(command, capture_output=True, text=True, check=False)


@dataclass
class Traffic:
    """One message every 1/RATE s from ``sender`` to ``to``; the serials it was given."""

    sender: NodeProcess
    to: str
    sent: list[str] = field(default_factory=list)

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            body = {"to": self.to, "body": {"text": f"{self.sender.party} {len(self.sent)}", "lang": "en"}}
            answer = await self.sender.api("POST", "/v1/messages", json=body)
            self.sent.append(str(answer["serial"]))
            await asyncio.sleep(1 / RATE)  # the traffic's pace, not a wait for anything


@pytest.fixture
async def three(tmp_path: Path) -> AsyncIterator[tuple[NodeProcess, NodeProcess, NodeProcess]]:
    saceur = NodeProcess.create(tmp_path, "SACEUR", settings={"watch": QUIET_WATCH})
    genstab = NodeProcess.create(tmp_path, "GENSTAB", language="ru", settings={"watch": QUIET_WATCH})
    witness = NodeProcess.create(tmp_path, "WITNESS", witness_only=True, settings={"watch": QUIET_WATCH})
    pair(saceur, genstab, witness)
    nodes = (saceur, genstab, witness)
    try:
        for node in nodes:
            await node.start()
        await wait_for(lambda: saceur.connected("GENSTAB"), 20, "SACEUR linked to GENSTAB")
        await wait_for(lambda: saceur.connected("WITNESS"), 20, "SACEUR linked to the witness")
        yield saceur, genstab, witness
    finally:
        try:
            stop_all(nodes)
        finally:
            for node in nodes:
                await node.aclose()


async def inbox(node: NodeProcess) -> list[dict[str, Any]]:
    answer: list[dict[str, Any]] = await node.api("GET", "/v1/inbox?limit=10000")
    return answer


async def holds(node: NodeProcess, serials: list[str]) -> bool:
    return set(serials) <= {m["serial"] for m in await inbox(node)}


def pinned_fingerprint(node: NodeProcess, party: str) -> str:
    listed = {p["party"]: p for p in json.loads(hotline(node, "peer", "list", "--json").stdout)}
    return str(listed[party]["fingerprint"])


async def test_a_party_rotates_its_keys_under_traffic_and_its_peers_and_witness_follow(
    three: tuple[NodeProcess, NodeProcess, NodeProcess], tmp_path: Path
) -> None:
    saceur, genstab, witness = three
    old = json.loads(hotline(saceur, "identity", "--json").stdout)
    out, back = Traffic(saceur, "GENSTAB"), Traffic(genstab, "SACEUR")
    stop = asyncio.Event()
    flows = [asyncio.create_task(t.run(stop)) for t in (out, back)]
    await wait_for(lambda: holds(genstab, out.sent[:5]), 20, "traffic to flow")
    before = out.sent[0]

    rotated = hotline(saceur, "keys", "rotate", "--by", "Maj. J. Hale")
    assert rotated.returncode == 0, rotated.stderr
    assert "move it off this machine" in rotated.stdout

    async def ended() -> bool:
        return "rotation" not in await saceur.api("GET", "/v1/identity")

    await wait_for(ended, 30, "the rotation to end (every peer following the new key)")
    await asyncio.sleep(1.0)  # more traffic under the new key: the pace of the test, not a wait
    stop.set()
    await asyncio.gather(*flows)
    after = out.sent[-1]

    # Nothing lost, nothing repeated, each direction one gapless sequence.
    await wait_for(lambda: holds(genstab, out.sent), 30, "every SACEUR message at GENSTAB")
    await wait_for(lambda: holds(saceur, back.sent), 30, "every GENSTAB message at SACEUR")
    for node, sender, traffic in ((genstab, "SACEUR", out), (saceur, "GENSTAB", back)):
        got = [m for m in await inbox(node) if m["from"] == sender and m["kind"] == "free_text"]
        assert sorted(m["serial"] for m in got) == sorted(traffic.sent), "each message once"
        seqs = sorted(int(m["seq"]) for m in await inbox(node) if m["from"] == sender)
        assert seqs == list(range(1, len(seqs) + 1)), "gapless"

    # GENSTAB and the witness pin SACEUR's new keys: its new card's fingerprint, no ceremony.
    new = json.loads(hotline(saceur, "identity", "--json").stdout)
    assert new["fingerprint"] != old["fingerprint"]
    assert new["rotation"] is None, "nothing still awaited"
    for node in (genstab, witness):
        assert pinned_fingerprint(node, "SACEUR") == new["fingerprint"], node.party

    # Evidence for the first message and the last verifies against GENSTAB's pins, with the
    # witness's cosignature, under the log's first name.
    async def cosigned_by_both(serial: str) -> dict[str, Any] | None:
        bundle = tmp_path / f"evidence-{serial}-{asyncio.get_running_loop().time()}"
        if hotline(saceur, "evidence", serial, "--out", str(bundle)).returncode != 0:
            return None
        checked = hotline(None, "verify", str(bundle), "--against", str(genstab.config.directory), "--json")
        assert checked.returncode == 0, checked.stdout + checked.stderr
        result: dict[str, Any] = json.loads(checked.stdout)
        return result if len(result["cosigned_by"]) == 2 else None

    for serial in (before, after):
        result = await wait_for(lambda serial=serial: cosigned_by_both(serial), 30, f"{serial} cosigned by both")
        assert result["origin"] == f"hotline.transcript/SACEUR/{old['card'].split(':')[6]}"
        assert any(name.startswith("hotline.witness/WITNESS/") for name in result["cosigned_by"])
    for node in three:
        assert await node.api("GET", "/v1/alarms") == [], node.party
        audit = json.loads(hotline(node, "log", "audit", "--json").stdout)
        assert audit["problems"] == [], (node.party, audit)
