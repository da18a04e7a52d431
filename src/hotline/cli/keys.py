"""`hotline keys rotate`: change the party's signing and TLS keys while the node runs, without a
new ceremony (docs/architecture.md, "Keys that change")."""

from __future__ import annotations

from pathlib import Path

import click

from hotline.cli.common import client_of, dir_option, operator_name, out, words


@click.group()
def keys() -> None:
    """The party's keys."""


@keys.command("rotate")
@dir_option
@click.option("--next-key", "next_key", type=click.Path(path_type=Path, dir_okay=False),
              help="the committed next signing key (default: next-signing.key in the node directory)")  # fmt: skip
@click.option("--by", "by", help="who decides it (default: your login name)")
def rotate(directory: Path, next_key: Path | None, by: str | None) -> None:
    """Rotate to the next signing key the party's card committed to, and to a new TLS key. Every
    peer is told over the channel and follows without a ceremony; the old key is retired once
    every peer has."""
    source = next_key or directory / "next-signing.key"
    try:
        pem = source.read_text()
    except FileNotFoundError:
        raise click.UsageError(
            f"{source} is missing: give --next-key with the next-signing.key kept offline since init"
        ) from None
    answer = client_of(directory).post("/v1/keys/rotate", {"next_key": pem, "by": operator_name(by)})
    _ = words(directory)
    out.print(_("Keys rotating to signing key {key}.").format(key=answer["new_key"]))
    if answer["peers"]:
        told = _("Each peer is told over the channel: {peers}. The old key is retired once each has its"
                 " statement (hotline identity says who is still awaited).")  # fmt: skip
        out.print(told.format(peers=", ".join(answer["peers"])))
    out.print(_("The key for the next rotation is {file}: move it off this machine now.").format(
        file=answer["next_key_file"]))  # fmt: skip


@keys.command("commit")
@dir_option
def commit(directory: Path) -> None:
    """For a node made before version 2 cards: make the next signing key, commit the card to it,
    and print the new card for the peers. Run it with the node stopped, then give each peer the
    card (they pin it with hotline peer add, its fingerprint read aloud); until they have, the
    party cannot rotate its keys."""
    from hotline.node import commit_next_key, load_config

    if client_of(directory).running():
        raise click.UsageError("stop the node first: its card changes")
    path = commit_next_key(directory)
    card = load_config(directory).card()
    _ = words(directory)
    out.print(card.line())
    out.print(_("Fingerprint: {fingerprint}").format(fingerprint=card.fingerprint))
    out.print(_("The key for the next rotation is {file}: move it off this machine now.").format(file=path))


@keys.command("replace")
@dir_option
@click.option("--by", "by", help="who decides it (default: your login name)")
def replace(directory: Path, by: str | None) -> None:
    """After a compromise (or the next key lost): new signing and TLS keys and a new next key,
    with the node stopped. The old key is kept, for what it signed; the log keeps its name. Give
    each peer the card printed here; they pin it with hotline peer add --replace, its fingerprint
    read aloud."""
    import asyncio

    from hotline.node import load_config

    if client_of(directory).running():
        raise click.UsageError("stop the node first: its keys change")
    config = load_config(directory)
    if config.store:
        raise click.UsageError("a party of several nodes cannot replace its keys here yet (docs/operations.md)")
    asyncio.run(replace_keys(directory, operator_name(by)))
    card = load_config(directory).card()
    _ = words(directory)
    out.print(card.line())
    out.print(_("Fingerprint: {fingerprint}").format(fingerprint=card.fingerprint))
    out.print(_("The key for the next rotation is {file}: move it off this machine now.").format(
        file=directory / "next-signing.key"))  # fmt: skip


async def replace_keys(directory: Path, by: str) -> None:
    """What `keys replace` does, the node stopped: the old key into the history, new keys, audited."""
    from hotline.node import load_config, replace_own_keys, wall_ms
    from hotline.storage import AuditEntry, RetiredKey, open_store

    config = load_config(directory)
    old = config.card()
    store = open_store(config.store_location, party=config.party)
    try:
        now = wall_ms()
        await store.add_retired_key(RetiredKey(config.party, old.sign_key, old.tls_cert, old.line(), now, now))
        replace_own_keys(directory, now)
        detail = f"new keys (fingerprint {load_config(directory).card().fingerprint}) replace key {old.log_tag}"
        await store.record_audit(AuditEntry(now, by, None, "keys-replace", config.party, detail))
    finally:
        await store.close()
