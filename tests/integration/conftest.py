from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.integration.harness import NodeProcess, kill_leftovers, make_node, pin


@pytest.fixture(autouse=True, scope="session")
def no_node_outlives_the_session() -> Iterator[None]:
    yield
    kill_leftovers()


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
