"""`hotline peer`: pin a peer from its identity card, list the pinned ones, and resume numbering
after a restore.

Pinning and listing work with the node stopped: they open the node's store through the
``Store`` interface, as the node itself does. With the node running, `peer add` asks the node,
which then connects to the new peer at once.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.table import Table

from hotline.cli.common import (
    client_of,
    config_of,
    dir_option,
    json_option,
    operator_name,
    out,
    print_json,
    words,
)
from hotline.errors import PairingError

if TYPE_CHECKING:
    from hotline.node import IdentityCard, NodeConfig
    from hotline.storage import PeerRecord


@click.group()
def peer() -> None:
    """Pin and list peers."""


@peer.command("add")
@dir_option
@click.argument("card")
@click.option(
    "--fingerprint",
    required=True,
    help="the fingerprint the peer's officer read to you by voice; the card must match it",
)
def peer_add(directory: Path, card: str, fingerprint: str) -> None:
    """Pin a peer from its identity card. There is no trust on first use: the fingerprint,
    confirmed by voice over a separate channel, is required and must match the card."""
    from hotline.node import IdentityCard, check_fingerprint

    parsed = IdentityCard.parse(card)
    check_fingerprint(parsed, fingerprint)
    client = client_of(directory)
    if client.running():
        client.post("/v1/peers", {"card": card, "fingerprint": fingerprint})
    else:
        asyncio.run(_pin_offline(config_of(directory), parsed))
    out.print(f"Pinned [bold]{parsed.party}[/] at {', '.join(parsed.addresses)}")
    out.print(f"Fingerprint [bold]{parsed.fingerprint}[/] matches the one {parsed.party} read to you.")


@peer.command("catch-up")
@dir_option
@click.argument("party")
@click.option("--remark", required=True, help="why: which copy was restored, what was lost (kept in the audit)")
@click.option("--by", "by", help="who decides it (default: your login name)")
def peer_catch_up(directory: Path, party: str, remark: str, by: str | None) -> None:
    """After our store went back in time (restored from an older copy): number messages to PARTY
    from where it stands, so that no sequence number or serial is used twice. Only when
    `hotline alerts` says our store is behind PARTY."""
    answer = client_of(directory).post(f"/v1/peers/{party}/catch-up", {"by": operator_name(by), "remark": remark})
    _ = words(directory)
    out.print(
        _("Numbering to {party} resumes at sequence number {number}.").format(party=party, number=answer["send_next"])
    )


@peer.command("list")
@dir_option
@json_option
def peer_list(directory: Path, as_json: bool) -> None:
    """List pinned peers."""
    from hotline.node import IdentityCard
    from hotline.views import peer_view

    pinned = asyncio.run(_pinned(config_of(directory)))
    peers = [peer_view(IdentityCard.parse(p.card)) for p in pinned]
    if as_json:
        print_json(peers)
        return
    table = Table("party", "fingerprint", "TLS pin", "addresses")
    for p in peers:
        table.add_row(p["party"], p["fingerprint"], p["tls_pin"], ", ".join(p["addresses"]))
    out.print(table)


async def _pin_offline(config: NodeConfig, card: IdentityCard) -> None:
    """Vet the card against the peers already pinned (never ourselves, never another party's
    keys), then pin it: what the node does for `POST /v1/peers`, with the node stopped."""
    from hotline.node import vet_new_peer, wall_ms
    from hotline.storage import active_node, open_store

    if config.store:
        # A node of the party that is active would not trust the peer until it restarted: the
        # pin goes through it (its API), not around it into the shared store.
        holder = await asyncio.to_thread(active_node, config.store)
        if holder is not None:
            raise PairingError(
                f"node {holder} of {config.party} is active: pin the card through it (hotline peer add --dir"
                " <its directory>), so that it trusts the peer at once"
            )

    store = open_store(config.store_location, party=config.party)
    try:
        vet_new_peer(config.party, await store.peers(), card)
        await store.add_peer(card.as_peer(wall_ms()))
    finally:
        await store.close()


async def _pinned(config: NodeConfig) -> list[PeerRecord]:
    from hotline.storage import open_store

    if not config.store and not config.store_path.exists():
        return []  # a node never run and never given a peer
    # Read-only: the node may be running, and a list must neither wait for its writes nor
    # hold a lock that makes the node wait.
    store = open_store(config.store_location, read_only=True)
    try:
        return await store.peers()
    finally:
        await store.close()
