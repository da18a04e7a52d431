"""Two nodes of one party on a shared PostgreSQL store: one active, one standing by, and the
standby taking over when the active node is killed or frozen. BRAVO, on SQLite, is the peer."""

from __future__ import annotations

import html
import itertools
import json
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from hotline.node import init_node, join_node, load_config
from hotline.testing.postgres import PostgresServer
from hotline.testing.process import NodeProcessError, configure, free_port, pair, run_cli
from tests.integration.harness import QUIET_WATCH, NodeProcess, stop_all, wait_for

_names = itertools.count()
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
PROMTOOL = shutil.which("promtool") or "promtool"  # `make test` installs Debian's prometheus for it


@dataclass
class Party:
    first: NodeProcess
    second: NodeProcess
    bravo: NodeProcess

    def nodes(self) -> tuple[NodeProcess, NodeProcess]:
        return self.first, self.second


def csrf_in(page: str) -> str:
    found = CSRF.search(page)
    assert found, "the page carries no CSRF token"
    return found.group(1)


async def role(node: NodeProcess) -> str | None:
    try:
        return str((await node.api("GET", "/v1/status"))["role"])
    except (httpx.HTTPError, Exception):
        return None


async def send(node: NodeProcess, to: str, text: str) -> dict[str, object]:
    body = {"to": to, "body": {"text": text, "lang": "en"}, "precedence": "FLASH"}
    sent: dict[str, object] = await node.api("POST", "/v1/messages", json=body)
    return sent


async def texts(node: NodeProcess) -> list[str]:
    return [m["text"] for m in await node.api("GET", "/v1/inbox?limit=1000")]


async def alarm_of(node: NodeProcess, kind: str) -> dict[str, object] | None:
    return next((a for a in await node.api("GET", "/v1/alarms") if a["kind"] == kind), None)


async def no_alarm(node: NodeProcess, kind: str) -> bool:
    return await alarm_of(node, kind) is None


async def escalated(node: NodeProcess, serial: str) -> bool:
    return any(a["message"] == serial for a in await node.api("GET", "/v1/alerts"))


async def cosigned_size(node: NodeProcess) -> int:
    checkpoint = (await node.api("GET", "/v1/transcript"))["checkpoint"]
    return int(checkpoint["size"]) if checkpoint and "BRAVO" in checkpoint["cosigned_by"] else 0


async def cosigned_beyond(node: NodeProcess, size: int) -> bool:
    return await cosigned_size(node) > size


async def holds(node: NodeProcess, text: str) -> bool:
    return text in await texts(node)


async def holds_count(node: NodeProcess, count: int) -> bool:
    return len(await texts(node)) == count


@pytest.fixture
async def party(tmp_path: Path, postgres: PostgresServer) -> AsyncIterator[Party]:
    url = postgres.create_database(f"party{next(_names)}")
    first = NodeProcess.create(tmp_path, "ALPHA", settings={"watch": QUIET_WATCH}, store=url)
    listen, api = f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"
    second_config = join_node(tmp_path / "alpha2", first.config.directory, listen, api)
    second = NodeProcess(second_config, tmp_path / "alpha2.log")
    first.reload()  # the card now names both nodes
    bravo = NodeProcess.create(tmp_path, "BRAVO", language="ru", settings={"watch": QUIET_WATCH})
    pair(first, bravo)
    nodes = Party(first, second, bravo)
    try:
        await first.start()
        await wait_for(lambda: role_is(first, "active"), 20, "the first node to take the lease")
        await second.start()
        await bravo.start()
        yield nodes
    finally:
        stop_all((first, second, bravo))
        for node in (first, second, bravo):
            await node.aclose()


async def role_is(node: NodeProcess, wanted: str) -> bool:
    return await role(node) == wanted


