"""`hotline peer`: pin a peer from its identity card, list the pinned ones, suspend, resume or
remove one, and resume numbering after a restore.

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
    short_time,
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
@click.argument("card", required=False)
@click.option("--fingerprint", help="the fingerprint the peer's officer read to you by voice; the card must match it")
@click.option("--file", "card_file", type=click.Path(path_type=Path, dir_okay=False, exists=True),
              help="pin every party in a file of lines CARD FINGERPRINT, all or none")  # fmt: skip
@click.option("--replace", is_flag=True,
              help="the party is pinned with other keys: replace them (after a compromise; audited)")  # fmt: skip
@click.option("--by", "by", help="who decides it (default: your login name)")
def peer_add(
    directory: Path, card: str | None, fingerprint: str | None, card_file: Path | None, replace: bool, by: str | None
) -> None:
    """Pin a peer from its identity card, or many from a file (--file). There is no trust on
    first use: the fingerprint, confirmed by voice over a separate channel, is required and must
    match the card. A party already pinned with other keys is replaced only with --replace (its
    old keys are kept, for what they signed), one card at a time."""
    if card_file is not None:
        if card or fingerprint or replace:
            raise click.UsageError("--file pins the cards the file lists: give no CARD, --fingerprint or --replace")
        _pin_file(directory, card_file, operator_name(by))
        return
    if not card or not fingerprint:
        raise click.UsageError("give CARD and --fingerprint (the one read to you by voice), or --file")
    from hotline.node import IdentityCard, check_fingerprint

    parsed = IdentityCard.parse(card)
    check_fingerprint(parsed, fingerprint)
    client = client_of(directory)
    who = operator_name(by)
    if client.running():
        client.post("/v1/peers", {"card": card, "fingerprint": fingerprint, "replace": replace, "by": who})
    else:
        asyncio.run(_pin_offline(config_of(directory), parsed, replace, who))
    out.print(f"Pinned [bold]{parsed.party}[/] at {', '.join(parsed.addresses)}")
    out.print(f"Fingerprint [bold]{parsed.fingerprint}[/] matches the one {parsed.party} read to you.")


def _pin_file(directory: Path, card_file: Path, by: str) -> None:
    from hotline.node import parse_card_list

    text = card_file.read_text(encoding="utf-8")
    client = client_of(directory)
    if client.running():
        before = {p["party"] for p in client.get("/v1/peers")}
        pinned = [p["party"] for p in client.post("/v1/peers/list", {"cards": text, "by": by})]
    else:
        config = config_of(directory)

        async def pin_all() -> tuple[set[str], list[str]]:
            from hotline.storage import open_store

            store = open_store(config.store_location, party=config.party)
            try:
                known = await store.peers()
                cards = parse_card_list(text, config.card(), known)
            finally:
                await store.close()
            for card in cards:
                await _pin_offline(config, card, False, by)
            return {peer.party for peer in known}, [card.party for card in cards]

        before, pinned = asyncio.run(pin_all())
    new = [party for party in pinned if party not in before]
    again = [party for party in pinned if party in before]
    out.print(f"Pinned {len(new)} new parties from {card_file}: {', '.join(new) or 'none'}")
    if again:  # the same file again changes nothing; a new address of a party already pinned is taken
        out.print(f"Already pinned, keys unchanged: {len(again)} ({', '.join(again)})")
    out.print("Each card matched the fingerprint beside it.")


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


SAID = {
    "suspended": "Traffic with {party} is suspended: nothing is sent to it or taken from it, and its board says"
    " so. Messages to {party} wait in the queue; resume with hotline peer resume.",
    "active": "Traffic with {party} is resumed.",
    "removed": "{party} is removed: it is refused from now on. What was exchanged with it is kept, and its"
    " evidence still verifies.",
}
STOPPED = "The node is stopped: it holds to this when it starts."


def _state_command(name: str, state: str, summary: str) -> None:
    @peer.command(name, help=summary)
    @dir_option
    @click.argument("party")
    @click.option("--remark", help="why (kept in the audit, and shown on our board)")
    @click.option("--by", "by", help="who decides it (default: your login name)")
    def command(directory: Path, party: str, remark: str | None, by: str | None) -> None:
        who = operator_name(by)
        client = client_of(directory)
        if client.running():
            client.post(f"/v1/peers/{party}/{name}", {"by": who, "remark": remark})
            stopped = False
        else:
            asyncio.run(_set_state_offline(config_of(directory), party, state, who, remark))
            stopped = True
        _ = words(directory)
        out.print(_(SAID[state]).format(party=party))
        if stopped:
            out.print(_(STOPPED))


_state_command("suspend", "suspended", "Hold all traffic with PARTY, both ways, until resumed; both boards say so.")
_state_command("resume", "active", "Resume traffic with a suspended PARTY.")
_state_command(
    "remove", "removed", "Refuse PARTY from now on; what was exchanged with it is kept and its evidence still verifies."
)


@peer.command("list")
@dir_option
@json_option
def peer_list(directory: Path, as_json: bool) -> None:
    """List pinned peers."""
    from hotline.node import IdentityCard
    from hotline.views import peer_view

    pinned = asyncio.run(_pinned(config_of(directory)))
    peers = [peer_view(IdentityCard.parse(p.card), p) for p in pinned]
    if as_json:
        print_json(peers)
        return
    table = Table("party", "state", "fingerprint", "TLS pin", "addresses")
    for p in peers:
        state = (
            p["state"] if p["state"] == "active" else f"{p['state']} {short_time(p['state_since'])} ({p['state_by']})"
        )
        table.add_row(p["party"], state, p["fingerprint"], p["tls_pin"], ", ".join(p["addresses"]))
    out.print(table)


async def _pin_offline(config: NodeConfig, card: IdentityCard, replace: bool = False, by: str = "operator") -> None:
    """Vet the card against the peers already pinned (never ourselves, never another party's
    keys), then pin it: what the node does for `POST /v1/peers`, with the node stopped."""
    from hotline.node import vet_new_peer, wall_ms
    from hotline.storage import AuditEntry, RetiredKey, active_node, open_store

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
        pinned = await store.peers()
        vet_new_peer(config.party, pinned, card, replace)
        now = wall_ms()
        old = next((p for p in pinned if p.party == card.party and p.sign_key != card.sign_key), None)
        if old is not None:  # the ceremony again: the old keys are kept for what they signed
            await store.close_rotations(old.party, now)
            await store.add_retired_key(RetiredKey(old.party, old.sign_key, old.tls_cert, old.card, now, now))
            await store.set_peer_state(old.party, "active", now, by, "re-paired")
            detail = f"keys replaced by a new card (fingerprint {card.fingerprint})"
            await store.record_audit(AuditEntry(now, by, None, "peer-replace", old.party, detail))
        await store.add_peer(card.as_peer(now))
    finally:
        await store.close()


async def _set_state_offline(config: NodeConfig, party: str, state: str, by: str, remark: str | None) -> None:
    """What the node does for ``POST /v1/peers/PARTY/ACTION``, with the node stopped."""
    from hotline.node import peer_state_refusal, wall_ms
    from hotline.storage import AuditEntry, active_node, open_store

    if config.store:
        holder = await asyncio.to_thread(active_node, config.store)
        if holder is not None:
            raise PairingError(
                f"node {holder} of {config.party} is active: do it through that node (--dir <its directory>)"
            )
    store = open_store(config.store_location, party=config.party)
    try:
        current = next((p for p in await store.peers() if p.party == party), None)
        if current is None:
            raise PairingError(f"{party!r} is not a pinned peer")
        problem = peer_state_refusal(party, current.state, state)
        if problem is not None:
            raise PairingError(problem)
        now = wall_ms()
        await store.set_peer_state(party, state, now, by, remark)
        verb = {"suspended": "suspend", "active": "resume", "removed": "remove"}[state]
        await store.record_audit(AuditEntry(now, by, None, f"peer-{verb}", party, remark))
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
