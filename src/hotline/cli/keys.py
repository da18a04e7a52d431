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