async def test_one_node_is_active_the_other_stands_by_and_says_where_to_go(party: Party) -> None:
    first, second, bravo = party.first, party.second, party.bravo
    card = load_config(first.config.directory).card()
    assert card.addresses == tuple(
        f"{a}|{b}" for a, b in zip(first.config.advertise, second.config.advertise, strict=True)
    ), "the party's card names both nodes on each path"
    assert run_cli("identity", "--dir", str(second.config.directory)) == run_cli(
        "identity", "--dir", str(first.config.directory)
    ), "either node gives the same card"

    status = await second.api("GET", "/v1/status")
    assert status["role"] == "standby"
    assert status["active"]["node"] == 1
    assert status["active"]["api"] == first.config.api
    active = await first.api("GET", "/v1/status")
    assert (active["role"], active["node"], active["active"]["node"]) == ("active", 1, 1)
    said = json.loads(run_cli("status", "--json", "--dir", str(second.config.directory)))
    assert said["role"] == "standby"
    assert "node 2: standing by" in run_cli("status", "--dir", str(second.config.directory))
    assert "node 1: active" in run_cli("status", "--dir", str(first.config.directory))

    # The console's accounts are the party's, in the shared store: made on one node, on both.
    run_cli("user", "add", "--dir", str(first.config.directory), "--name", "duty", "--role", "operator",
            "--password-file", "-", stdin="correct horse battery")  # fmt: skip
    listed = json.loads(run_cli("user", "list", "--json", "--dir", str(second.config.directory)))
    assert [a["name"] for a in listed] == ["duty"]
    assert not (second.config.directory / "console-users.toml").exists()

    refused = await second.client.post("/v1/messages", json={"to": "BRAVO", "body": {"text": "x", "lang": "en"}})
    assert refused.status_code == 503
    assert f"standing by: use the active node, node 1 at {first.config.advertise[0]}" in refused.json()["error"]
    for node, role_now in ((second, "standby"), (first, "active")):
        metrics = (await node.client.get("/metrics")).text
        assert f'hotline_role{{node="{node.config.node}",party="ALPHA",role="{role_now}"}} 1' in metrics
        checked = subprocess.run(
            [PROMTOOL, "check", "metrics"], input=metrics, capture_output=True, text=True, check=False
        )
        assert checked.returncode == 0, checked.stdout + checked.stderr

    await wait_for(lambda: bravo.connected("ALPHA"), 20, "BRAVO to link with the active node")
    await send(first, "BRAVO", "from the active node")
    await wait_for(lambda: holds(bravo, "from the active node"), 20, "BRAVO to receive it")
    flash = await send(bravo, "ALPHA", "please acknowledge")
    await wait_for(lambda: escalated(first, str(flash["serial"])), 20, "ALPHA to hold BRAVO's FLASH")

    # The standby's console: every page read-only from the shared store, under a banner naming
    # the active node; what would change anything is refused, naming it too.
    async with httpx.AsyncClient(base_url=second.config.api_url, follow_redirects=False, timeout=30) as browser:
        form = await browser.get("/signin")
        assert "Standby node" in form.text
        assert "The active node is node 1" in form.text
        signed = await browser.post(
            "/signin", data={"csrf": csrf_in(form.text), "name": "duty", "password": "correct horse battery",
                             "next": "/messages"},
        )  # fmt: skip
        assert signed.status_code == 303, signed.text
        log_page = await browser.get("/messages")
        assert log_page.status_code == 200
        assert "ALPHA-000001" in log_page.text
        assert "Standby node" in log_page.text
        for path in ("/board", "/outbox", "/alarms", "/transcript", "/compose", f"/messages/{flash['serial']}"):
            shown = await browser.get(path)
            assert shown.status_code == 200, (path, shown.text[:500])
            assert "Standby node" in shown.text, path
        message = await browser.get(f"/messages/{flash['serial']}")
        refused = await browser.post(
            f"/messages/{flash['serial']}/ack", data={"csrf": csrf_in(message.text), "remark": "seen"}
        )
        assert refused.status_code == 409
        assert "standing by: use the active node, node 1" in html.unescape(refused.text)
    assert await escalated(first, str(flash["serial"])), "nothing was acknowledged through the standby"


