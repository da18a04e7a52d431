"""The settings every node of a party must run with alike, compared across its nodes.

``config.toml`` is copied when a node joins; what it says beyond the node's own addresses
(deadlines, the watch, alarms, bounds, the console) must stay the same on every node, or a
takeover would change the channel's rules without anyone deciding it. Each node records its
settings in the shared store when it starts a role; the active node compares every node's with
its own, every ``CHECK_EVERY_S``, and its lookout raises "The party's nodes run with different
settings" while any differ.
"""

from __future__ import annotations

import json
import tomllib
from typing import Any

from hotline import storage
from hotline.node.config import NodeConfig

NODE_OWN = frozenset({"listen", "api", "advertise", "node", "store"})  # each node's own
CONSOLE_OWN = frozenset({"listen", "cert", "key"})  # [console]: each node's listener and certificate
CHECK_EVERY_S = 5.0  # how soon a standby that stopped, or settings changed on one node, is an alarm


def shared_settings(config: NodeConfig) -> dict[str, Any]:
    raw = tomllib.loads((config.directory / "config.toml").read_text())
    shared = {name: value for name, value in raw.items() if name not in NODE_OWN}
    if isinstance(shared.get("console"), dict):
        shared["console"] = {name: value for name, value in shared["console"].items() if name not in CONSOLE_OWN}
    return shared


def _name(node: int) -> str:
    return f"settings/node-{node}"


def record_settings(config: NodeConfig) -> None:
    """This node's shared settings, in the shared store, for the active node to compare."""
    text = json.dumps(shared_settings(config), sort_keys=True)
    storage.change_document(config.store, _name(config.node), lambda _: text)


def differing_nodes(config: NodeConfig, nodes: list[int]) -> dict[int, list[str]]:
    """For each other node that recorded settings unlike this node's: the sections that differ."""
    mine = shared_settings(config)
    differ: dict[int, list[str]] = {}
    for node in nodes:
        if node == config.node:
            continue
        text = storage.read_document(config.store, _name(node))
        if text is None:
            continue  # never started: nothing to compare yet
        theirs = json.loads(text)
        sections = sorted(name for name in set(mine) | set(theirs) if mine.get(name) != theirs.get(name))
        if sections:
            differ[node] = sections
    return differ
