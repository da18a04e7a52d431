"""The channel never fails silently: a peer down, a FLASH undelivered, a store that went back in
time, a clock days off, each becomes an alarm on the board, in `alerts`, at `/v1/health`, in
`/metrics`, in the log and at the alarm hook; and each clears when its cause goes away.

Real node processes over real TLS on loopback; the peer is stopped with SIGSTOP (a hung node:
its sockets stay open, nothing answers), which is what a node that fails without a reset looks
like from the other side.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, async_playwright, expect

from hotline.envelope import serial
from tests.integration.browser import CHROMIUM, NO_CHROMIUM, VIEWPORT, add_account, launch, live, sign_in, snap
from tests.integration.harness import NodeProcess, configure, make_node, pin, query, reload, wait_for
from tests.integration.test_cli import hotline
from tests.integration.test_console_security import PASSWORD

PROMTOOL = shutil.which("promtool")
NO_PROMTOOL = "Debian's promtool (package prometheus) is not installed; `make test` installs it with apt-get"
# Debian's libfaketime, preloaded into the node itself: the faketime command would fork, and a
# stop signal would reach the wrapper and leave the node running.
FAKETIME = next(iter(sorted(Path("/usr/lib").glob("*/faketime/libfaketime.so.1"))), None)
NO_FAKETIME = "Debian's faketime (libfaketime.so.1) is not installed; `make test` installs it with apt-get"
RULES = Path(__file__).resolve().parents[2] / "docs" / "prometheus" / "hotline-rules.yml"

# Small bounds, so that the test sees in seconds what a watch sees in half a minute.
QUICK = {"heartbeat": 0.3, "dead_after": 1.0, "backoff_min": 0.1, "backoff_max": 0.5}
HOOK = """
import json, sys
event = json.load(sys.stdin)
with open(sys.argv[1], "a") as out:
    out.write(json.dumps(event) + "\\n")