@pytest.mark.parametrize("fault", ["SIGKILL", "SIGSTOP"])
async def test_the_standby_takes_over_and_the_peer_follows(party: Party, fault: str) -> None:
    first, second, bravo = party.first, party.second, party.bravo
    await wait_for(lambda: bravo.connected("ALPHA"), 20, "BRAVO to link with the active node")
    for n in range(3):
        await send(first, "BRAVO", f"before {n}")
    await wait_for(lambda: holds_count(bravo, 3), 20, "BRAVO to receive the first three")
    # A FLASH from BRAVO awaits a person's acknowledgement at ALPHA: its escalation is chased
    # at once, and must be chased by whichever node is active.
    flash = await send(bravo, "ALPHA", "acknowledge me")
    await wait_for(lambda: escalated(first, str(flash["serial"])), 20, "ALPHA to chase BRAVO's FLASH")
    cosigned = await cosigned_size(first)

    fault_at = time.monotonic()
    if fault == "SIGKILL":
        first.kill()
    else:
        os.kill(first.pid, signal.SIGSTOP)
    try:
        await wait_for(lambda: role_is(second, "active"), 20, "the standby to take over")
        await send(second, "BRAVO", "after the takeover")
        await wait_for(lambda: holds(bravo, "after the takeover"), 20, "BRAVO to receive from the new active")
        took = time.monotonic() - fault_at
        if fault == "SIGSTOP":
            os.kill(first.pid, signal.SIGCONT)
            # It wakes, finds its lease gone, and stands by: it wrote nothing meanwhile.
            await wait_for(lambda: role_is(first, "standby"), 20, "the woken node to stand by")
    finally:
        if fault == "SIGSTOP" and first.running():
            os.kill(first.pid, signal.SIGCONT)
    assert await escalated(second, str(flash["serial"])), "the new active node chases the FLASH too"
    # BRAVO goes on witnessing ALPHA's log: a checkpoint beyond the takeover, cosigned.
    await wait_for(lambda: cosigned_beyond(second, cosigned), 20, "BRAVO to cosign ALPHA's log after the takeover")
    inbox = await bravo.api("GET", "/v1/inbox?limit=1000")
    assert sorted(m["seq"] for m in inbox) == [1, 2, 3, 4], "one gapless sequence from ALPHA"
    assert [m["serial"] for m in sorted(inbox, key=lambda m: m["seq"])][-1] == "ALPHA-000004"
    alarms = await bravo.api("GET", "/v1/alarms")
    assert not [a for a in alarms if a["kind"] == "equivocation"], alarms
    assert took < 10, f"ALPHA delivered again {took:.1f} s after the fault"
    print(f"{fault}: ALPHA delivered again {took:.2f} s after the fault")


async def test_a_node_running_with_other_settings_is_an_alarm_on_the_active_node(party: Party) -> None:
    first, second = party.first, party.second
    await wait_for(lambda: no_alarm(first, "standby-down"), 20, "node 2 to be seen ready")
    second.stop()
    # A standby that is not running is an alarm on the active node: nothing would take over.
    down = await wait_for(lambda: alarm_of(first, "standby-down"), 20, "the alarm that node 2 is not running")
    assert "Node 2 of this party is not connected to the party's database" in str(down), down
    # With node 2 stopped, a pin through its directory would go around the active node (which
    # would not trust the peer until it restarted): refused, naming the active node.
    charlie = init_node(second.config.directory.parent / "charlie", "CHARLIE", "127.0.0.1:1", "127.0.0.1:2").card()
    with pytest.raises(NodeProcessError, match="node 1 of ALPHA is active: pin the card through it"):
        run_cli("peer", "add", "--dir", str(second.config.directory), charlie.line(), "--fingerprint",
                charlie.fingerprint)  # fmt: skip
    assert [
        p["party"] for p in json.loads(run_cli("peer", "list", "--json", "--dir", str(first.config.directory)))
    ] == ["BRAVO"]
    configure(
        second.config.directory, {"deadlines": {"FLASH": 300, "IMMEDIATE": 900, "PRIORITY": 3600, "ROUTINE": 7200}}
    )
    second.reload()
    await second.start()  # it records its settings as it stands by
    await wait_for(lambda: no_alarm(first, "standby-down"), 20, "node 2's return to clear the alarm")
    first.kill()
    await wait_for(lambda: role_is(second, "active"), 20, "the standby to take over")

    async def differs() -> dict[str, object] | None:
        alarms = await second.api("GET", "/v1/alarms")
        return next((a for a in alarms if a["kind"] == "settings-differ"), None)

    alarm = await wait_for(differs, 20, "the alarm that node 1 runs with other settings")
    assert "Node 1 of this party runs with other settings (deadlines)" in str(alarm), alarm
