"""Backups that restore: a consistent copy of a running node's store, and putting one back.

- *SQLite*: the online backup API (``sqlite3.Connection.backup``) copies the database from one
  read transaction, so the copy is the store as it stood at one commit while the node goes on
  writing (a copy of the file itself could catch half a commit, and misses the ``-wal``).
- *PostgreSQL*: ``pg_dump --format=custom``, one snapshot of the party's database.

Either way the copy is written to a temporary file beside ``FILE`` with mode 0600 (it holds every
message), fsynced, then renamed over ``FILE``: a backup that fails leaves no half file behind.

A restore goes into a stopped node only. The copy is checked first (a hotline store, a schema
this program knows, the log of this party's key); the store it replaces is set aside, never
deleted (``store.db.before-restore-<UTC time>``, with its ``-wal``); for PostgreSQL the whole
restore is one transaction (``pg_restore --single-transaction``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from hotline.errors import StoreError
from hotline.storage.sql.recovery import mark_restored
from hotline.storage.sqlite.connection import migrate
from hotline.storage.sqlite.migrations import MIGRATIONS

DUMP_TIMEOUT_S = 3600.0  # pg_dump and pg_restore: a large store takes minutes, never hours


@dataclass(frozen=True)
class BackupFacts:
    """What a backup holds, as an operator checks it before trusting it."""

    schema: int
    log_size: int  # entries in the party's transcript
    origin: str | None  # the log's name, from its newest signed checkpoint (None: none signed yet)
    messages_out: int
    messages_in: int
    size_bytes: int


def backup_sqlite(store: Path, out: Path) -> BackupFacts:
    """Copy the SQLite store at ``store`` (the node may be running) into ``out``."""
    if not store.exists():
        raise StoreError(f"there is no store at {store} to back up (the node has never run?)")
    source = sqlite3.connect(f"{store.resolve().as_uri()}?mode=ro", uri=True)
    try:
        with _written(out) as partial:
            target = sqlite3.connect(partial)
            try:
                source.backup(target)
                # A copy is one file: no -wal or -shm beside it, now or when it is read. (The
                # node puts its store back into WAL mode when it opens it after a restore.)
                target.execute("PRAGMA journal_mode=DELETE")
            finally:
                target.close()
    except sqlite3.Error as exc:
        raise StoreError(f"cannot back up {store}: {exc}") from None
    finally:
        source.close()
    return read_sqlite_facts(out)


def read_sqlite_facts(path: Path) -> BackupFacts:
    """What the SQLite file at ``path`` holds; ``StoreError`` if it is no hotline store."""
    try:
        # immutable: read as it is, creating nothing beside it (a WAL file would get a -shm).
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?immutable=1", uri=True)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open {path}: {exc}") from None
    try:
        (schema,) = conn.execute("PRAGMA user_version").fetchone()
        if schema == 0:
            raise StoreError(f"{path} is not a hotline store")
        (log_size,) = conn.execute("SELECT count(*) FROM transcript").fetchone()
        row = conn.execute("SELECT note FROM checkpoints ORDER BY size DESC LIMIT 1").fetchone()
        (out,) = conn.execute("SELECT count(*) FROM outbox WHERE seq IS NOT NULL").fetchone()
        (into,) = conn.execute("SELECT count(*) FROM inbox").fetchone()
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path} is not a hotline store ({exc})") from None
    finally:
        conn.close()
    origin = row[0].split("\n", 1)[0] if row else None
    return BackupFacts(schema, log_size, origin, out, into, path.stat().st_size)


def restore_sqlite(backup: Path, store: Path, origin: str, now: dt.datetime) -> Path | None:
    """Put the SQLite copy ``backup`` in place of ``store`` (the node stopped), after checking
    it is this log's (``origin``) and of a schema this program knows. Returns where the store it
    replaced was set aside (None: there was none)."""
    facts = read_sqlite_facts(backup)
    if facts.schema > len(MIGRATIONS):
        raise StoreError(f"{backup} is at schema {facts.schema}, newer than this program ({len(MIGRATIONS)})")
    if facts.origin is not None and facts.origin != origin:
        raise StoreError(f"{backup} holds the log {facts.origin}, not this node's ({origin}): another party's store")
    aside = None
    if store.exists():
        aside = store.with_name(f"{store.name}.before-restore-{now:%Y%m%dT%H%M%SZ}")
        for suffix in ("", "-wal", "-shm"):
            part = Path(f"{store}{suffix}")
            if part.exists():
                part.rename(f"{aside}{suffix}")
    with _written(store) as partial:
        shutil.copyfile(backup, partial)
        _mark_restored(partial, backup.name, int(now.timestamp() * 1000))
    return aside


def _mark_restored(path: Path, backup: str, at_ms: int) -> None:
    """Record the restore in the copy itself, before it takes the store's place: a node can
    never start on a restored copy that does not say it must recover first."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        migrate(conn)
        conn.execute("BEGIN IMMEDIATE")
        mark_restored(conn, backup, at_ms)
        conn.execute("COMMIT")
    finally:
        conn.close()


