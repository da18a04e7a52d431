"""A party on PostgreSQL: a real node process whose store is a database on a real server,
paired with a party on SQLite. Messages both ways, a SIGKILL in the middle, the transcript
audited afterwards."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from hotline.errors import ConfigError, StoreError
from hotline.testing.postgres import PostgresServer
from hotline.testing.process import pair, run_cli
from tests.integration.harness import QUIET_WATCH, NodeProcess, stop_all, wait_for

_names = itertools.count()


def database(postgres: PostgresServer) -> str:
    return postgres.create_database(f"node{next(_names)}")


async def is_active(node: NodeProcess) -> bool:
    return bool((await node.api("GET", "/v1/status"))["role"] == "active")  # never refused: see serve_party_node


async def delivered(node: NodeProcess, count: int) -> bool:
    items = await node.api("GET", "/v1/outbox?limit=1000")
    return len(items) >= count and all(i["state"] == "delivered" for i in items)


async def test_a_node_on_postgresql_exchanges_survives_a_kill_and_audits_clean(
    tmp_path: Path, postgres: PostgresServer
) -> None:
    alpha = NodeProcess.create(tmp_path, "ALPHA", settings={"watch": QUIET_WATCH}, store=database(postgres))
    bravo = NodeProcess.create(tmp_path, "BRAVO", language="ru", settings={"watch": QUIET_WATCH})
    assert not alpha.config.store_path.exists()
    pair(alpha, bravo)
    try:
        await alpha.start()
        await bravo.start()
        await wait_for(lambda: alpha.connected("BRAVO"), 20, "the link to come up")
        for n in range(5):
            await alpha.api("POST", "/v1/messages", json={"to": "BRAVO", "body": {"text": f"A{n}", "lang": "en"}})
            await bravo.api("POST", "/v1/messages", json={"to": "ALPHA", "body": {"text": f"B{n}", "lang": "ru"}})
        await wait_for(lambda: delivered(alpha, 5), 20, "ALPHA's messages delivered")

        alpha.kill()
        await bravo.api("POST", "/v1/messages", json={"to": "ALPHA", "body": {"text": "B5", "lang": "ru"}})
        await alpha.start()
        # Started again, it stands by until the killed run's session has ended and it takes the
        # lease (at once here: the server sees the connection close).
        await wait_for(lambda: is_active(alpha), 10, "ALPHA to take the lease again")
        await alpha.api("POST", "/v1/messages", json={"to": "BRAVO", "body": {"text": "A5", "lang": "en"}})
        await wait_for(lambda: delivered(alpha, 6), 20, "ALPHA's messages delivered after its restart")
        await wait_for(lambda: delivered(bravo, 6), 20, "BRAVO's messages delivered to ALPHA after its restart")

        inbox = await bravo.api("GET", "/v1/inbox?limit=1000")
        assert sorted(m["seq"] for m in inbox) == list(range(1, 7)), "BRAVO holds ALPHA's messages once, gapless"
        got = await alpha.api("GET", "/v1/inbox?limit=1000")
        assert sorted(m["text"] for m in got) == [f"B{n}" for n in range(6)]
    finally:
        stop_all((alpha, bravo))
        for node in (alpha, bravo):
            await node.aclose()
    report = json.loads(run_cli("log", "audit", "--json", "--dir", str(alpha.config.directory)))
    assert report["problems"] == [], report
    assert report["entries"] > 12, report
    assert "BRAVO" in run_cli("peer", "list", "--dir", str(alpha.config.directory))


def test_init_refuses_a_database_it_cannot_use_and_creates_nothing(tmp_path: Path, postgres: PostgresServer) -> None:
    from hotline.node import init_node

    taken = database(postgres)
    init_node(tmp_path / "bravo", "BRAVO", "127.0.0.1:1", "127.0.0.1:2", store=taken)
    for store, error, said in (
        (taken, StoreError, "is BRAVO's store, not ALPHA's"),
        (f"postgresql://hotline@127.0.0.1:{postgres.port}/absent", StoreError, 'database "absent" does not exist'),
        ("mysql://somewhere/db", ConfigError, "is not a PostgreSQL address"),
    ):
        with pytest.raises(error, match=said):
            init_node(tmp_path / "alpha", "ALPHA", "127.0.0.1:3", "127.0.0.1:4", store=store)
        assert not (tmp_path / "alpha").exists()


def test_a_node_refuses_at_start_a_database_it_cannot_use_and_changes_nothing(
    tmp_path: Path, postgres: PostgresServer
) -> None:
    from hotline.node import init_node
    from hotline.testing.process import configure, free_port

    ours, theirs = database(postgres), database(postgres)
    node = init_node(tmp_path / "alpha", "ALPHA", f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}", store=ours)
    init_node(tmp_path / "bravo", "BRAVO", f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}", store=theirs)
    with psycopg.connect(ours, autocommit=True) as conn:
        conn.execute("UPDATE store_meta SET version = version + 1")
    dead = f"postgresql://hotline@127.0.0.1:{free_port()}/x?connect_timeout=2"
    for store, said in (
        (dead, "cannot reach the database at postgresql://127.0.0.1:"),
        (theirs, "is BRAVO's store, not ALPHA's"),
        (ours, "newer than this program"),
    ):
        configure(node.directory, {"store": store})
        before = {url: snapshot(url) for url in (ours, theirs)}
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "hotline", "run", "--dir", str(node.directory)],
            capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
        assert done.returncode != 0
        assert said in done.stderr, done.stderr
        assert time.monotonic() - started < 15, "the error comes at once, not after retries"
        assert {url: snapshot(url) for url in (ours, theirs)} == before, "nothing changed"


def snapshot(url: str) -> list[tuple[object, ...]]:
    with psycopg.connect(url) as conn:
        meta = conn.execute("SELECT version, party FROM store_meta").fetchall()
        lease = conn.execute("SELECT epoch, holder FROM lease").fetchall()
        nodes = conn.execute("SELECT number, listen FROM nodes ORDER BY number").fetchall()
    return [*meta, *lease, *nodes]
