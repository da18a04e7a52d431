from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from hotline.testing.postgres import PostgresServer, postgres_bindir
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


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One real PostgreSQL server for the session (Debian's, fsync on); each test takes its own
    database with ``postgres.create_database``."""
    bindir = postgres_bindir()
    if bindir is None:
        pytest.fail("PostgreSQL's server programs are not installed: `make test` installs Debian's postgresql")
    server = PostgresServer(bindir).init().start()
    yield server
    server.remove()
