from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.integration.harness import NodeProcess, kill_leftovers, paired


@pytest.fixture(autouse=True, scope="session")
def no_node_outlives_the_session() -> Iterator[None]:
    yield
    kill_leftovers()


@pytest.fixture
async def pair(tmp_path: Path) -> AsyncIterator[tuple[NodeProcess, NodeProcess]]:
    """Two paired nodes, SACEUR (writes English) and GENSTAB (writes Russian), running and linked."""
    async with paired(tmp_path) as nodes:
        yield nodes
