"""`make demo` runs the scripted exchange end to end (here with --once, on free ports)."""

import subprocess
import sys
from pathlib import Path

from tests.integration.harness import free_port


def test_demo_pairs_two_nodes_and_delivers_the_script(tmp_path: Path) -> None:
    base = 20000 + free_port() % 40000  # the demo uses base+1, +2, +101 and +102
    result = subprocess.run(
        [sys.executable, "-m", "hotline.demo", "--once", "--root", str(tmp_path / "demo"), "--base-port", str(base)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Linked" in result.stdout
    for serial in ("SACEUR-000001", "GENSTAB-000001", "SACEUR-000002", "GENSTAB-000002"):
        assert serial in result.stdout
    assert result.stdout.count("delivered in") == 4
    assert "Просим уточнить район проведения учений" in result.stdout
    assert "Stopped." in result.stdout
