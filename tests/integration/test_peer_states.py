"""A peer suspended, resumed and removed, seen at both ends (issue #17, item 3).

A real pair, SACEUR and GENSTAB, with a peer-unreachable grace of one second: a suspended peer
must show as suspended, never as unreachable, on both boards, however long it lasts.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.browser import add_account
from tests.integration.harness import NodeProcess, paired, query, wait_for

pytestmark = pytest.mark.slow
GRACE_S = 1.0
PASSWORD = "suspend-resume-remove"


def hotline(node: NodeProcess, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "hotline", *args, "--dir", str(node.config.directory)]
    return subprocess.run(command, capture_output=True, text=True, check=False)


@pytest.fixture
async def pair(tmp_path: Path) -> AsyncIterator[tuple[NodeProcess, NodeProcess]]:
    async with paired(tmp_path, more=lambda: {"alarms": {"peer_unreachable": GRACE_S}}) as (a, b):
        await wait_for(lambda: a.connected("GENSTAB"), 20, "SACEUR linked to GENSTAB")
        add_account(a, "watch", "operator", PASSWORD, "en")
        add_account(b, "watch", "operator", PASSWORD, "ru")
        yield a, b


async def alarms(node: NodeProcess) -> dict[str, dict[str, Any]]:
    return {a["kind"]: a for a in await node.api("GET", "/v1/alarms")}


async def send(sender: NodeProcess, to: str, text: str) -> str:
    sent = await sender.api("POST", "/v1/messages", json={"to": to, "body": {"text": text, "lang": "en"}})
    return str(sent["serial"])


async def holds(node: NodeProcess, serial: str) -> bool:
    return any(m["serial"] == serial for m in await node.api("GET", "/v1/inbox?limit=1000"))


async def alarmed(node: NodeProcess, kind: str, **facts: Any) -> bool:
    alarm = (await alarms(node)).get(kind)
    return alarm is not None and all(alarm["facts"].get(k) == v for k, v in facts.items())


async def test_suspend_and_resume_hold_traffic_both_ways_and_both_boards_say_so(
    pair: tuple[NodeProcess, NodeProcess],
) -> None:
    a, b = pair
    done = hotline(a, "peer", "suspend", "GENSTAB", "--remark", "exercise LIMA", "--by", "Maj. Hale")
    assert done.returncode == 0, done.stderr
    assert "Traffic with GENSTAB is suspended" in done.stdout
    await wait_for(lambda: alarmed(a, "suspended", by="us"), 5, "SACEUR's board to say it suspended GENSTAB")
    # GENSTAB dials again and is told why: its board says SACEUR suspended the traffic (in Russian).
    await wait_for(lambda: alarmed(b, "suspended", by="peer"), 15, "GENSTAB's board to say SACEUR suspended it")
    [said] = [x for x in await b.api("GET", "/v1/alarms") if x["kind"] == "suspended"]
    assert "SACEUR" in said["summary"]

    # Traffic is held both ways: each side queues, nothing is delivered.
    out = await send(a, "GENSTAB", "Held while suspended, SACEUR to GENSTAB.")
    back = await send(b, "SACEUR", "Held while suspended, GENSTAB to SACEUR.")
    listed = {p["party"]: p for p in json.loads(hotline(a, "peer", "list", "--json").stdout)}
    assert listed["GENSTAB"]["state"] == "suspended"
    assert (listed["GENSTAB"]["state_by"], listed["GENSTAB"]["state_remark"]) == ("Maj. Hale", "exercise LIMA")
    assert not await a.connected("GENSTAB")
    # Longer than the grace: still "suspended" on both boards, never "unreachable".
    await wait_for(lambda: alarmed(a, "suspended"), 5, "SACEUR's alarm to stand")
    for node in (a, b):
        kinds = set(await alarms(node))
        assert "peer-unreachable" not in kinds, kinds
    assert not await holds(b, out)
    assert not await holds(a, back)
    # A monitor reads who held it, and no "no path up" for a peer held on purpose.
    health = (await b.client.get("/v1/health")).json()["reasons"]
    assert "traffic with SACEUR suspended by SACEUR: calls for duty_officer" in health
    assert not [r for r in health if "no path up" in r], health
    assert 'data-hold="suspended-by-us"' in await board(a)
    assert "обмен приостановлен другой стороной" in await board(b)

    again = hotline(a, "peer", "suspend", "GENSTAB")
    assert again.returncode != 0
    assert "GENSTAB is already suspended" in again.stderr

    done = hotline(a, "peer", "resume", "GENSTAB", "--by", "Maj. Hale")
    assert done.returncode == 0, done.stderr
    await wait_for(lambda: holds(b, out), 15, "SACEUR's held message at GENSTAB")
    await wait_for(lambda: holds(a, back), 15, "GENSTAB's held message at SACEUR")
    for node in (a, b):
        await wait_for(lambda node=node: _no_hold(node), 10, f"{node.party}'s board to be clear of the hold")
    audit = query(a, "SELECT user, action, target, detail FROM console_audit WHERE action LIKE 'peer-%' ORDER BY id")
    assert audit == [
        ("Maj. Hale", "peer-suspend", "GENSTAB", "exercise LIMA"),
        ("Maj. Hale", "peer-resume", "GENSTAB", None),
    ]

    # The other end can do the same, with its node stopped: it holds to it when it starts.
    b.stop()
    offline = hotline(b, "peer", "suspend", "SACEUR", "--by", "дежурный")
    assert offline.returncode == 0, offline.stderr
    assert "Узел остановлен" in offline.stdout  # GENSTAB's CLI speaks its node's language
    await b.start()
    await wait_for(lambda: alarmed(a, "suspended", by="peer"), 15, "SACEUR's board to say GENSTAB suspended it")
    assert (await alarms(b))["suspended"]["facts"]["by"] == "us"
    assert hotline(b, "peer", "resume", "SACEUR").returncode == 0
    await wait_for(lambda: a.connected("GENSTAB"), 15, "the link back after GENSTAB resumed")
    await wait_for(lambda: _no_hold(a), 10, "SACEUR's board clear")


async def board(node: NodeProcess) -> str:
    """The console's board, as a signed-in operator sees it."""
    async with httpx.AsyncClient(base_url=node.config.api_url, follow_redirects=True) as browser:
        form = re.search(r'name="csrf" value="([^"]+)"', (await browser.get("/signin")).text)
        assert form is not None
        fields = {"csrf": form.group(1), "name": "watch", "password": PASSWORD, "next": "/board"}
        page = await browser.post("/signin", data=fields)
        assert page.status_code == 200, page.text
        return page.text


