"""The command line. This is the one place where errors become messages and exit codes.

Exit codes: 0 done; 1 refused by the node (invalid message, unknown party...); 2 wrong usage
(click's own); 3 configuration; 4 pairing; 5 the node could not be reached.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import click
from rich.console import Console
from rich.table import Table

from hotline.errors import ApiError, ConfigError, HotlineError, PairingError, StoreError

EXIT_CODES: list[tuple[type[HotlineError], int]] = [
    (ConfigError, 3),
    (StoreError, 3),
    (PairingError, 4),
    (ApiError, 1),
]

# Piped output (scripts, logs) gets wide tables rather than rows wrapped at 80 columns.
out = Console(highlight=False, width=None if sys.stdout.isatty() else 200)

dir_option = click.option(
    "--dir",
    "directory",
    envvar="HOTLINE_DIR",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="node directory (default: $HOTLINE_DIR)",
)
json_option = click.option("--json", "as_json", is_flag=True, help="print one JSON document")


def _config(directory: Path) -> Any:
    from hotline.node.config import load_config

    return load_config(directory)


def _client(directory: Path) -> Any:
    from hotline.api.client import ApiClient

    return ApiClient(_config(directory))


def _print_json(value: Any) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2))


@click.group()
@click.version_option(package_name="hotline")
def cli() -> None:
    """hotline: a direct, secure, always-on channel between armed forces."""


@cli.command()
@dir_option
@click.option("--party", required=True, help="this party's name, e.g. SACEUR")
@click.option("--listen", required=True, help="HOST:PORT where peers connect")
@click.option("--api", required=True, help="HOST:PORT of the local operator API (keep it on loopback)")
@click.option("--advertise", multiple=True, help="HOST:PORT peers should dial (repeatable; default --listen)")
@click.option("--language", type=click.Choice(["en", "ru"]), default="en", show_default=True)
def init(directory: Path, party: str, listen: str, api: str, advertise: tuple[str, ...], language: str) -> None:
    """Create a node directory with new keys."""
    from hotline.node.config import init_node

    config = init_node(directory, party, listen, api, advertise, language)
    card = config.card()
    out.print(f"Created node [bold]{party}[/] in {directory}")
    out.print(f"Fingerprint: [bold]{card.fingerprint}[/]")
    out.print("Give your identity card (hotline identity) to each peer, and read them the fingerprint.")


@cli.command()
@dir_option
@json_option
def identity(directory: Path, as_json: bool) -> None:
    """Print this party's identity card and its fingerprint."""
    card = _config(directory).card()
    if as_json:
        _print_json(
            {"party": card.party, "card": card.line(), "fingerprint": card.fingerprint, "tls_pin": card.tls_pin}
        )
        return
    click.echo(card.line())
    click.echo(f"fingerprint: {card.fingerprint}")


@cli.group()
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
    from hotline.node.card import IdentityCard, check_fingerprint

    parsed = IdentityCard.parse(card)
    check_fingerprint(parsed, fingerprint)
    client = _client(directory)
    if client.running():
        client.post("/v1/peers", {"card": card, "fingerprint": fingerprint})
    else:
        _add_peer_offline(_config(directory), parsed)
    out.print(f"Pinned [bold]{parsed.party}[/] at {', '.join(parsed.addresses)}")
    out.print(f"Fingerprint [bold]{parsed.fingerprint}[/] matches the one {parsed.party} read to you.")


def _add_peer_offline(config: Any, card: Any) -> None:
    from hotline.node.card import vet_new_peer
    from hotline.node.service import wall_ms
    from hotline.storage import sqlite

    conn = sqlite.connect(config.store_path)
    try:
        vet_new_peer(config.party, sqlite.list_peers(conn), card)
        conn.execute("BEGIN IMMEDIATE")
        sqlite.add_peer(conn, card.as_peer(wall_ms()))
        conn.execute("COMMIT")
    finally:
        conn.close()


@peer.command("list")
@dir_option
@json_option
def peer_list(directory: Path, as_json: bool) -> None:
    """List pinned peers."""
    from hotline.api.app import peer_view
    from hotline.node.card import IdentityCard
    from hotline.storage import sqlite

    conn = sqlite.connect(_config(directory).store_path)
    try:
        peers = [peer_view(IdentityCard.parse(p.card)) for p in sqlite.list_peers(conn)]
    finally:
        conn.close()
    if as_json:
        _print_json(peers)
        return
    table = Table("party", "fingerprint", "TLS pin", "addresses")
    for p in peers:
        table.add_row(p["party"], p["fingerprint"], p["tls_pin"], ", ".join(p["addresses"]))
    out.print(table)


