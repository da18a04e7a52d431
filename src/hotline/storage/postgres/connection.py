"""Opening a PostgreSQL store: reaching the server, checking whose database it is, migrating.

Durability: every session sets ``synchronous_commit = on``, so a commit returns only once the
server has flushed its WAL (and, with ``synchronous_standby_names``, once a standby has too);
the store wakes a caller only after its commit returned.

Everything that can be wrong with the database named is found here, before anything is
written: a server that cannot be reached, a database that is not a hotline store, one that
belongs to another party, one whose schema is newer than this program.
"""

from __future__ import annotations

import time
from typing import Any

import psycopg
from psycopg import conninfo

from hotline.errors import StoreError
from hotline.storage.postgres.schema import MIGRATIONS

CONNECT_TIMEOUT_S = 3  # per host: libpq's default waits for the operating system (minutes)
# A server that vanishes (a cut cable, a frozen VM) is found out in seconds, not in the
# operating system's minutes: unacknowledged data fails the connection after TCP_USER_TIMEOUT_MS,
# and an idle connection is probed. A read the loop waits on (``_read_now``) is bounded by it too.
TCP_USER_TIMEOUT_MS = 3000
KEEPALIVES = {"keepalives": 1, "keepalives_idle": 2, "keepalives_interval": 1, "keepalives_count": 2}
MIGRATION_LOCK = 0x686F746C  # 'hotl': nodes of one party that start together migrate in turn


def describe(url: str) -> str:
    """Where ``url`` points, without its password: for messages and logs."""
    try:
        info = conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "(an unreadable database address)"
    hosts = str(info.get("host") or "localhost").split(",")
    ports = str(info.get("port") or "5432").split(",")
    if len(ports) == 1:
        ports = ports * len(hosts)
    where = ",".join(f"{h}:{p}" for h, p in zip(hosts, ports, strict=False))
    return f"postgresql://{where}/{info.get('dbname') or info.get('user') or ''}"


def connect(url: str, *, read_only: bool = False, application: str = "hotline") -> psycopg.Connection[Any]:
    """A session with the durability settings (and, ``read_only``, unable to write)."""
    try:
        given = conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError as exc:
        raise StoreError(f"the database address is not one PostgreSQL reads ({exc})") from None
    extra: dict[str, Any] = {"application_name": application}
    defaults = {"connect_timeout": CONNECT_TIMEOUT_S, "tcp_user_timeout": TCP_USER_TIMEOUT_MS, **KEEPALIVES}
    extra |= {name: value for name, value in defaults.items() if name not in given}
    try:
        conn = psycopg.connect(url, autocommit=True, **extra)
    except psycopg.Error as exc:
        reason = " ".join(line.strip() for line in str(exc).splitlines()) or type(exc).__name__
        raise StoreError(f"cannot reach the database at {describe(url)}: {reason}") from None
    try:
        conn.execute("SET synchronous_commit = on")
        if read_only:
            conn.execute("SET default_transaction_read_only = on")
    except psycopg.Error as exc:
        conn.close()
        raise StoreError(f"the database at {describe(url)} refused the session's settings ({exc})") from None
    return conn


def schema_version(conn: psycopg.Connection[Any]) -> tuple[int, str | None]:
    """How far the schema has come (0: an empty database) and the party it belongs to."""
    (meta,) = conn.execute("SELECT to_regclass('store_meta') IS NOT NULL").fetchone() or (False,)
    if not meta:
        (tables,) = conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()").fetchone() or (
            0,
        )
        if tables:
            raise StoreError(f"the database holds {tables} tables but is not a hotline store: name an empty one")
        return 0, None
    row = conn.execute("SELECT version, party FROM store_meta").fetchone()
    if row is None:
        raise StoreError("the database's store_meta is empty: it is not a hotline store, or it is damaged")
    return int(row[0]), row[1]


def migrate(conn: psycopg.Connection[Any], url: str, party: str | None) -> None:
    """Bring the schema to this program's, claiming the database for ``party`` when it is new.
    Refuses another party's database, and one whose schema is newer than this program."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        version, owner = schema_version(conn)
        if version > len(MIGRATIONS):
            raise StoreError(
                f"the store at {describe(url)} is at schema {version}, newer than this program ({len(MIGRATIONS)}):"
                " run the newer hotline, or restore a copy made by this one"
            )
        if owner is not None and party is not None and owner != party:
            raise StoreError(f"the database at {describe(url)} is {owner}'s store, not {party}'s")
        if version == 0:
            conn.execute("CREATE TABLE store_meta (version INTEGER NOT NULL, party TEXT, created_ms BIGINT NOT NULL)")
            conn.execute("INSERT INTO store_meta VALUES (0, %s, %s)", (party, int(time.time() * 1000)))
        elif owner is None and party is not None:
            conn.execute("UPDATE store_meta SET party = %s", (party,))
        for number in range(version, len(MIGRATIONS)):
            conn.execute(MIGRATIONS[number])
            conn.execute("UPDATE store_meta SET version = %s", (number + 1,))


def check_readable(conn: psycopg.Connection[Any], url: str) -> None:
    """A reader's check: a hotline store this program understands (nothing is changed)."""
    version, _ = schema_version(conn)
    if version == 0:
        raise StoreError(f"the database at {describe(url)} holds no hotline store yet")
    if version > len(MIGRATIONS):
        raise StoreError(f"the store at {describe(url)} is at schema {version}, newer than this program")


def claim(url: str, party: str) -> None:
    """Check the database named can hold ``party``'s store, and claim it (``hotline init``)."""
    conn = connect(url)
    try:
        migrate(conn, url, party)
    except psycopg.Error as exc:
        raise StoreError(f"the database at {describe(url)} failed while preparing the store ({exc})") from None
    finally:
        conn.close()