"""


def cli(node: NodeProcess, *args: str, expect: int = 0) -> str:
    result = hotline(*args, directory=node.config.directory)
    assert result.returncode == expect, result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    return result.stdout + result.stderr


async def alarm_kinds(node: NodeProcess) -> set[tuple[str, str | None]]:
    return {(a["kind"], a["peer"]) for a in await node.api("GET", "/v1/alarms")}


def hook_events(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


async def flash(node: NodeProcess, to: str, text: str) -> dict[str, Any]:
    body = {"to": to, "body": {"text": text, "lang": "en"}, "precedence": "FLASH"}
    sent: dict[str, Any] = await node.api("POST", "/v1/messages", json=body)
    return sent


async def state_of(node: NodeProcess, serial: str) -> str:
    message: dict[str, Any] = await node.api("GET", f"/v1/messages/{serial}")
    return str(message["state"])


@pytest.fixture
async def watched(tmp_path: Path) -> AsyncIterator[tuple[NodeProcess, NodeProcess, Path]]:
    """SACEUR with short alarm bounds and an alarm hook that writes what it is given; GENSTAB."""
    events = tmp_path / "hook-events.jsonl"
    script = tmp_path / "hook.py"
    script.write_text(HOOK)
    a = make_node(tmp_path, "SACEUR", timers=QUICK)
    b = make_node(tmp_path, "GENSTAB", "ru", timers=QUICK)
    alarms = {
        "peer_unreachable": 1.5,
        "flash_undelivered": 1.0,
        "immediate_undelivered": 5.0,
        "clock_tolerance": 30.0,
        "hook_command": [sys.executable, str(script), str(events)],
        "hook_timeout": 5.0,
    }
    configure(a.config.directory, {"alarms": alarms})
    configure(b.config.directory, {"alarms": {**alarms, "hook_command": []}})
    reload(a)
    reload(b)
    pin(a, b.config)
    pin(b, a.config)
    add_account(a, "alice", "operator", PASSWORD)
    await a.start()
    await b.start()
    try:
        yield a, b, events
    finally:
        if b.process is not None and b.process.poll() is None:
            b.process.send_signal(signal.SIGCONT)
        for node in (a, b):
            node.stop()
            await node.client.aclose()


@pytest.mark.skipif(CHROMIUM is None, reason=NO_CHROMIUM)
async def test_a_hung_peer_and_an_undelivered_flash_are_alarms_everywhere_and_clear_when_it_returns(
    watched: tuple[NodeProcess, NodeProcess, Path],
) -> None:
    a, b, events = watched
    await wait_for(lambda: a.connected("GENSTAB"), 20, "the link to come up")
    async with async_playwright() as playwright:
        browser = await launch(playwright)
        try:
            page = await (await browser.new_context(viewport=VIEWPORT, locale="en-GB")).new_page()
            await sign_in(page, a, "alice", PASSWORD)
            await live(page)
            await page.evaluate("window.__sameDocument = true")  # gone if the page reloads
            await _through_an_outage(a, b, events, page)
        finally:
            await browser.close()


async def _through_an_outage(a: NodeProcess, b: NodeProcess, events: Path, page: Page) -> None:
    board = page.locator("section.channel-alarms")
    await expect(board).to_have_count(0)
    health = await a.client.get("/v1/health")
    assert (health.status_code, health.json()["ok"]) == (200, True)
    assert await a.api("GET", "/v1/alarms") == []

    assert b.process is not None
    b.process.send_signal(signal.SIGSTOP)  # hung: its sockets stay open, nothing answers
    sent = await flash(a, "GENSTAB", "Are you there?")
    await wait_for(lambda: _in_state(a, sent["serial"], "sent"), 10, "the FLASH to be sent and not receipted")
    # Defect 1: the outbox listed a `sent` message with a traceback, exactly when a link degrades.
    outbox = cli(a, "outbox")
    assert sent["serial"] in outbox
    assert "sent" in outbox

    async def alarmed() -> bool:
        return {("peer-unreachable", "GENSTAB"), ("urgent-undelivered", "GENSTAB")} <= await alarm_kinds(a)

    await wait_for(alarmed, 15, "the unreachable peer and the undelivered FLASH to raise alarms")
    health = await a.client.get("/v1/health")
    assert health.status_code == 503
    reasons = health.json()["reasons"]
    assert any(r.startswith("peer-unreachable GENSTAB") for r in reasons), reasons
    assert "GENSTAB: no path up" in reasons
    assert any(r.startswith("urgent-undelivered GENSTAB") for r in reasons), reasons

    said = json.loads(cli(a, "alerts", "--json"))
    [undelivered] = [x for x in said["alarms"] if x["kind"] == "urgent-undelivered"]
    assert sent["serial"] in undelivered["summary"]
    assert undelivered["level"] == "supervisor", "an undelivered FLASH calls for the supervisor"
    assert "Peer unreachable" in cli(a, "alerts")
    # The operator's open board shows both at the top, without a reload.
    await expect(page.locator('[data-alarm-key="peer-unreachable/GENSTAB"]')).to_contain_text("Peer unreachable")
    await expect(page.locator('[data-alarm-key="urgent-undelivered/GENSTAB"]')).to_contain_text(sent["serial"])
    await expect(board.locator("h2")).to_have_text("Channel alarms")
    assert await page.evaluate("window.__sameDocument === true")
    await snap(page, "alarms-01-peer-hung")

    metrics = (await a.client.get("/metrics")).text
    assert (
        'hotline_alarm{id="peer-unreachable/GENSTAB",kind="peer-unreachable",level="duty_officer",peer="GENSTAB"} 1.0'
        in metrics
    )
    assert 'hotline_peer_reachable{peer="GENSTAB"} 0.0' in metrics
    assert 'hotline_peer_undelivered_urgent_messages{peer="GENSTAB"} 1.0' in metrics
    assert PROMTOOL is not None, NO_PROMTOOL  # what Prometheus itself accepts
    checked = subprocess.run([PROMTOOL, "check", "metrics"], input=metrics, capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr

    def hooked(kind: str, event: str) -> dict[str, Any] | None:
        return next((e for e in hook_events(events) if (e["kind"], e["event"]) == (kind, event)), None)

    await wait_for(lambda: _ready(hooked("peer-unreachable", "raised")), 10, "the hook to hear of the peer")
    await wait_for(lambda: _ready(hooked("urgent-undelivered", "raised")), 10, "the hook to hear of the FLASH")
    told = hooked("peer-unreachable", "raised")
    assert told is not None
    assert (told["node"], told["peer"], told["type"]) == ("SACEUR", "GENSTAB", "alarm")
    assert told["calls_for"] == "duty officer"
    assert "GENSTAB" in told["summary"]
    log = a.log_path.read_text()
    # No path at all is the loudest alarm there is: the log says it at CRITICAL.
    warned = r"critical.*ALARM raised: Peer unreachable|ALARM raised: Peer unreachable.*critical"
    assert re.search(warned, log, re.IGNORECASE), "the log says it at CRITICAL"

    b.process.send_signal(signal.SIGCONT)
    await wait_for(lambda: _in_state(a, sent["serial"], "delivered"), 20, "the FLASH to be delivered")

    async def clear() -> bool:
        return not await a.api("GET", "/v1/alarms")

    await wait_for(clear, 20, "every alarm to clear")
    await expect(board).to_have_count(0)
    health = await a.client.get("/v1/health")
    assert (health.status_code, health.json()["reasons"]) == (200, [])
    await wait_for(lambda: _ready(hooked("peer-unreachable", "cleared")), 10, "the hook to hear it cleared")
    metrics = (await a.client.get("/metrics")).text
    assert "hotline_alarm{" not in metrics
    assert 'hotline_peer_messages_total{outcome="delivered",peer="GENSTAB"} 1.0' in metrics
    assert 'hotline_peer_reachable{peer="GENSTAB"} 1.0' in metrics
    waiting = re.search(r'hotline_oldest_unacknowledged_age_seconds\{side="sender"\} ([0-9.e+]+)', metrics)
    assert waiting is not None, "the FLASH awaits GENSTAB's acknowledgement"
    assert float(waiting.group(1)) > 0


async def _ready(value: Any) -> bool:
    return value is not None


async def _in_state(node: NodeProcess, serial: str, state: str) -> bool:
    return await state_of(node, serial) == state


@pytest.mark.skipif(PROMTOOL is None, reason=NO_PROMTOOL)
def test_the_example_alerting_rules_are_valid_prometheus_rules() -> None:
    assert PROMTOOL is not None
    checked = subprocess.run([PROMTOOL, "check", "rules", str(RULES)], capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS" in checked.stdout
    # And they fire as they say: a standing alarm pages, a node that stops answering pages.
    tested = subprocess.run(
        [PROMTOOL, "test", "rules", str(RULES.with_suffix(".test.yml"))], capture_output=True, text=True, check=False
    )
    assert tested.returncode == 0, tested.stdout + tested.stderr


# -- a store that went back in time ---------------------------------------------------------


async def test_a_store_restored_from_an_older_copy_stops_signing_until_it_catches_up(tmp_path: Path) -> None:
    a = make_node(tmp_path, "SACEUR", timers=QUICK)
    b = make_node(tmp_path, "GENSTAB", "ru", timers=QUICK)
    pin(a, b.config)
    pin(b, a.config)
    backup = tmp_path / "backup.db"
    try:
        await a.start()
        await b.start()
        await wait_for(lambda: a.connected("GENSTAB"), 20, "the link to come up")
        first = [await _send(a, f"before the backup {i}") for i in range(3)]
        await _all_delivered(a, first)
        # A backup as the operations guide says: sqlite3's .backup, consistent while the node runs.
        with (
            contextlib.closing(sqlite3.connect(a.config.store_path)) as live,
            contextlib.closing(sqlite3.connect(backup)) as copy,
        ):
            live.backup(copy)
        later = [await _send(a, f"after the backup {i}") for i in range(3)]
        await _all_delivered(a, later)
        assert a.stop() == 0
        for suffix in ("", "-wal", "-shm"):
            Path(f"{a.config.store_path}{suffix}").unlink(missing_ok=True)
        shutil.copy(backup, a.config.store_path)  # the disk is lost; the backup comes back
        await a.start()

        async def both_alarmed() -> bool:
            return ("store-behind", "GENSTAB") in await alarm_kinds(a) and (
                "peer-store-behind",
                "SACEUR",
            ) in await alarm_kinds(b)

        await wait_for(both_alarmed, 20, "both sides to see SACEUR's store behind")
        [behind] = [x for x in await a.api("GET", "/v1/alarms") if x["kind"] == "store-behind"]
        assert behind["loudest"]
        assert behind["level"] == "commander"
        assert "A store behind its peer" in behind["summary"]
        assert (await a.client.get("/v1/health")).status_code == 503
        metrics = (await a.client.get("/metrics")).text
        assert 'hotline_peer_signing_stopped{peer="GENSTAB"} 1.0' in metrics

        held = query(b, "SELECT num, env_id FROM inbox WHERE peer='SACEUR' ORDER BY num")
        urgent = await flash(a, "GENSTAB", "Sent while our store is behind")
        # Nothing is signed to the peer: the FLASH waits, queued, under no sequence number.
        outbox = await a.api("GET", f"/v1/messages/{urgent['serial']}")
        assert outbox["state"] == "queued"
        assert outbox["seq"] is None
        assert urgent["serial"] not in {serial("SACEUR", n) for n, _ in held}, "no serial the peer holds is used again"
        assert query(b, "SELECT num, env_id FROM inbox WHERE peer='SACEUR' ORDER BY num") == held

        refused = cli(a, "peer", "catch-up", "NOBODY", "--by", "cdr", "--remark", "restored", expect=4)
        assert "not a pinned peer" in refused
        said = cli(a, "peer", "catch-up", "GENSTAB", "--by", "cdr", "--remark", "restored from the 06:00 backup")
        assert "resumes at sequence number 7" in said
        await wait_for(lambda: _in_state(a, urgent["serial"], "delivered"), 20, "the FLASH to be delivered")
        numbers = [n for n, _ in query(b, "SELECT num, env_id FROM inbox WHERE peer='SACEUR'")]
        assert len(numbers) == len(set(numbers)) == 7, "seven messages, seven different serials"

        async def caught_up() -> bool:
            kinds = await alarm_kinds(a) | await alarm_kinds(b)
            return not kinds & {("store-behind", "GENSTAB"), ("peer-store-behind", "SACEUR")}

        await wait_for(caught_up, 20, "both sides to clear the numbering alarms")
        [entry] = [e for e in await _audit(a) if e[0] == "catch-up"]
        assert entry[1:] == ("cdr", "GENSTAB")
        cli(a, "peer", "catch-up", "GENSTAB", "--by", "cdr", "--remark", "again", expect=1)  # nothing to catch up
    finally:
        for node in (a, b):
            node.stop()
            await node.client.aclose()


async def _send(node: NodeProcess, text: str) -> str:
    body = {"to": "GENSTAB", "body": {"text": text, "lang": "en"}}
    return str((await node.api("POST", "/v1/messages", json=body))["serial"])


async def _all_delivered(node: NodeProcess, serials: list[str]) -> None:
    async def delivered() -> bool:
        return all([await state_of(node, s) == "delivered" for s in serials])

    await wait_for(delivered, 20, f"{serials} to be delivered")


async def _audit(node: NodeProcess) -> list[tuple[str, str, str]]:
    return [(a, u, t) for a, u, t in query(node, "SELECT action, user, target FROM console_audit ORDER BY at_ms")]


# -- a clock three days slow -----------------------------------------------------------------


@pytest.mark.skipif(FAKETIME is None, reason=NO_FAKETIME)
async def test_a_node_three_days_slow_connects_and_both_sides_raise_a_clock_alarm(tmp_path: Path) -> None:
    assert FAKETIME is not None
    a = make_node(tmp_path, "SACEUR", timers=QUICK)
    b = make_node(tmp_path, "GENSTAB", "ru", timers=QUICK)
    pin(a, b.config)
    pin(b, a.config)
    # GENSTAB's wall clock three days slow; its monotonic clock left alone.
    b.env = {"LD_PRELOAD": str(FAKETIME), "FAKETIME": "-3d", "FAKETIME_DONT_FAKE_MONOTONIC": "1"}
    try:
        await a.start()
        await b.start()
        await wait_for(lambda: a.connected("GENSTAB"), 20, "the link to come up despite the certificates' dates")

        async def skewed(node: NodeProcess, peer: str) -> dict[str, Any] | None:
            found = [x for x in await node.api("GET", "/v1/alarms", params={"lang": "en"}) if x["kind"] == "clock-skew"]
            return next((x for x in found if x["peer"] == peer), None)

        await wait_for(lambda: skewed(a, "GENSTAB"), 20, "SACEUR to see GENSTAB's clock behind")
        await wait_for(lambda: skewed(b, "SACEUR"), 20, "GENSTAB to see SACEUR's clock ahead")
        seen = await skewed(a, "GENSTAB")
        assert seen is not None
        assert "behind ours" in seen["summary"]
        assert round(seen["facts"]["skew_ms"] / 86_400_000) == -3
        sent = await _send(a, "Dated three days ahead of GENSTAB's clock")
        await _all_delivered(a, [sent])
        await wait_for(lambda: _logged(b, "message dated ahead of our clock"), 10, "GENSTAB to log the message's date")
        ahead = await skewed(b, "SACEUR")
        assert ahead is not None
        assert ahead["facts"]["serial"] == sent
    finally:
        for node in (a, b):
            node.stop()
            await node.client.aclose()
    # Stopped means gone: a wrapper that forks (faketime does) once left the node itself running.
    assert _processes_naming(b.config.directory) == []


def _processes_naming(directory: Path) -> list[int]:
    """Processes whose command line names ``directory``."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        with contextlib.suppress(OSError):
            if str(directory).encode() in cmdline.read_bytes().split(b"\0"):
                found.append(int(cmdline.parent.name))
    return found