@cli.command()
@dir_option
@click.option("--log-json", is_flag=True, help="log as JSON lines instead of key=value")
@click.option("--log-level", default="INFO", type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"]))
def run(directory: Path, log_json: bool, log_level: str) -> None:
    """Run the node in the foreground; SIGTERM or Ctrl-C stops it cleanly."""
    from hotline.node import logs
    from hotline.node.runner import serve

    logs.configure(log_level, log_json)
    failure = asyncio.run(serve(_config(directory)))
    if failure is not None:  # a supervisor must see it: restart, and the store recovers
        _fail(f"the node stopped after an internal failure: {failure}", 1)


@cli.command()
@dir_option
@click.option("--to", "to", required=True, help="the peer party")
@click.option("--text", required=True, help="the message text")
@click.option("--lang", help="language of the text (default: the node's language)")
@click.option(
    "--precedence",
    default="ROUTINE",
    show_default=True,
    type=click.Choice(["FLASH", "IMMEDIATE", "PRIORITY", "ROUTINE"], case_sensitive=False),
)
@click.option("--marking", default="UNCLASSIFIED", show_default=True, help="handling label")
@click.option("--ref", help="idempotency key: repeating a send with the same ref never sends twice")
@json_option
def send(
    directory: Path, to: str, text: str, lang: str | None, precedence: str, marking: str, ref: str | None, as_json: bool
) -> None:
    """Queue a free-text message; prints its serial and id."""
    config = _config(directory)
    body = {
        "to": to.upper(),
        "kind": "free_text",
        "body": {"text": text, "lang": lang or config.language},
        "precedence": precedence.upper(),
        "marking": marking,
        "ref": ref,
    }
    message = _client(directory).post("/v1/messages", body)
    if as_json:
        _print_json(message)
        return
    out.print(f"{message['serial']}  {message['state']}  to {message['to']}  {message['precedence']}")
    pending = "(given when it leaves: the peer is not connected, or the window is full)"
    out.print(f"id {message['id'] or pending}")


def _state_style(state: str) -> str:
    return {"delivered": "green", "rejected": "red", "queued": "yellow"}.get(state, "")


@cli.command()
@dir_option
@click.option("--limit", default=1000, show_default=True, type=click.IntRange(1, 10_000))
@json_option
def outbox(directory: Path, limit: int, as_json: bool) -> None:
    """Messages sent, newest first, with their delivery state."""
    items = _client(directory).get("/v1/outbox", limit=limit)
    if as_json:
        _print_json(items)
        return
    table = Table("serial", "to", "seq", "precedence", "marking", "state", "created", "delivered", "text")
    for m in items:
        table.add_row(
            m["serial"],
            m["to"],
            str(m["seq"] or ""),
            m["precedence"],
            m["marking"],
            f"[{_state_style(m['state'])}]{m['state']}[/]",
            _short(m["created"]),
            _short(m["delivered"]),
            _text(m),
        )
    out.print(table)


@cli.command()
@dir_option
@click.option("--limit", default=1000, show_default=True, type=click.IntRange(1, 10_000))
@json_option
def inbox(directory: Path, limit: int, as_json: bool) -> None:
    """Messages received, newest first."""
    items = _client(directory).get("/v1/inbox", limit=limit)
    if as_json:
        _print_json(items)
        return
    table = Table("serial", "from", "seq", "precedence", "marking", "received", "text")
    for m in items:
        table.add_row(
            m["serial"], m["from"], str(m["seq"]), m["precedence"], m["marking"], _short(m["received"]), _text(m)
        )
    out.print(table)


def _short(iso_time: str | None) -> str:
    """'2026-11-23T02:48:42.267Z' as '2026-11-23 02:48:42Z': a watch log's resolution."""
    return "" if iso_time is None else iso_time[:19].replace("T", " ") + "Z"


def _text(message: dict[str, Any]) -> str:
    """The whole text: a watch officer must never act on a message cut short."""
    text = message["body"].get("text") if isinstance(message.get("body"), dict) else None
    return str(text or message["kind"])


@cli.command()
@dir_option
@json_option
def status(directory: Path, as_json: bool) -> None:
    """Per peer: link state, last contact, round trip, queue depth."""
    from hotline.api.views import iso

    report = _client(directory).get("/v1/status")
    if as_json:
        _print_json(report)
        return
    table = Table("peer", "link", "last contact", "RTT ms", "queue", "in flight")
    for p in report["peers"]:
        link = "[green]connected[/]" if p["connected"] else "[red]down[/]"
        table.add_row(
            p["peer"],
            link,
            _short(iso(p["last_contact_ms"])) or "never",
            "" if p["rtt_ms"] is None else f"{p['rtt_ms']:.1f}",
            str(p["queue_depth"]),
            str(p["in_flight"]),
        )
    out.print(f"[bold]{report['party']}[/]")
    out.print(table)


def _fail(message: str, code: int) -> NoReturn:
    click.echo(f"hotline: error: {message}", err=True)
    sys.exit(code)


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; every deliberate error becomes one line on stderr and an exit code."""
    run_cli: Callable[..., Any] = cli.main
    try:
        run_cli(args=argv, prog_name="hotline", standalone_mode=False)
    except click.exceptions.Abort:
        _fail("aborted", 130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except HotlineError as exc:
        code = next((c for kind, c in EXIT_CODES if isinstance(exc, kind)), 1)
        if isinstance(exc, ApiError) and exc.status is None:
            code = 5
        _fail(str(exc), code)
    except KeyboardInterrupt:
        _fail("interrupted", 130)


if __name__ == "__main__":
    main()
