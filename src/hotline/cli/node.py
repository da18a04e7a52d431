"""The node itself: `init` creates it, `identity` shows its card, `status` reports its links."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from hotline.cli.common import (
    N_,
    client_of,
    config_of,
    dir_option,
    json_option,
    out,
    print_json,
    short_time,
    words,
)


@click.command()
@dir_option
@click.option("--party", help="this party's name, e.g. SACEUR")
@click.option("--listen", required=True, help="HOST:PORT where peers connect")
@click.option("--api", required=True, help="HOST:PORT of the local operator API (keep it on loopback)")
@click.option("--advertise", multiple=True, help="HOST:PORT peers should dial (repeatable; default --listen)")
@click.option("--language", type=click.Choice(["en", "ru"]), default="en", show_default=True)
@click.option("--witness-only", is_flag=True, help="a neutral party: witnesses the peers' transcripts, sends nothing")
@click.option(
    "--store",
    default="",
    metavar="postgresql://USER@HOST:PORT/DATABASE",
    help="keep the store in this PostgreSQL database (several hosts allowed) instead of the node directory",
)
@click.option(
    "--join",
    "existing",
    type=click.Path(file_okay=False, path_type=Path),
    help="make another node of the party whose node directory this is (its store must be PostgreSQL)",
)
@click.option("--console", "console_listen", default="", metavar="HOST:PORT",
              help="serve the console over HTTPS here too, for the watch floor's browsers")  # fmt: skip
@click.option("--console-cert", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="the organisation's certificate for the console (PEM; default: one made now)")  # fmt: skip
@click.option("--console-key", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="the key of --console-cert (PEM)")  # fmt: skip
def init(
    directory: Path,
    party: str | None,
    listen: str,
    api: str,
    advertise: tuple[str, ...],
    language: str,
    witness_only: bool,
    store: str,
    existing: Path | None,
    console_listen: str,
    console_cert: Path | None,
    console_key: Path | None,
) -> None:
    """Create a node directory with new keys, or (--join) another node of a party."""
    from hotline.node import init_node, join_node

    console = _console_listener(console_listen, console_cert, console_key)
    if existing is not None:
        if party or store or witness_only:
            raise click.UsageError("--join takes the party, store and keys of the node it joins: leave out"
                                   " --party, --store and --witness-only")  # fmt: skip
        config = join_node(directory, existing, listen, api, advertise, console)
        out.print(f"Created node {config.node} of [bold]{config.party}[/] in {directory}; it starts as a standby")
        _console_made(config)
        out.print("Give the peers the party's card again (hotline identity): it now names this node's addresses too.")
        return
    if not party:
        raise click.UsageError("--party is required (or --join DIR to add a node to a party)")
    config = init_node(directory, party, listen, api, advertise, language, witness_only, store, console)
    card = config.card()
    out.print(f"Created node [bold]{party}[/] in {directory}")
    out.print(f"Fingerprint: [bold]{card.fingerprint}[/]")
    out.print("Give your identity card (hotline identity) to each peer, and read them the fingerprint.")
    _console_made(config)


def _console_listener(listen: str, cert: Path | None, key: Path | None) -> dict[str, str]:
    """``[console]``'s listener settings from the options, the organisation's files checked."""
    from hotline.errors import PairingError
    from hotline.node import check_console_files, parse_address

    if (cert is None) != (key is None):
        raise click.UsageError("--console-cert and --console-key go together: give both, or neither")
    if not listen:
        if cert is not None:
            raise click.UsageError("--console-cert needs --console HOST:PORT, the address to serve the console on")
        return {}
    try:
        parse_address(listen)
    except PairingError as exc:
        raise click.BadParameter(str(exc), param_hint="--console") from None
    settings = {"listen": listen}
    if cert is not None and key is not None:
        check_console_files(cert, key)
        settings.update(cert=str(cert.resolve()), key=str(key.resolve()))
    return settings


def _console_made(config: Any) -> None:
    """Make the console's certificate if the node serves one and was given none; say where."""
    from hotline.node import console_certificate, make_console_certificate

    if not config.console.listen:
        return
    facts = console_certificate(config) or make_console_certificate(config)
    out.print(f"Console: {config.console_url} (certificate SHA-256 {facts.fingerprint})")