async def _no_hold(node: NodeProcess) -> bool:
    return not {"suspended", "removed-by-peer", "peer-unreachable"} & set(await alarms(node))


async def test_a_removed_peer_is_refused_and_what_was_exchanged_still_verifies(
    pair: tuple[NodeProcess, NodeProcess], tmp_path: Path
) -> None:
    a, b = pair
    before = await send(b, "SACEUR", "Sent before the removal.")
    await wait_for(lambda: holds(a, before), 10, "the message at SACEUR")

    done = hotline(a, "peer", "remove", "GENSTAB", "--remark", "party left the arrangement")
    assert done.returncode == 0, done.stderr
    await wait_for(lambda: alarmed(b, "removed-by-peer"), 15, "GENSTAB's board to say SACEUR removed it")
    assert (await alarms(b))["removed-by-peer"]["level"] == "supervisor"
    assert await alarms(a) == {}, "removing a peer raises nothing at the side that removed it"

    # Nothing more goes to GENSTAB, said plainly; and nothing comes from it.
    refused = await a.client.post("/v1/messages", json={"to": "GENSTAB", "body": {"text": "x", "lang": "en"}})
    assert refused.status_code == 422
    assert "GENSTAB was removed from this node's peers" in refused.text
    after = await send(b, "SACEUR", "Sent after the removal.")
    await wait_for(lambda: alarmed(b, "removed-by-peer"), 5, "GENSTAB's board still says so")
    assert not await holds(a, after)
    for verb in ("resume", "suspend"):
        answer = hotline(a, "peer", verb, "GENSTAB")
        assert answer.returncode != 0
        assert "GENSTAB was removed" in answer.stderr

    # What was exchanged stays, and its evidence verifies against what SACEUR pinned.
    bundle = tmp_path / "evidence"
    made = hotline(a, "evidence", before, "--out", str(bundle))
    assert made.returncode == 0, made.stderr
    verify = [sys.executable, "-m", "hotline", "verify", str(bundle)]
    checked = subprocess.run(verify, check=False, capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    audit = hotline(a, "log", "audit", "--json")
    assert json.loads(audit.stdout)["problems"] == []
    listed = {p["party"]: p for p in json.loads(hotline(a, "peer", "list", "--json").stdout)}
    assert listed["GENSTAB"]["state"] == "removed"


async def test_bad_peer_state_requests_are_refused_saying_why(pair: tuple[NodeProcess, NodeProcess]) -> None:
    a, _ = pair
    unknown = hotline(a, "peer", "suspend", "NOBODY")
    assert unknown.returncode != 0
    assert "'NOBODY' is not a pinned peer" in unknown.stderr
    resumed = hotline(a, "peer", "resume", "GENSTAB")
    assert resumed.returncode != 0
    assert "GENSTAB is already active" in resumed.stderr
    wrong = await a.client.post("/v1/peers/GENSTAB/suspend", json={"remark": "no name"})
    assert wrong.status_code == 422
    assert "by" in wrong.text
    verb = await a.client.post("/v1/peers/GENSTAB/pause", json={"by": "x"})
    assert verb.status_code == 404, "no such action"
    assert await a.connected("GENSTAB"), "nothing changed"
    assert query(a, "SELECT count(*) FROM console_audit WHERE action LIKE 'peer-%'") == [(0,)]
