"""`hotline backup` and `hotline restore`: a consistent copy of a running node's store, and
putting one back into a stopped node (``storage/backup.py``).

A node restored from an older copy holds less than its peers: it lacks what it sent and received
after the copy was made. `hotline restore` marks the store (the node then refuses to start) and
recovers it from the peers at once (``node/recovery.py``); `hotline recover` does it again when a
peer was away. docs/operations.md, "Backup and restore", says what to do and in what order.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import click

from hotline.cli.common import client_of, config_of, dir_option, out, words
from hotline.errors import StoreError

if TYPE_CHECKING:
    from hotline.node import NodeConfig
    from hotline.storage import Store

T = TypeVar("T")
RECOVER_WAIT = 60.0  # seconds: a peer restarting, or a path coming back, is given that long


@click.command()
@dir_option
@click.option("--out", "target", type=click.Path(path_type=Path, dir_okay=False), required=True,
              help="the file to write (mode 0600; replaced if it exists)")  # fmt: skip
def backup(directory: Path, target: Path) -> None:
    """Copy this node's store, consistently, while the node runs (or not)."""
    from hotline.storage.backup import backup_postgres, backup_sqlite

    config = config_of(directory)
    _ = words(directory)
    if config.store:
        size = backup_postgres(config.store, target)
        out.print(_("Backed up {party}'s database to {file} ({size} bytes).").format(
            party=config.party, file=target, size=size))  # fmt: skip
        return
    facts = backup_sqlite(config.store_path, target)
    out.print(_("Backed up {party}'s store to {file}: {entries} transcript entries, {sent} messages sent and"
                " {received} received ({size} bytes).").format(
        party=config.party, file=target, entries=facts.log_size, sent=facts.messages_out,
        received=facts.messages_in, size=facts.size_bytes))  # fmt: skip


@click.command()
@dir_option
@click.option("--from", "source", type=click.Path(path_type=Path, dir_okay=False, exists=True), required=True,
              help="a file written by hotline backup")  # fmt: skip
@click.option("--wait", type=click.FloatRange(min=0), default=RECOVER_WAIT, show_default=True,
              help="seconds to keep dialing peers for the recovery that follows (0: recover later)")  # fmt: skip
def restore(directory: Path, source: Path, wait: float) -> None:
    """Put a backup in place of this node's store, then recover from the peers what the copy
    lacks. The node must be stopped (for a party on PostgreSQL, every node of it); the store
    replaced is kept aside."""
    from hotline.crypto import SigningKey
    from hotline.log.witness import log_origin
    from hotline.storage import active_node, connected_nodes
    from hotline.storage.backup import restore_postgres, restore_sqlite

    config = config_of(directory)
    _ = words(directory)
    if client_of(directory).running():
        raise StoreError(f"{config.party}'s node in {directory} is running: stop it, then restore")
    if config.store:
        running = connected_nodes(config.store) | ({holder} if (holder := active_node(config.store)) else set())
        if running:
            nodes = ", ".join(str(n) for n in sorted(running))
            raise StoreError(f"node {nodes} of {config.party} is using the database: stop every node, then restore")
        restore_postgres(source, config.store, config.party)
        # (A SQLite copy is marked before it takes the store's place; here, just after.)
        asyncio.run(_mark_restored(config, source.name))
        out.print(_("Restored {party}'s database from {file}.").format(party=config.party, file=source))
    else:
        key: SigningKey = config.signing_key()
        origin = log_origin(config.party, key.verify_key.raw)
        aside = restore_sqlite(source, config.store_path, origin, dt.datetime.now(dt.UTC))
        out.print(_("Restored {party}'s store from {file}.").format(party=config.party, file=source))
        if aside is not None:
            out.print(_("The store it replaced is kept as {file}.").format(file=aside))
    # The copy lacks what was sent and received after it was made: until it has that back from
    # the peers, the node must not sign anything (it refuses to start: the store says so).
    if wait > 0:
        _recover(directory, config, wait, ())
    else:
        out.print(_("The node will not start until it has recovered from its peers: run hotline recover."))


@click.command()
@dir_option
@click.option("--wait", type=click.FloatRange(min=0), default=RECOVER_WAIT, show_default=True,
              help="seconds to keep dialing peers that do not answer")  # fmt: skip
@click.option("--without", multiple=True, metavar="PARTY",
              help="a peer gone for good: recover without it (what only it holds is lost)")  # fmt: skip
def recover(directory: Path, wait: float, without: tuple[str, ...]) -> None:
    """After a restore from a backup: get back from every peer what the copy lacks (what we sent
    and received after it, our place in every sequence and in our log), before the node signs
    anything. The node must be stopped."""
    config = config_of(directory)
    if client_of(directory).running():  # a node starts only once its store has recovered
        raise StoreError(f"nothing to recover: {config.party}'s node in {directory} is running, so its store is whole")
    _recover(directory, config, wait, tuple(p.upper() for p in without))


def _recover(directory: Path, config: NodeConfig, wait: float, without: tuple[str, ...]) -> None:
    from hotline.node import recover_store

    _ = words(directory)
    outcome = asyncio.run(_with_store(config, lambda store: recover_store(config, store, wait, without)))
    out.print(_("Recovered from the peers: the log holds {size} entries ({added} put back).").format(
        size=outcome.size, added=outcome.recovered))  # fmt: skip
    out.print(outcome.report, markup=False)
    if outcome.problems:
        raise StoreError(_("Recovered with losses (above); the node may start, and its peers were told."))


async def _mark_restored(config: NodeConfig, backup_name: str) -> None:
    await _with_store(config, lambda store: store.mark_restored(backup_name, _now_ms()))


async def _with_store(config: NodeConfig, work: Callable[[Store], Awaitable[T]]) -> T:
    from hotline.storage import open_store

    store = open_store(config.store_location, party=config.party)
    try:
        return await work(store)
    finally:
        await store.close()


def _now_ms() -> int:
    return int(dt.datetime.now(dt.UTC).timestamp() * 1000)
