"""`hotline backup` and `hotline restore`: a consistent copy of a running node's store, and
putting one back into a stopped node (``storage/backup.py``).

A node restored from an older copy holds less than its peers: it lacks what it sent and received
after the copy was made. What it then does is docs/operations.md, "Backup and restore".
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from hotline.cli.common import client_of, config_of, dir_option, out, words
from hotline.errors import StoreError


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
def restore(directory: Path, source: Path) -> None:
    """Put a backup in place of this node's store. The node must be stopped (for a party on
    PostgreSQL, every node of it); the store replaced is kept aside."""
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
        out.print(_("Restored {party}'s database from {file}.").format(party=config.party, file=source))
        return
    key: SigningKey = config.signing_key()
    origin = log_origin(config.party, key.verify_key.raw)
    aside = restore_sqlite(source, config.store_path, origin, dt.datetime.now(dt.UTC))
    out.print(_("Restored {party}'s store from {file}.").format(party=config.party, file=source))
    if aside is not None:
        out.print(_("The store it replaced is kept as {file}.").format(file=aside))
