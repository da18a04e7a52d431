"""A node restored from an older backup recovers from its peers what the copy lacks, before it
signs anything (issue #17, item 4): real node processes over TLS, a real `kill -9`, the store
deleted, `hotline restore` of the older copy, then the node started again.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg
import pytest

from hotline.node import parse_address
from hotline.node.tls import tls_context
from hotline.protocol import RECOVERY_ALPN, FrameReader, FrameType, encode_frame
from hotline.testing.postgres import PostgresServer
from hotline.testing.process import pair
from tests.integration.harness import QUIET_WATCH, NodeProcess, paired, query, stop_all, wait_for

pytestmark = pytest.mark.slow
# What would say that the transcripts or the numbering disagree after the recovery.
TRANSCRIPT_ALARMS = {"equivocation", "alleged-equivocation", "store-behind", "peer-store-behind", "serial-reused",
                     "numbering-refused"}  # fmt: skip


def hotline(node: NodeProcess, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "hotline", *args, "--dir", str(node.config.directory)]
    return subprocess.run(command, capture_output=True, text=True, check=False)


def exact_part(said: str) -> int:
    found = re.search(r"positions up to (\d+) hold exactly what the witnesses cosigned", said)
    assert found, said
    return int(found.group(1))


def restored_at(said: str) -> int:
    found = re.search(r"restored at log size (\d+)", said)
    assert found, said
    return int(found.group(1))


async def send(sender: NodeProcess, to: str, text: str) -> str:
    sent = await sender.api("POST", "/v1/messages", json={"to": to, "body": {"text": text, "lang": "en"}})
    return str(sent["serial"])


async def delivered(node: NodeProcess, serials: list[str]) -> bool:
    outbox: list[dict[str, Any]] = await node.api("GET", "/v1/outbox?limit=1000")
    done = {m["serial"] for m in outbox if m["state"] == "delivered"}
    return set(serials) <= done


async def both_ways(a: NodeProcess, b: NodeProcess, label: str, count: int) -> tuple[list[str], list[str]]:
    out = [await send(a, b.party, f"{label} {n}") for n in range(count)]
    back = [await send(b, a.party, f"{label} {n}") for n in range(count)]
    await wait_for(lambda: delivered(a, out), 30, f"{a.party}'s {label} messages delivered")
    await wait_for(lambda: delivered(b, back), 30, f"{b.party}'s {label} messages delivered")
    return out, back


async def check_recovered(a: NodeProcess, b: NodeProcess, sent_by_b: list[str]) -> None:
    """After the restored node is back: one more message each way, then the must-show checks."""
    await wait_for(lambda: a.connected(b.party), 30, f"{a.party} linked to {b.party} again")
    last_out, last_back = await both_ways(a, b, "back on watch", 2)
    # The peer's inbox from the restored node: one gapless sequence, no number used twice.
    inbox_b: list[dict[str, Any]] = await b.api("GET", "/v1/inbox?limit=1000")
    from_a = [m for m in inbox_b if m["from"] == a.party]
    seqs = sorted(m["seq"] for m in from_a)
    assert seqs == list(range(1, len(seqs) + 1)), f"{b.party}'s sequence from {a.party} has a gap or a repeat"
    serials = [m["serial"] for m in from_a]
    assert len(serials) == len(set(serials)), "a serial was signed twice"
    assert set(last_out) <= set(serials)
    # The restored node holds what the peer sent after the backup, and since.
    inbox_a: list[dict[str, Any]] = await a.api("GET", "/v1/inbox?limit=1000")
    got = [m["serial"] for m in inbox_a if m["from"] == b.party]
    assert set(sent_by_b + last_back) <= set(got), "what the peer sent after the backup is missing"
    assert len(got) == len(set(got))
    for node in (a, b):
        alarms: list[dict[str, Any]] = await node.api("GET", "/v1/alarms")
        bad = [x for x in alarms if x["kind"] in TRANSCRIPT_ALARMS]
        assert not bad, f"{node.party} raised {bad}"
    # Both logs audit clean, the restored one with the checkpoints the peer cosigned after.
    await wait_for(lambda: _cosigned_to_end(a), 30, f"{b.party} to cosign {a.party}'s rebuilt log")
    for node in (a, b):
        audit = hotline(node, "log", "audit")
        assert audit.returncode == 0, audit.stdout + audit.stderr


async def _cosigned_at_least(node: NodeProcess, size: int) -> bool:
    transcript: dict[str, Any] = await node.api("GET", "/v1/transcript")
    checkpoint = transcript["checkpoint"]
    return bool(checkpoint and checkpoint["cosigned_by"] and checkpoint["size"] >= size)


async def _cosigned_to_end(node: NodeProcess) -> bool:
    """A checkpoint made after the recovery is cosigned: the peer found the rebuilt log consistent
    with what it had cosigned before the loss (the restored checkpoint carries no cosignature)."""
    transcript: dict[str, Any] = await node.api("GET", "/v1/transcript")
    return bool(transcript["checkpoint"] and transcript["checkpoint"]["cosigned_by"])


async def test_a_node_restored_from_an_older_backup_recovers_everything_from_its_peer(tmp_path: Path) -> None:
    # Checkpoints every 3 s rather than every second: the last messages before the loss are then
    # most likely not yet cosigned, and come back by the positions our receipts named.
    async with paired(tmp_path, timers={"checkpoint_interval": 3.0}) as (a, b):
        await wait_for(lambda: a.connected("GENSTAB"), 20, "SACEUR linked to GENSTAB")
        await both_ways(a, b, "before", 4)
        copy = tmp_path / "saceur.backup"
        assert hotline(a, "backup", "--out", str(copy)).returncode == 0
        _, sent_by_b = await both_ways(a, b, "after", 6)
        # GENSTAB cosigns SACEUR's log as it grows (every second): let it cosign this much, so
        # that the recovery rebuilds a cosigned part position by position; what follows is
        # lost with the machine before anyone cosigns it, and is put back by its receipts.
        cosigned = query(a, "SELECT count(*) FROM transcript")[0][0]
        await wait_for(lambda: _cosigned_at_least(a, cosigned), 30, "GENSTAB to cosign SACEUR's log")
        _, last_by_b = await both_ways(a, b, "last", 3)
        sent_by_b += last_by_b
        size_before = query(a, "SELECT count(*) FROM transcript")[0][0]
        a.kill()  # the machine is lost: no orderly stop
        for part in a.config.directory.glob("store.db*"):
            part.unlink()

        # `restore` recovers at once, the peer being up (the node would refuse to start before).
        done = hotline(a, "restore", "--from", str(copy))
        assert done.returncode == 0, done.stdout + done.stderr
        assert "Recovered from the peers" in done.stdout
        assert "Nothing was lost." in done.stdout
        assert exact_part(done.stdout) >= cosigned > restored_at(done.stdout), "a cosigned part is rebuilt as it was"
        assert query(a, "SELECT count(*) FROM transcript")[0][0] >= size_before
        # Every message of ours the peer had receipted is delivered again, before any resend.
        assert query(a, "SELECT state, count(*) FROM outbox GROUP BY state") == [("delivered", 13)]
        assert query(a, "SELECT count(*) FROM inbox") == [(13,)], "4 + 6 + 3 messages from GENSTAB"
        recovered = query(b, "SELECT detail FROM console_audit WHERE action='peer-recovered'")
        assert recovered, "the peer keeps in its audit trail that it gave back what the copy lacked"
        await a.start()
        await check_recovered(a, b, sent_by_b)

        # A second recovery has nothing to do: refused, saying why, changing nothing.
        a.stop()
        again = hotline(a, "recover")
        assert again.returncode != 0
        assert "nothing to recover: the restore from saceur.backup recovered from the peers on" in again.stderr
        # The restored node's own audit trail says what happened to its store.
        actions = [a for (a,) in query(a, "SELECT action FROM console_audit ORDER BY at_ms")]
        assert actions[-2:] == ["restored", "restore-recovered"]


async def ask_raw(asker: NodeProcess, asked: NodeProcess, data: bytes) -> dict[str, Any]:
    """Open a recovery connection as ``asker`` (pinned by ``asked``), write ``data``, and read
    the one frame the node answers before it closes."""
    context = tls_context(False, *asker.config.tls_files(), [asked.config.tls_cert_der()])
    context.set_alpn_protocols([RECOVERY_ALPN])
    host, port = parse_address(asked.config.listen)
    reader, writer = await asyncio.open_connection(host, port, ssl=context, server_hostname=host)
    try:
        writer.write(data)
        frames = FrameReader(4 << 20)
        async with asyncio.timeout(10):
            while (frame := frames.next_frame()) is None:
                chunk = await reader.read(1 << 16)
                assert chunk, "closed without saying why"
                frames.feed(chunk)
        kind, fields = frame
        return {"kind": kind.value, **fields}
    finally:
        writer.close()


async def recover_raw(asker: NodeProcess, asked: NodeProcess, report: str, lost: bool) -> list[dict[str, Any]]:
    """A whole recovery exchange by hand: ask from the start, read every part, then report."""
    context = tls_context(False, *asker.config.tls_files(), [asked.config.tls_cert_der()])
    context.set_alpn_protocols([RECOVERY_ALPN])
    host, port = parse_address(asked.config.listen)
    reader, writer = await asyncio.open_connection(host, port, ssl=context, server_hostname=host)
    parts: list[dict[str, Any]] = []
    try:
        writer.write(encode_frame(FrameType.RECOVER, size=0, ours_from=1, theirs_from=1))
        frames = FrameReader(4 << 20)
        async with asyncio.timeout(10):
            while not parts or parts[-1].get("part") != "end":
                frame = frames.next_frame()
                if frame is None:
                    chunk = await reader.read(1 << 16)
                    assert chunk, "closed before the end"
                    frames.feed(chunk)
                    continue
                parts.append(frame[1])
        writer.write(encode_frame(FrameType.RECOVER, report=report, lost=lost))
        await writer.drain()
        async with asyncio.timeout(10):
            assert await reader.read(1) == b"", "the peer closes once it has the report"
    finally:
        writer.close()
    return parts


async def test_a_recovery_request_that_is_wrong_is_refused_saying_why_and_changes_nothing(tmp_path: Path) -> None:
    async with paired(tmp_path) as (a, b):
        await wait_for(lambda: a.connected("GENSTAB"), 20, "SACEUR linked to GENSTAB")
        await both_ways(a, b, "before", 2)
        before = query(b, "SELECT count(*) FROM transcript")
        body = b"\xff not cbor"
        garbage = await ask_raw(a, b, len(body).to_bytes(4, "big") + body)
        assert (garbage["kind"], garbage["code"]) == ("error", "malformed-frame")
        fields = await ask_raw(a, b, encode_frame(FrameType.RECOVER, size="all", ours_from=1, theirs_from=1))
        assert fields["code"] == "malformed-frame"
        assert "recover needs integers" in fields["detail"]
        other = await ask_raw(a, b, encode_frame(FrameType.PING, n=1))
        assert other["code"] == "unexpected-frame"
        huge = await ask_raw(a, b, (64 << 20).to_bytes(4, "big"))
        assert huge["code"] == "frame-too-large"
        # A request that is right is answered, in parts, starting with what GENSTAB cosigned; the
        # report that follows, if it says something was lost, is GENSTAB's alarm too.
        parts = await recover_raw(a, b, report="2 receipt(s) of ours could not be kept", lost=True)
        assert parts[0]["part"] == "head"
        assert parts[-1]["part"] == "end"
        assert parts[-1]["count"] >= 8, "the objects exchanged since the start come back"

        async def alarmed() -> bool:
            alarms: list[dict[str, Any]] = await b.api("GET", "/v1/alarms")
            return any(x["kind"] == "restore-losses" and x["peer"] == "SACEUR" for x in alarms)

        await wait_for(alarmed, 10, "GENSTAB's alarm that SACEUR's restore lost something")
        [(detail,)] = query(b, "SELECT detail FROM console_audit WHERE action='peer-recovered'")
        assert "could not be kept" in detail
        # The node kept running, its link and its store as they were.
        assert await a.connected("GENSTAB")
        assert query(b, "SELECT count(*) FROM transcript") == before
        await both_ways(a, b, "after", 1)


async def test_a_restored_node_refuses_to_start_until_it_has_recovered(tmp_path: Path) -> None:
    async with paired(tmp_path) as (a, b):
        await wait_for(lambda: a.connected("GENSTAB"), 20, "SACEUR linked to GENSTAB")
        copy = tmp_path / "saceur.backup"
        assert hotline(a, "backup", "--out", str(copy)).returncode == 0
        _, sent_by_b = await both_ways(a, b, "after", 3)
        a.stop()
        b.stop()  # the peer is away: nothing to recover from yet
        done = hotline(a, "restore", "--from", str(copy), "--wait", "1")
        assert done.returncode != 0
        assert "no answer from GENSTAB" in done.stderr
        started = subprocess.run(a.command(), capture_output=True, text=True, check=False, timeout=60,
                                 env=a.environment())  # fmt: skip
        assert started.returncode != 0
        assert "has not recovered from the peers yet" in started.stdout + started.stderr
        await b.start()
        later = hotline(a, "recover")
        assert later.returncode == 0, later.stdout + later.stderr
        await a.start()
        await check_recovered(a, b, sent_by_b)
        running = hotline(a, "recover")  # not "stop it": a running node's store is whole
        assert running.returncode == 3
        assert "nothing to recover" in running.stderr
        assert "stop it" not in running.stderr


async def test_recovering_without_a_peer_says_plainly_what_is_lost(tmp_path: Path) -> None:
    async with paired(tmp_path) as (a, b):
        await wait_for(lambda: a.connected("GENSTAB"), 20, "SACEUR linked to GENSTAB")
        copy = tmp_path / "saceur.backup"
        assert hotline(a, "backup", "--out", str(copy)).returncode == 0
        await both_ways(a, b, "after", 2)
        a.stop()
        b.stop()
        assert hotline(a, "restore", "--from", str(copy), "--wait", "0").returncode == 0
        wrong = hotline(a, "recover", "--wait", "-1")
        assert wrong.returncode == 2, "a wrong argument is refused before anything is done"
        assert "--wait" in wrong.stderr
        gone = hotline(a, "recover", "--without", "genstab")
        assert gone.returncode == 3, gone.stdout + gone.stderr
        assert "not asked: GENSTAB (what only they hold is not recovered)" in gone.stdout
        assert "Recovered with losses" in gone.stderr
        await a.start()  # it may start: the loss is said, and its numbering is the copy's
        alarms: list[dict[str, Any]] = await a.api("GET", "/v1/alarms")
        assert any(x["kind"] == "restore-losses" and "not asked: GENSTAB" in x["summary"] for x in alarms), alarms


async def test_a_party_on_postgresql_recovers_the_same_way(tmp_path: Path, postgres: PostgresServer) -> None:
    url = postgres.create_database("recovery")
    alpha = NodeProcess.create(tmp_path, "ALPHA", settings={"watch": QUIET_WATCH}, store=url)
    bravo = NodeProcess.create(tmp_path, "BRAVO", language="ru", settings={"watch": QUIET_WATCH})
    pair(alpha, bravo)
    try:
        await alpha.start()
        await bravo.start()
        await wait_for(lambda: bravo.connected("ALPHA"), 20, "BRAVO linked to ALPHA")
        await both_ways(alpha, bravo, "before", 3)
        copy = tmp_path / "alpha.dump"
        assert hotline(alpha, "backup", "--out", str(copy)).returncode == 0
        _, sent_by_bravo = await both_ways(alpha, bravo, "after", 5)
        with psycopg.connect(url) as conn:
            (cosigned,) = conn.execute("SELECT count(*) FROM transcript").fetchone() or (0,)
        await wait_for(lambda: _cosigned_at_least(alpha, cosigned), 30, "BRAVO to cosign ALPHA's log")
        _, last_by_bravo = await both_ways(alpha, bravo, "last", 2)
        sent_by_bravo += last_by_bravo
        alpha.kill()
        done = hotline(alpha, "restore", "--from", str(copy))
        assert done.returncode == 0, done.stdout + done.stderr
        assert "Nothing was lost." in done.stdout
        assert exact_part(done.stdout) >= cosigned > restored_at(done.stdout), "a cosigned part is rebuilt as it was"
        await alpha.start()
        await wait_for(lambda: _active(alpha), 20, "ALPHA to take the lease again")
        await check_recovered(alpha, bravo, sent_by_bravo)
    finally:
        stop_all((alpha, bravo))
        for node in (alpha, bravo):
            await node.aclose()


async def _active(node: NodeProcess) -> bool:
    return (await node.client.get("/v1/outbox")).status_code == 200
