"""A full mesh of many parties on this machine (issue 19): the tests' twelve, the bench's 57.

Each node is a real ``python -m hotline run`` process on loopback, made as an operator makes one
(``hotline init``), and pinned to every other as a network pins: one list of every party's card
and fingerprint, the same file for all, read by ``hotline peer add --file`` (each node passes
over its own line). What the mesh costs is read off ``/proc``: each process's resident memory
and the CPU time it has used.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hotline.testing.process import BlockingNode, run_cli, stop_all, wait_until

# The 57 participating States of the OSCE, by their ISO 3166 codes (the Holy See as VAT).
OSCE_STATES = [
    "ALB",
    "AND",
    "ARM",
    "AUT",
    "AZE",
    "BLR",
    "BEL",
    "BIH",
    "BGR",
    "CAN",
    "HRV",
    "CYP",
    "CZE",
    "DNK",
    "EST",
    "FIN",
    "FRA",
    "GEO",
    "DEU",
    "GRC",
    "VAT",
    "HUN",
    "ISL",
    "IRL",
    "ITA",
    "KAZ",
    "KGZ",
    "LVA",
    "LIE",
    "LTU",
    "LUX",
    "MLT",
    "MDA",
    "MCO",
    "MNG",
    "MNE",
    "NLD",
    "MKD",
    "NOR",
    "POL",
    "PRT",
    "ROU",
    "RUS",
    "SMR",
    "SRB",
    "SVK",
    "SVN",
    "ESP",
    "SWE",
    "CHE",
    "TJK",
    "TUR",
    "TKM",
    "UKR",
    "GBR",
    "USA",
    "UZB",
]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024


@dataclass(eq=False)
class MeshNode(BlockingNode):
    # Buffered logs: with PYTHONUNBUFFERED every log line costs two write() calls, in each of 57.
    unbuffered: bool | None = False

    def rss_kib(self) -> int:
        """Resident memory now, in KiB (``/proc/PID/statm``)."""
        resident = Path(f"/proc/{self.pid}/statm").read_text().split()[1]
        return int(resident) * PAGE_KIB

    def pss_kib(self) -> int:
        """Proportional set size now, in KiB (``/proc/PID/smaps_rollup``): the resident memory
        with each page shared among processes (the interpreter, the libraries) counted in
        shares, as a machine of many nodes pays it."""
        for line in Path(f"/proc/{self.pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
        raise ValueError(f"no Pss line in /proc/{self.pid}/smaps_rollup")

    def cpu_seconds(self) -> float:
        """CPU time used so far, user and system (``/proc/PID/stat``)."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def card_list(nodes: list[MeshNode]) -> str:
    """The network's list: every party's card and the fingerprint beside it."""
    lines = ["# The network's identity cards, each with its fingerprint as read at the plenary."]
    for node in nodes:
        card = node.config.card()
        lines.append(f"{card.line()} {card.fingerprint}")
    return "\n".join(lines) + "\n"


def make_mesh(root: Path, parties: list[str], settings: dict[str, Any]) -> list[MeshNode]:
    """A node directory per party, each pinned to every other from the one list (``root/
    network.cards``) through the real CLI; none started. ``settings``: tables of each node's
    config.toml."""
    nodes = [MeshNode.create(root, party, settings=settings) for party in parties]
    cards = root / "network.cards"
    cards.write_text(card_list(nodes))

    def pin_all(node: MeshNode) -> str:
        return run_cli("peer", "add", "--dir", str(node.config.directory), "--file", str(cards))

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        list(pool.map(pin_all, nodes))
    return nodes


def start_mesh(nodes: list[MeshNode], within: float) -> None:
    """Launch every node, then wait until each answers on its API."""
    for node in nodes:
        node.launch()
    for node in nodes:
        node.wait_ready(within)


def stop_mesh(nodes: list[MeshNode], close: bool = True) -> dict[str, int]:
    """Stop every node (in parallel, as ``stop_all`` does) and, unless they are to be started
    again, close their API clients."""
    try:
        return stop_all(nodes)
    finally:
        if close:
            for node in nodes:
                node.close()


def links_down(nodes: list[MeshNode]) -> list[tuple[str, str]]:
    """Every (node, peer) whose lanes are not all up, as each node's status says."""
    down: list[tuple[str, str]] = []
    for node in nodes:
        node.check_alive()
        peers = node.api("GET", "/v1/status")["peers"]
        down.extend((node.party, peer["peer"]) for peer in peers if not all(peer["lanes"].values()))
    return down


def wait_linked(nodes: list[MeshNode], within: float) -> float:
    """Wait until every link of the mesh is up; the seconds it took."""
    began = time.monotonic()
    wait_until(lambda: not links_down(nodes), within, f"every link among {len(nodes)} nodes to come up")
    return time.monotonic() - began


def cpu_over(nodes: list[MeshNode], seconds: float) -> float:
    """The CPU time all ``nodes`` used together over ``seconds`` of wall time, in cores."""
    before = sum(node.cpu_seconds() for node in nodes)
    began = time.monotonic()
    time.sleep(seconds)  # the measured interval itself: nothing is awaited
    used = sum(node.cpu_seconds() for node in nodes) - before
    return used / (time.monotonic() - began)


@dataclass(frozen=True)
class Broadcast:
    serial: str
    addressees: dict[str, dict[str, Any]]  # party -> its copy, as GET /v1/messages/{serial} shows it
    sent_ms: int  # wall time the send was asked for

    def delivered(self) -> dict[str, int]:
        """Each addressee whose receipt is in, and milliseconds from the send to it."""
        return {
            party: _ms(copy["delivered"]) - self.sent_ms for party, copy in self.addressees.items() if copy["delivered"]
        }


def broadcast(sender: MeshNode, text: str, precedence: str = "FLASH") -> str:
    """Send ``text`` to every pinned party with ``hotline send --to '*'``; the serial that names it."""
    out = run_cli("send", "--dir", str(sender.config.directory), "--to", "*", "--text", text,
                  "--precedence", precedence, "--json")  # fmt: skip
    return str(json.loads(out)["broadcast"])


def timed_broadcast(sender: MeshNode, text: str, expect: set[str], within: float) -> Broadcast:
    """A FLASH to every party through the API, and where each copy stands once every party in
    ``expect`` has returned its receipt (or ``within`` seconds passed: then a ``TimeoutError``)."""
    sent_ms = time.time_ns() // 1_000_000
    answer = sender.api("POST", "/v1/messages", json={"to": "*", "precedence": "FLASH",
                                                       "body": {"text": text, "lang": "en"}})  # fmt: skip
    name = str(answer["broadcast"])

    def receipts() -> Broadcast | None:
        copies = {c["to"]: c for c in sender.api("GET", f"/v1/messages/{name}")["addressees"]}
        found = Broadcast(name, copies, sent_ms)
        return found if expect <= set(found.delivered()) else None

    return wait_until(receipts, within, f"receipts for {name} from {len(expect)} parties")


def _ms(iso: str) -> int:
    return int(dt.datetime.fromisoformat(iso).timestamp() * 1000)
