"""The systemd unit shipped in docs/ (issue #17, item 5): systemd itself accepts it, and its stop
timeout and file-handle limit leave the node what it needs."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hotline.node.config import Bounds
from hotline.node.handles import needed
from hotline.server import STOP_BOUND

UNIT = Path(__file__).parents[2] / "docs" / "systemd" / "hotline@.service"


def settings() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(UNIT.read_text())
    return parser


def test_its_stop_timeout_and_handle_limit_leave_the_node_what_it_needs() -> None:
    service = settings()["Service"]
    assert float(service["TimeoutStopSec"]) > STOP_BOUND, "systemd must not SIGKILL a node still stopping"
    assert service["KillSignal"] == "SIGTERM"
    # The node raises its soft limit to twice what its bounds need: the hard limit must allow it.
    assert int(service["LimitNOFILE"]) >= 2 * needed(Bounds(), peers=2, console=True)
    assert service["Restart"] == "on-failure"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_accepts_the_unit(tmp_path: Path) -> None:
    hotline = Path(sys.executable).parent / "hotline"
    unit = tmp_path / "hotline@genstab.service"
    unit.write_text(UNIT.read_text().replace("/opt/hotline/bin/hotline", str(hotline)))
    checked = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout + checked.stderr == "", "systemd warned about the unit"