def backup_postgres(url: str, out: Path) -> int:
    """``pg_dump`` the party's database at ``url`` into ``out``; the bytes written."""
    with _written(out) as partial:
        _run(["pg_dump", "--format=custom", "--no-owner", "--file", str(partial), url], f"back up {_describe(url)}")
    return out.stat().st_size


def dumped_party(backup: Path) -> tuple[int, str | None]:
    """The schema version and the party of the PostgreSQL dump ``backup`` (its ``store_meta``
    row, read from the dump without restoring anything)."""
    text = _run(["pg_restore", "--data-only", "--table=store_meta", "--file=-", str(backup)], f"read {backup}")
    lines = text.splitlines()
    for number, line in enumerate(lines):
        if line.startswith("COPY ") and "store_meta" in line and number + 1 < len(lines):
            version, party, *_ = lines[number + 1].split("\t")
            return int(version), None if party == "\\N" else party
    raise StoreError(f"{backup} is a PostgreSQL dump, but not of a hotline store")


def restore_postgres(backup: Path, url: str, party: str) -> None:
    """``pg_restore`` the dump ``backup`` into the party's database at ``url``, replacing what is
    there, in one transaction (the party's nodes stopped), once it is checked to be ``party``'s
    store of a schema this program knows."""
    from hotline.storage.postgres.schema import MIGRATIONS as PG_MIGRATIONS

    version, owner = dumped_party(backup)
    if owner is not None and owner != party:
        raise StoreError(f"{backup} is {owner}'s store, not {party}'s")
    if version > len(PG_MIGRATIONS):
        raise StoreError(f"{backup} is at schema {version}, newer than this program ({len(PG_MIGRATIONS)})")
    command = ["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction", "--dbname", url]
    _run([*command, str(backup)], f"restore {backup} into {_describe(url)}")


def _run(command: list[str], what: str) -> str:
    if shutil.which(command[0]) is None:
        raise StoreError(f"cannot {what}: {command[0]} is not installed (Debian: postgresql-client)")
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=DUMP_TIMEOUT_S)  # noqa: S603
    except subprocess.TimeoutExpired:
        raise StoreError(f"cannot {what}: {command[0]} did not finish within {DUMP_TIMEOUT_S:.0f} s") from None
    if done.returncode != 0:
        said = done.stderr.strip().splitlines()
        raise StoreError(f"cannot {what}: {said[-1] if said else f'{command[0]} exited {done.returncode}'}")
    return done.stdout


@contextlib.contextmanager
def _written(target: Path) -> Iterator[Path]:
    """A temporary path beside ``target`` (mode 0600) to write; fsynced and renamed over
    ``target`` when the block ends well, removed when it does not."""
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    os.close(os.open(partial, os.O_CREAT | os.O_WRONLY | os.O_EXCL, 0o600))
    try:
        yield partial
        partial.chmod(0o600)  # pg_dump and sqlite keep the mode of a file that exists
        fd = os.open(partial, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        partial.replace(target)
        directory = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def _describe(url: str) -> str:
    from hotline.storage.postgres.connection import describe  # psycopg only for a database

    return describe(url)
