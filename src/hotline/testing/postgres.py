"""A real PostgreSQL server for tests and benchmarks, started from Debian's binaries.

Why not pytest-postgresql: it turns ``fsync`` off (a store whose commits are not durable proves
nothing about durability) and refuses to run as root, which CI does. ``initdb`` refuses root
too, so as root the cluster is created and run as ``nobody`` in a directory of its own; otherwise
as the current user. Each server listens on a free loopback port with trust authentication
(nothing but this machine can reach it) and runs with ``fsync=on`` and
``synchronous_commit=on``, as production must.

A primary can be given a synchronous streaming standby (``add_standby``): ``pg_basebackup``
copies it, ``synchronous_standby_names`` makes every commit wait for the standby's flush, and
``promote`` turns the standby into the new primary when the old one is killed.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["PostgresServer", "postgres_bindir"]

SUPERUSER = "hotline"


def postgres_bindir() -> Path | None:
    """Where Debian keeps PostgreSQL's server programs (the newest version installed), or None."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[4]))
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_server_user() -> list[str]:
    # initdb and postgres refuse to run as root: drop to nobody, with no supplementary groups.
    if os.geteuid() != 0:
        return []
    return ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"]


@dataclass
class PostgresServer:
    """One PostgreSQL cluster in a temporary directory, on a free loopback port."""

    bindir: Path
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="hotline-pg-")))
    port: int = field(default_factory=_free_port)
    name: str = "primary"

    @property
    def data(self) -> Path:
        return self.root / self.name

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str, timeout: float = 60) -> str:
        command = [*_as_server_user(), *args]
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)  # noqa: S603 - PostgreSQL's
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(args[:2])} failed ({done.returncode}): {done.stderr.strip()}")
        return done.stdout

    def _give_to_server_user(self, path: Path) -> None:
        if os.geteuid() == 0:
            shutil.chown(path, "nobody", "nogroup")

    def init(self) -> PostgresServer:
        """Create the cluster: trust on loopback, fsync on, listening on this server's port."""
        self.root.chmod(0o755)
        self._give_to_server_user(self.root)
        self._run(
            str(self.bindir / "initdb"), "-D", str(self.data), "-U", SUPERUSER, "--auth=trust", "-E", "UTF8",
            "--locale=C.UTF-8",
        )  # fmt: skip
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(self._settings())
        return self

    def _settings(self) -> str:
        return (
            "\n# hotline tests: durable commits, as production\n"
            f"port = {self.port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{self.root}'\n"
            "fsync = on\nsynchronous_commit = on\nfull_page_writes = on\n"
            "wal_level = replica\nmax_wal_senders = 5\nwal_keep_size = '64MB'\n"
            "max_connections = 200\nshared_buffers = '32MB'\n"
        )

    def start(self) -> PostgresServer:
        self._run(
            str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / f"{self.name}.log"), "-w",
            "-t", "30", "start",
        )  # fmt: skip
        return self

    def stop(self, mode: str = "fast") -> None:
        with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop", timeout=30)

    def kill(self) -> None:
        """SIGKILL the postmaster, as a machine that dies would leave it (its backends follow)."""
        pid = self.pid()
        if pid is not None:
            os.kill(pid, signal.SIGKILL)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.01)

    def pid(self) -> int | None:
        try:
            return int((self.data / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def sql(self, statement: str, database: str = "postgres") -> str:
        """Run one statement with psql as the superuser; its output, unaligned."""
        psql = self.bindir / "psql"
        if not psql.exists():
            psql = Path(shutil.which("psql") or "psql")
        return self._run(
            str(psql), "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", self.url(database), "-c", statement
        )

    def create_database(self, name: str) -> str:
        self.sql(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def add_standby(self, name: str = "standby") -> PostgresServer:
        """A streaming standby of this server that every commit waits for (synchronous)."""
        standby = PostgresServer(self.bindir, root=self.root, name=name)
        self._run(
            str(self.bindir / "pg_basebackup"), "-D", str(standby.data), "-X", "stream", "-R", "-c", "fast",
            "-d", f"{self.url()}?application_name={name}",
        )  # fmt: skip
        with (standby.data / "postgresql.conf").open("a") as conf:
            conf.write(standby._settings())
        standby.start()
        self.sql(f"ALTER SYSTEM SET synchronous_standby_names = '{name}'")
        self.sql("SELECT pg_reload_conf()")
        deadline = time.monotonic() + 30
        while (
            self.sql(f"SELECT sync_state FROM pg_stat_replication WHERE application_name = '{name}'").strip() != "sync"
        ):
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not become a synchronous standby")
            time.sleep(0.05)
        return standby

    def promote(self) -> None:
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-w", "promote")

    def remove(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


def main() -> None:
    """``python -m hotline.testing.postgres``: a throwaway server to try a party of several
    nodes on this machine; prints the address of an empty database, runs until Ctrl-C, and
    removes everything it made."""
    bindir = postgres_bindir()
    if bindir is None:
        raise SystemExit("PostgreSQL's server programs are not installed (Debian: apt-get install postgresql)")
    server = PostgresServer(bindir).init().start()
    try:
        url = server.create_database("hotline")
        version = server.sql("SHOW server_version").strip()
        sys.stdout.write(f"PostgreSQL {version} (fsync on) in {server.root}\nan empty database for a party: {url}\n")
        sys.stdout.write("Ctrl-C stops the server and removes its files.\n")
        sys.stdout.flush()
        signal.sigwait({signal.SIGINT, signal.SIGTERM})
    finally:
        server.remove()
        sys.stdout.write(f"PostgreSQL stopped; {server.root} removed.\n")


if __name__ == "__main__":
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    main()
