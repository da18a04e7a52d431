"""A party on PostgreSQL: a real node process whose store is a database on a real server,
paired with a party on SQLite. Messages both ways, a SIGKILL in the middle, the transcript
audited afterwards."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from hotline.errors import ConfigError, StoreError
from hotline.testing.postgres import PostgresServer
from hotline.testing.process import pair, run_cli
from tests.integration.harness import QUIET_WATCH, NodeProcess, stop_all, wait_for

_names = itertools.count()


def database(postgres: PostgresServer) -> str:
    return postgres.create_database(f"node{next(_names)}")


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
