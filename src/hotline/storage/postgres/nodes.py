"""The party's nodes as the shared database lists them: each one's number and addresses.

Written when a node is made (``hotline init --store`` for the first, ``--join`` for each
after), read to build the party's identity card, whose every path names one address per node
(``a|b``), and to tell a dialing peer where the active node is.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import psycopg

from hotline.errors import StoreError
from hotline.storage.postgres.connection import connect, describe


@dataclass(frozen=True)
class PartyNode:
    number: int
    listen: str
    api: str
    advertise: tuple[str, ...]


def party_nodes(url: str) -> list[PartyNode]:
    """Every node of the party, by number."""
    conn = connect(url, read_only=True)
    try:
        rows = conn.execute("SELECT number, listen, api, advertise FROM nodes ORDER BY number").fetchall()
    except psycopg.Error as exc:
        raise StoreError(f"cannot read the party's nodes at {describe(url)} ({exc})") from None
    finally:
        conn.close()
    return [PartyNode(r[0], r[1], r[2], tuple(json.loads(r[3]))) for r in rows]


def register_node(url: str, listen: str, api: str, advertise: tuple[str, ...]) -> int:
    """Add a node of the party; its number. Every node has as many paths as the first."""
    conn = connect(url)
    try:
        with conn.transaction():
            conn.execute("LOCK TABLE nodes IN EXCLUSIVE MODE")  # two joining at once get two numbers
            rows = conn.execute("SELECT number, listen, api, advertise FROM nodes ORDER BY number").fetchall()
            for number, other_listen, other_api, other_advertise in rows:
                taken = {other_listen, other_api, *json.loads(other_advertise)} & {listen, api, *advertise}
                if taken:
                    raise StoreError(f"node {number} of the party already uses {', '.join(sorted(taken))}")
            if rows and len(json.loads(rows[0][3])) != len(advertise):
                raise StoreError(
                    f"the party's nodes advertise {len(json.loads(rows[0][3]))} addresses each (one per path);"
                    f" this one gives {len(advertise)}"
                )
            number = (rows[-1][0] if rows else 0) + 1
            conn.execute(
                "INSERT INTO nodes (number, listen, api, advertise, joined_ms) VALUES (%s, %s, %s, %s, %s)",
                (number, listen, api, json.dumps(list(advertise)), int(time.time() * 1000)),
            )
    except psycopg.Error as exc:
        raise StoreError(f"cannot add the node at {describe(url)} ({exc})") from None
    finally:
        conn.close()
    return number


SESSION_NAME = "hotline-node-{}"  # each node's writing session, as pg_stat_activity shows it


def connected_nodes(url: str) -> set[int]:
    """The party's nodes whose writing session is connected to the database now: the active
    node and the standbys that ask for the lease (a node that died or hangs is missing)."""
    conn = connect(url, read_only=True, application="hotline-tool")
    try:
        rows = conn.execute(
            "SELECT application_name FROM pg_stat_activity WHERE datname = current_database()"
            " AND application_name LIKE 'hotline-node-%'"
        ).fetchall()
    except psycopg.Error as exc:
        raise StoreError(f"cannot read who is connected to {describe(url)} ({exc})") from None
    finally:
        conn.close()
    return {int(name.rsplit("-", 1)[1]) for (name,) in rows if name.rsplit("-", 1)[1].isdigit()}


def card_addresses(nodes: list[PartyNode]) -> tuple[str, ...]:
    """The card's addresses: for each path, every node's address on it, in node order."""
    if not nodes:
        return ()
    paths = len(nodes[0].advertise)
    return tuple(
        "|".join(node.advertise[path] for node in nodes if path < len(node.advertise)) for path in range(paths)
    )
