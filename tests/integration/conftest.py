from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.integration.harness import NodeProcess, make_node, pin


@pytest.fixture
async def pair(tmp_path: Path) -> AsyncIterator[tuple[NodeProcess, NodeProcess]]:
    """Two paired nodes, SACEUR (writes English) and GENSTAB (writes Russian), running and linked."""
    a = make_node(tmp_path, "SACEUR", "en")
    b = make_node(tmp_path, "GENSTAB", "ru")
    pin(a, b.config)
    pin(b, a.config)
    await a.start()
    await b.start()
    try:
        yield a, b
    finally:
        for node in (a, b):
            node.stop()
            await node.client.aclose()
