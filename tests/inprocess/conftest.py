"""Nodes in this process on one manual clock (``hotline.testing.inprocess``): what the
subprocess tests show by polling and sleeping, shown here by moving the clock."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hotline.testing import InProcessNetwork, in_process_network


@pytest.fixture
async def pair(tmp_path: Path) -> AsyncIterator[InProcessNetwork]:
    """SACEUR (writes English) and GENSTAB (writes Russian), pinned to each other, running,
    every lane up, quiet (no watch changes, no link tests), at 2026-11-23T12:00:00Z."""
    async with in_process_network(tmp_path) as network:
        yield network
