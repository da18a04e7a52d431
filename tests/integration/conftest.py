from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright

from hotline.testing.postgres import PostgresServer, postgres_bindir
from tests.integration.browser import launch
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


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """Debian's chromium (``browser.launch``), one for each test that asks for it."""
    async with async_playwright() as playwright:
        chromium = await launch(playwright)
        yield chromium
        await chromium.close()


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