@click.command()
@dir_option
@json_option
def identity(directory: Path, as_json: bool) -> None:
    """Print this party's identity card and its fingerprint."""
    from hotline.errors import ApiError
    from hotline.node import console_certificate

    config = config_of(directory)
    card = config.card()
    facts = console_certificate(config)
    console = {"url": config.console_url, "sha256": facts.fingerprint, "names": list(facts.names),
               "not_after": facts.not_after.isoformat().replace("+00:00", "Z")} if facts else None  # fmt: skip
    # A key rotation under way (the running node knows): whom it still waits for.
    client = client_of(directory)
    rotation = None
    if client.running():
        try:
            rotation = client.get("/v1/identity").get("rotation")
        except ApiError:  # a standby: its card is the party's, and the active node rotates
            rotation = None
    if as_json:
        print_json({"party": card.party, "card": card.line(), "fingerprint": card.fingerprint, "tls_pin": card.tls_pin,
                    "console": console, "rotation": rotation})  # fmt: skip
        return
    click.echo(card.line())
    click.echo(f"fingerprint: {card.fingerprint}")
    if rotation:
        waiting = ", ".join(rotation["waiting_for"]) or "nobody (ending now)"
        click.echo(f"key rotation under way to key {rotation['new_key']}: waiting for {waiting}")
    if console:
        click.echo(f"console: {console['url']}")
        click.echo(f"console certificate SHA-256: {console['sha256']} (valid until {console['not_after'][:10]})")


@click.command()
@dir_option
@json_option
def status(directory: Path, as_json: bool) -> None:
    """Per peer: link state, last contact, round trip, queue depth; then each path to it."""
    from hotline.views import iso

    report = client_of(directory).get("/v1/status")
    if as_json:
        print_json(report)
        return
    _ = words(directory)
    if report.get("role") == "standby":
        active = report["active"]
        out.print(f"[bold]{report['party']}[/] " + _("node {node}: standing by").format(node=report["node"]))
        if active["node"] is None:
            out.print(_("no node of the party is active"))
        else:
            out.print(_("active node: {node} (operator API {api}, epoch {epoch})").format(**active))
        return
    columns = ("peer", "link", "needs", "last contact", "RTT ms", "queue", "in flight", "last link test")
    table = Table(*(_(name) for name in columns))
    for p in report["peers"]:  # most in need of attention first (watch/attention.py)
        table.add_row(
            p["peer"],
            _link(p["connected"], p["lanes"], _, p.get("hold")),
            _needs(p["attention"], _),
            short_time(iso(p["last_contact_ms"])) or _("never"),
            "" if p["rtt_ms"] is None else f"{p['rtt_ms']:.1f}",
            str(p["queue_depth"]),
            str(p["in_flight"]),
            _link_test(p["link_test"], _),
        )
    role = " " + _("node {node}: active").format(node=report["node"]) if report.get("node") else ""
    out.print(f"[bold]{report['party']}[/]{role}")
    out.print(table)
    out.print(_paths_table(report["peers"], _))
    if "peer_port" in report:
        out.print(_peer_port(report["peer_port"], report["file_handles"], _))
    if "api_port" in report:
        out.print(_api_port(report["api_port"], _))


# The peer port's refusals by cause, as ``/v1/status`` names them (``protocol.admission.Refusal``).
REFUSALS = {
    "busy": N_("all slots taken"),
    "source": N_("address over its share"),
    "evicted": N_("cut short for another address"),
    "timeout": N_("timed out"),
    "handshake": N_("TLS failed"),
    "unpinned": N_("key not pinned"),
    "accept": N_("not accepted"),
}


def _peer_port(port: dict[str, Any], handles: dict[str, Any], _: Callable[[str], str]) -> str:
    """Two lines: handshakes under way and refusals by cause; file handles (red when short)."""
    refused = ", ".join(f"{_(REFUSALS.get(cause, cause))} {count}" for cause, count in port["refused"].items())
    line = _("peer port: {now} of {limit} handshakes under way; refused since start: {refused}").format(
        now=port["handshakes"], limit=port["handshakes_limit"], refused=refused or "0"
    )
    files = _("file handles: {open} open, limit {limit}, the bounds need {needed}").format(
        open="?" if handles["open"] is None else handles["open"], limit=handles["limit"], needed=handles["needed"]
    )
    return f"{line}\n" + (f"[red]{files}[/]" if handles["short"] else files)


