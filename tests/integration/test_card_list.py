"""`hotline peer add --file` (issue 19, item 1): many parties pinned from one file, through the
real CLI, with the node stopped and while it runs; a bad line refused by number, nothing pinned."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.harness import NodeProcess, make_node, stop_all, wait_for

pytestmark = pytest.mark.slow


def hotline(node: NodeProcess, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "hotline", *args, "--dir", str(node.config.directory)]
    return subprocess.run(command, capture_output=True, text=True, check=False)


def card_lines(*nodes: NodeProcess) -> str:
    return "\n".join(f"{n.config.card().line()} {n.config.card().fingerprint}" for n in nodes) + "\n"


def pinned(node: NodeProcess) -> list[str]:
    listed = hotline(node, "peer", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    return sorted(p["party"] for p in json.loads(listed.stdout))


async def test_a_network_s_cards_pinned_from_a_file_all_or_none(tmp_path: Path) -> None:
    alpha, bravo, charlie, delta = (make_node(tmp_path, party) for party in ("ALPHA", "BRAVO", "CHARLIE", "DELTA"))
    nodes = (alpha, bravo, charlie, delta)
    try:
        # A fingerprint on the third line that is another party's: refused by line, nothing pinned.
        wrong = tmp_path / "wrong.cards"
        good = card_lines(bravo, charlie, delta).splitlines()
        wrong.write_text("\n".join(["# network list", good[0], good[1].rsplit(" ", 1)[0] + " " + "AAAA " * 8, good[2]]))
        refused = hotline(alpha, "peer", "add", "--file", str(wrong))
        assert refused.returncode != 0
        assert "line 3: fingerprint mismatch" in refused.stderr
        assert "nothing was pinned" in refused.stderr
        assert pinned(alpha) == []
        misuse = hotline(alpha, "peer", "add", "--file", str(wrong), good[0].split(" ")[0])
        assert misuse.returncode == 2
        assert "--file pins the cards the file lists" in misuse.stderr

        # With the node stopped: straight into its store.
        network = tmp_path / "network.cards"
        network.write_text(card_lines(bravo, charlie, delta))
        done = hotline(alpha, "peer", "add", "--file", str(network))
        assert done.returncode == 0, done.stderr
        assert "Pinned 3 new parties" in done.stdout
        assert pinned(alpha) == ["BRAVO", "CHARLIE", "DELTA"]

        # While BRAVO runs: through its API, and it links with ALPHA at once.
        await bravo.start()
        # The running node refuses alike. Line 2 is BRAVO's own card, passed over: the fault is line 3.
        refused_live = hotline(bravo, "peer", "add", "--file", str(wrong))
        assert refused_live.returncode != 0
        assert "line 3: fingerprint mismatch" in refused_live.stderr
        assert "nothing was pinned" in refused_live.stderr
        assert pinned(bravo) == []
        assert await bravo.api("GET", "/v1/health")
        others = tmp_path / "bravo.cards"  # the network's whole list, BRAVO's own line too
        others.write_text(card_lines(alpha, bravo, charlie, delta))
        live = hotline(bravo, "peer", "add", "--file", str(others))
        assert live.returncode == 0, live.stderr
        assert pinned(bravo) == ["ALPHA", "CHARLIE", "DELTA"]
        await alpha.start()
        await wait_for(lambda: alpha.connected("BRAVO"), 20, "ALPHA and BRAVO linked")
        # The same file again while running: nothing new, nothing refused (same keys).
        again = hotline(bravo, "peer", "add", "--file", str(others))
        assert again.returncode == 0, again.stderr
        assert "Pinned 0 new parties" in again.stdout
        assert "Already pinned, keys unchanged: 3" in again.stdout
        assert pinned(bravo) == ["ALPHA", "CHARLIE", "DELTA"]
    finally:
        stop_all(nodes)
        for node in nodes:
            await node.aclose()
