"""A node whose store is SQLite does not load the PostgreSQL driver (13 MB of each of dozens of
processes on one machine, issue 19); the PostgreSQL names still import on demand."""

import subprocess
import sys


def test_a_sqlite_node_does_not_load_psycopg() -> None:
    script = "import sys, hotline.server, hotline.cli; print('psycopg' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False", result.stderr


def test_the_postgresql_names_load_when_asked_for() -> None:
    from hotline.storage import IDLE_LIMIT_MS, PostgresStore, register_node

    assert PostgresStore.__name__ == "PostgresStore"
    assert callable(register_node)
    assert IDLE_LIMIT_MS > 0