def _api_port(port: dict[str, Any], _: Callable[[str], str]) -> str:
    """What is taken of the API port's bounds now, and its refusals by cause (the causes as
    ``/metrics`` and docs/operations.md name them)."""
    taken = ", ".join(f"{what} {count}" for what, count in port["in_use"].items())
    refused = ", ".join(f"{cause} {count}" for cause, count in port["refused"].items())
    return _("API port: in use {taken}; refused since start: {refused}").format(taken=taken, refused=refused or "0")


def _paths_table(peers: list[dict[str, Any]], _: Callable[[str], str]) -> Table | str:
    """Each path to each peer: up or down, its round trip and last contact, what it carries.
    With many peers (a network), only the paths not up, and a count of the rest."""
    from hotline.views import iso

    table = Table(*(_(name) for name in ("peer", "path", "address", "state", "RTT ms", "last contact", "carries")))
    every = [path for p in peers for path in p["paths"]]
    many = len(peers) > MANY_PEERS
    if many:
        counted = _("paths up: {up} of {total}").format(up=sum(path["up"] for path in every), total=len(every))
        if all(path["up"] for path in every):
            return counted
        table.caption = counted
    for p in peers:
        for path in p["paths"]:
            if many and path["up"]:
                continue
            if path["up"]:
                state = "[green]" + _("up") + "[/]"
            elif path["down_since_ms"] is None:
                state = "[red]" + _("not up yet") + "[/]"
            else:
                since = short_time(iso(path["down_since_ms"]))
                state = "[red]" + _("down since {time}").format(time=since) + "[/]"
            if path["downs"]:
                state += ", " + _("outages: {count}").format(count=path["downs"])
            table.add_row(
                p["peer"],
                str(path["path"]),
                path["address"] or "—",
                state,
                "" if path["rtt_ms"] is None else f"{path['rtt_ms']:.1f}",
                short_time(iso(path["last_contact_ms"])) or _("never"),
                ", ".join(_(lane) for lane in path["carries"]),
            )
    return table


# Beyond this many peers, ``status`` lists only the paths that are not up.
MANY_PEERS = 8
# Traffic held on purpose (``hotline peer suspend|remove``), as /v1/status names it.
HOLDS = {
    "suspended-by-us": N_("suspended by us"),
    "suspended-by-peer": N_("suspended by the peer"),
    "removed-by-us": N_("removed by us"),
    "removed-by-peer": N_("the peer removed us"),
}


def _link(connected: bool, lanes: dict[str, bool], _: Callable[[str], str], hold: str | None = None) -> str:
    """Held on purpose (said instead of "down"); both lanes up on some path, one of them, or none."""
    if hold is not None:
        return "[yellow]" + _(HOLDS.get(hold, hold)) + "[/]"
    if not connected:
        return "[red]" + _("down") + "[/]"
    if all(lanes.values()):
        return "[green]" + _("connected") + "[/]"
    if lanes["urgent"]:
        return "[yellow]" + _("urgent lane only") + "[/]"
    if lanes["ordinary"]:
        return "[yellow]" + _("ordinary lane only") + "[/]"
    return "[red]" + _("down") + "[/]"


def _needs(attention: dict[str, Any], _: Callable[[str], str]) -> str:
    """What a peer asks of the watch, in a few words: its alarms and who they call for, and the
    acknowledgements outstanding either way. Empty for a quiet peer."""
    said = []
    if attention["alarms"]:
        calls_for: str = attention["calls_for"]
        level = _(calls_for.replace("_", " "))  # "duty officer", "supervisor", "commander"
        said.append("[red]" + _("alarms: {count} ({level})").format(count=attention["alarms"], level=level) + "[/]")
    if attention["overdue"]:
        said.append("[red]" + _("overdue: {count}").format(count=attention["overdue"]) + "[/]")
    if attention["they_owe"]:
        said.append(_("awaiting their acknowledgement: {count}").format(count=attention["they_owe"]))
    if attention["we_owe"]:
        said.append(_("awaiting ours: {count}").format(count=attention["we_owe"]))
    return "; ".join(said)


def _link_test(test: dict[str, Any] | None, _: Callable[[str], str]) -> str:
    from hotline.views import iso

    if test is None:
        return _("none yet")
    at = short_time(iso(test["at_ms"]))
    if test["state"] == "ok":
        return f"[green]{_('ok')}[/] " + _("{time}, answered in {ms} ms").format(time=at, ms=test["rtt_ms"])
    style = "red" if test["state"] == "failed" else "yellow"
    return f"[{style}]{_(test['state'])}[/] {at}"
