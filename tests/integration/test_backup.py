"""`hotline backup` and `hotline restore` (issue #17, item 4): a consistent copy of a running
node's store, mode 0600, and putting it back into a stopped node; every wrong use refused,
changing nothing.
"""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from hotline.envelope import serial
from hotline.testing.postgres import PostgresServer
from hotline.testing.process import pair
from tests.integration.harness import QUIET_WATCH, NodeProcess, paired, query, stop_all, wait_for

pytestmark = pytest.mark.slow


def hotline(node: NodeProcess, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "hotline", *args, "--dir", str(node.config.directory)]
    return subprocess.run(command, capture_output=True, text=True, check=False)


async def send(sender: NodeProcess, to: str, text: str) -> str:
    sent = await sender.api("POST", "/v1/messages", json={"to": to, "body": {"text": text, "lang": "en"}})
    return str(sent["serial"])


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


async def test_a_backup_of_a_running_node_restores_into_it_stopped(tmp_path: Path) -> None:
    async with paired(tmp_path) as (a, b):
        stop = asyncio.Event()

        async def traffic() -> None:  # both ways, while the backup is made
            n = 0
            while not stop.is_set():
                n += 1
                await send(a, "GENSTAB", f"out {n}")
                await send(b, "SACEUR", f"back {n}")

        flowing = asyncio.create_task(traffic())
        await wait_for(lambda: _delivered(a, 5), 20, "traffic to flow")
        copy = tmp_path / "saceur.backup"
        made = hotline(a, "backup", "--out", str(copy))
        stop.set()
        await flowing
        assert made.returncode == 0, made.stderr
        assert "Backed up SACEUR's store to" in made.stdout
        assert stat.S_IMODE(copy.stat().st_mode) == 0o600, "a backup holds every message: the node's alone"
        assert sorted(p.name for p in tmp_path.glob("saceur.backup*")) == ["saceur.backup"], "one file, nothing beside"
        # The copy is one commit's store: whole, its log consistent (audited as the node would).
        conn = sqlite3.connect(copy)
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        conn.close()

        # Restoring into a running node is refused (its store is left to it).
        refused = hotline(a, "restore", "--from", str(copy))
        assert refused.returncode == 3
        assert "is running: stop it, then restore" in refused.stderr
        assert not any(p.name.startswith("store.db.before-restore-") for p in a.config.directory.iterdir())
        a.stop()
        before = digest(a.config.store_path)

        # Neither garbage nor another party's store is taken.
        garbage = tmp_path / "garbage.backup"
        garbage.write_bytes(b"\x00 not a store " * 500)
        wrong = hotline(a, "restore", "--from", str(garbage))
        assert wrong.returncode == 3
        assert "is not a hotline store" in wrong.stderr
        theirs = tmp_path / "genstab.backup"
        assert hotline(b, "backup", "--out", str(theirs)).returncode == 0
        other = hotline(a, "restore", "--from", str(theirs))
        assert other.returncode == 3
        assert "not this node's" in other.stderr
        assert digest(a.config.store_path) == before, "a refused restore changed the store"

        done = hotline(a, "restore", "--from", str(copy), "--wait", "0")  # the copy alone (test_recovery.py recovers)
        assert done.returncode == 0, done.stderr
        assert "Restored SACEUR's store" in done.stdout
        assert "will not start until it has recovered from its peers" in done.stdout
        kept = [p for p in a.config.directory.iterdir() if p.name.startswith("store.db.before-restore-")]
        assert kept, "the store replaced is kept aside"
        # The copy's content, and the restore recorded: the node waits for its recovery.
        copied = sqlite3.connect(copy)
        assert (
            query(a, "SELECT idx, obj FROM transcript ORDER BY idx")
            == copied.execute("SELECT idx, obj FROM transcript ORDER BY idx").fetchall()
        )
        copied.close()
        assert query(a, "SELECT backup, done_ms FROM recoveries") == [("saceur.backup", None)]
        assert stat.S_IMODE(a.config.store_path.stat().st_mode) == 0o600
        audit = hotline(a, "log", "audit", "--json")
        assert audit.returncode == 0, audit.stdout + audit.stderr


async def _delivered(node: NodeProcess, at_least: int) -> bool:
    outbox: list[dict[str, object]] = await node.api("GET", "/v1/outbox?limit=1000")
    return sum(m["state"] == "delivered" for m in outbox) >= at_least


async def test_a_party_on_postgresql_backs_up_with_pg_dump_and_restores_with_its_nodes_stopped(
    tmp_path: Path, postgres: PostgresServer
) -> None:
    url = postgres.create_database("backup")
    alpha = NodeProcess.create(tmp_path, "ALPHA", settings={"watch": QUIET_WATCH}, store=url)
    bravo = NodeProcess.create(tmp_path, "BRAVO", language="ru", settings={"watch": QUIET_WATCH})
    pair(alpha, bravo)
    try:
        await alpha.start()
        await bravo.start()
        await wait_for(lambda: bravo.connected("ALPHA"), 20, "BRAVO linked to ALPHA")
        first = await send(alpha, "BRAVO", "before the backup")
        copy = tmp_path / "alpha.dump"
        made = hotline(alpha, "backup", "--out", str(copy))
        assert made.returncode == 0, made.stderr
        assert stat.S_IMODE(copy.stat().st_mode) == 0o600
        later = await send(alpha, "BRAVO", "after the backup")
        refused = hotline(alpha, "restore", "--from", str(copy))
        assert refused.returncode == 3
        alpha.stop()
        theirs = tmp_path / "bravo.backup"
        assert hotline(bravo, "backup", "--out", str(theirs)).returncode == 0
        wrong = hotline(alpha, "restore", "--from", str(theirs))
        assert wrong.returncode == 3
        assert "PostgreSQL dump" in wrong.stderr or "cannot read" in wrong.stderr
        done = hotline(alpha, "restore", "--from", str(copy), "--wait", "0")
        assert done.returncode == 0, done.stderr
        with psycopg.connect(url) as conn:
            serials = {serial("ALPHA", num) for (num,) in conn.execute("SELECT num FROM outbox")}
        assert first in serials
        assert later not in serials, "the database is the backup's again"
    finally:
        stop_all((alpha, bravo))
        for node in (alpha, bravo):
            await node.aclose()