async def _logged(node: NodeProcess, text: str) -> bool:
    return text in node.log_path.read_text()


# -- no alarm without cause -------------------------------------------------------------------


async def test_a_peer_returning_to_a_backlog_raises_no_alarm(tmp_path: Path) -> None:
    """GENSTAB returns to 300 ROUTINE messages and a FLASH queued at SACEUR: the FLASH goes first
    on the urgent lane, often before the ordinary lane's hello is read. That hello's "next I
    send" was written before the FLASH was signed; it must not read as a store gone back."""
    a = make_node(tmp_path, "SACEUR", timers=QUICK)
    b = make_node(tmp_path, "GENSTAB", "ru", timers=QUICK)
    pin(a, b.config)
    pin(b, a.config)
    try:
        await a.start()
        for attempt in range(3):  # the race is the point: three returns, each must stay quiet
            body = {"to": "GENSTAB", "body": {"text": f"backlog {attempt}", "lang": "en"}}
            await a.api("POST", "/v1/messages/batch", json={"messages": [body] * 300})
            urgent = await flash(a, "GENSTAB", f"first through, return {attempt}")
            await b.start()
            await wait_for(lambda u=urgent: _in_state(a, u["serial"], "delivered"), 20, "the FLASH to be delivered")
            await wait_for(lambda: _backlog_delivered(a), 30, "the backlog to be delivered")
            assert await alarm_kinds(b) == set(), f"return {attempt}: GENSTAB raised an alarm without cause"
            assert "ALARM raised" not in b.log_path.read_text(), "not even one that cleared since"
            assert b.stop() == 0
    finally:
        for node in (a, b):
            node.stop()
            await node.client.aclose()


async def _backlog_delivered(node: NodeProcess) -> bool:
    return not query(node, "SELECT 1 FROM outbox WHERE delivered_ms IS NULL AND rejected_ms IS NULL LIMIT 1")
