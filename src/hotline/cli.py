"""The command line. This is the one place where errors become messages and exit codes.

Exit codes: 0 done; 1 refused by the node (invalid message, unknown party...); 2 wrong usage
(click's own); 3 configuration; 4 pairing; 5 the node could not be reached.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import re
import sys
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from hotline.errors import ApiError, ConfigError, HotlineError, PairingError, StoreError

EXIT_CODES: list[tuple[type[HotlineError], int]] = [
    (ConfigError, 3),
    (StoreError, 3),
    (PairingError, 4),
    (ApiError, 1),
]

# Piped output (scripts, logs) gets wide tables rather than rows wrapped at 80 columns.
# HOTLINE_WIDTH sets it for output that is not a terminal (a script, a log, a test).
_PIPED_WIDTH = os.environ.get("HOTLINE_WIDTH", "200")
out = Console(
    highlight=False, width=None if sys.stdout.isatty() else int(_PIPED_WIDTH) if _PIPED_WIDTH.isdigit() else 200
)
# Below this many columns the message tables do not fit: each message is printed as three lines.
WIDE_TABLE = 140

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


def _words(directory: Path) -> Callable[[str], str]:
    """The CLI speaks the node's language (config.toml `language`); --json output stays as is."""
    from hotline.forms import translations

    return translations(_language(directory)).gettext


@functools.cache
def _language(directory: Path) -> str:
    """The node's language, read once per command (tables ask for it row by row)."""
    return str(_config(directory).language)


def N_(message: str) -> str:  # noqa: N802 - the gettext convention extraction looks for
    return message


# Words the tables show, marked here so that extraction finds them (they are translated where
# the node's language is known).
_VOCABULARY = [
    N_("serial"), N_("to"), N_("seq"), N_("precedence"), N_("marking"), N_("state"), N_("created"),
    N_("delivered"), N_("ack due"), N_("text"), N_("from"), N_("received"), N_("acknowledged"), N_("peer"),
    N_("link"), N_("last contact"), N_("RTT ms"), N_("queue"), N_("in flight"), N_("last link test"),
    N_("alert"), N_("message"), N_("due (UTC)"), N_("who must ack"), N_("field"), N_("type"), N_("required"),
    N_("description"), N_("queued"), N_("sent"), N_("rejected"), N_("alarm"), N_("approaching"), N_("overdue"),
    N_("duty officer"), N_("supervisor"), N_("commander"), N_("ok"), N_("failed"), N_("pending"),
    N_("alarm no."), N_("kind"), N_("raised"), N_("count"), N_("closed by"), N_("remark"),
]  # fmt: skip


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
@click.option("--witness-only", is_flag=True, help="a neutral party: witnesses the peers' transcripts, sends nothing")
def init(
    directory: Path, party: str, listen: str, api: str, advertise: tuple[str, ...], language: str, witness_only: bool
) -> None:
    """Create a node directory with new keys."""
    from hotline.node.config import init_node

    config = init_node(directory, party, listen, api, advertise, language, witness_only)
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


@peer.command("catch-up")
@dir_option
@click.argument("party")
@click.option("--remark", required=True, help="why: which copy was restored, what was lost (kept in the audit)")
@click.option("--by", "by", help="who decides it (default: your login name)")
def peer_catch_up(directory: Path, party: str, remark: str, by: str | None) -> None:
    """After our store went back in time (restored from an older copy): number messages to PARTY
    from where it stands, so that no sequence number or serial is used twice. Only when
    `hotline alerts` says our store is behind PARTY."""
    answer = _client(directory).post(f"/v1/peers/{party}/catch-up", {"by": _who(by), "remark": remark})
    _ = _words(directory)
    out.print(
        _("Numbering to {party} resumes at sequence number {number}.").format(party=party, number=answer["send_next"])
    )


def _add_peer_offline(config: Any, card: Any) -> None:
    from hotline.node import wall_ms
    from hotline.node.card import vet_new_peer
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
    from hotline.server import serve

    logs.configure(log_level, log_json)
    failure = asyncio.run(serve(_config(directory)))
    if failure is not None:  # a supervisor must see it: restart, and the store recovers
        _fail(f"the node stopped after an internal failure: {failure}", 1)


@cli.command()
@dir_option
@click.option("--to", "to", required=True, help="the peer party")
@click.option("--text", help="a free-text message (or use --form and --data)")
@click.option("--lang", help="language of the text (default: the node's language)")
@click.option("--form", "form", help="a form from `hotline forms`, filled by --data")
@click.option("--data", help="the form's fields: a JSON object, or @FILE holding one")
@click.option("--reply-to", "reply_to", help="the message this answers (serial or id)")
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
    directory: Path,
    to: str,
    text: str | None,
    lang: str | None,
    form: str | None,
    data: str | None,
    reply_to: str | None,
    precedence: str,
    marking: str,
    ref: str | None,
    as_json: bool,
) -> None:
    """Queue a message: free text (--text), or a form (--form with --data); prints its serial."""
    config = _config(directory)
    if (text is None) == (form is None):
        raise click.UsageError("give either --text, or --form with --data")
    if form is not None and data is None:
        raise click.UsageError(f"--form {form} needs --data with its fields (see: hotline forms --dir {directory})")
    if text is not None and data is not None:
        raise click.UsageError("--data goes with --form; a free-text message takes --text only")
    if form is None:
        kind, fields = "free_text", {"text": text, "lang": lang or config.language}
    else:
        kind, fields = form, _json_object(data or "", "--data")
    client = _client(directory)
    request = {
        "to": to.upper(),
        "kind": kind,
        "body": fields,
        "precedence": precedence.upper(),
        "marking": marking,
        "ref": ref,
        "reply_to": _reply_target(client, reply_to) if reply_to else None,
    }
    message = client.post("/v1/messages", request)
    if as_json:
        _print_json(message)
        return
    out.print(f"{message['serial']}  {message['state']}  to {message['to']}  {message['precedence']}")
    pending = "(given when it leaves: the peer is not connected, or the window is full)"
    out.print(f"id {message['id'] or pending}")


def _path(key: str) -> str:
    """A message key as one path segment: `show ../outbox` must not become another request."""
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,80}", key):
        raise click.BadParameter(f"{key!r} is neither a serial such as SACEUR-000123 nor a 64-digit id")
    return "/v1/messages/" + urllib.parse.quote(key, safe="")


def _reply_target(client: Any, key: str) -> str:
    target = client.get(_path(key))
    if target["id"] is None:
        raise click.BadParameter(
            f"{key} is not signed yet (still queued), so nothing can reply to it", param_hint="--reply-to"
        )
    return str(target["id"])


def _json_object(value: str, option: str) -> dict[str, Any]:
    """--data: a JSON object given inline, or @FILE naming a file that holds one."""
    source = value
    if value.startswith("@"):
        try:
            source = Path(value[1:]).read_text(encoding="utf-8")
        except OSError as exc:
            raise click.BadParameter(f"cannot read {value[1:]}: {exc.strerror}", param_hint=option) from None
    try:
        parsed = json.loads(source)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(
            f"not JSON ({exc.msg} at line {exc.lineno} column {exc.colno})", param_hint=option
        ) from None
    if not isinstance(parsed, dict):
        raise click.BadParameter(f"must be a JSON object {{...}}, not {type(parsed).__name__}", param_hint=option)
    return parsed


# What an officer reads or types back (a serial into `ack`) keeps its width on a narrow terminal;
# the long columns (text, state) wrap instead.
_MIN_WIDTH = {
    "serial": 14,
    "message": 14,
    "precedence": 9,
    "from": 7,
    "to": 7,
    "peer": 7,
    "due": 20,
    "due (UTC)": 12,
    "ack due": 20,
    "created": 20,
    "received": 20,
}


def _table(_: Callable[[str], str], *columns: str) -> Table:
    table = Table()
    for name in columns:
        table.add_column(_(name), min_width=_MIN_WIDTH.get(name), no_wrap=name in _MIN_WIDTH, overflow="fold")
    table.columns[0].min_width = table.columns[0].min_width or 12
    return table


def _by(ack: dict[str, Any], _: Callable[[str], str]) -> str:
    """Who acknowledged: a person's name (never read as markup), or the node itself."""
    return _("the node itself") if ack.get("auto") else escape(str(ack["by"]))


# Every state a message can be in has its style: `sent` (on the wire, no receipt yet) is the one
# an operator sees while a link is degraded, and an empty style there once broke the table.
_STATE_STYLES = {
    "queued": "yellow",
    "sent": "bold yellow",
    "delivered": "green",
    "acknowledged": "bold green",
    "rejected": "red",
}


def _styled(text: str, style: str | None) -> str:
    """``text`` (already escaped) in ``style``; unstyled rather than broken markup if there is none."""
    return f"[{style}]{text}[/]" if style else text


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
    _ = _words(directory)
    columns = ["serial", "to", "seq", "precedence", "marking", "state", "created", "delivered", "ack due", "text"]
    rows = []
    for m in items:
        ack = m["acknowledged"]
        state = _(m["state"])
        if ack:
            state = _("{state} by {name} {time}").format(state=state, name=_by(ack, _), time=_short(ack["at"]))
        rows.append(
            {
                "serial": m["serial"],
                "to": m["to"],
                "seq": str(m["seq"] or ""),
                "precedence": _precedence(m["precedence"], directory),
                "marking": m["marking"],
                "state": _styled(state, _STATE_STYLES.get(m["state"])),
                "created": _short(m["created"]),
                "delivered": _short(m["delivered"]),
                "ack due": _short(m["due"]),
                "text": _text(m, _),
            }
        )
    _print_messages(_, columns, rows, headline=("serial", "to", "precedence", "state"))


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
    _ = _words(directory)
    columns = ["serial", "from", "seq", "precedence", "marking", "received", "acknowledged", "text"]
    rows = []
    for m in items:
        ack = m["acknowledged"]
        if ack:
            acknowledged = f"{_by(ack, _)} {_short(ack['at'])}"
        else:
            due = _("due {time}").format(time=_short(m["due"]))
            acknowledged = f"[bold red]{due}[/]" if m["due"] else ""
        rows.append(
            {
                "serial": m["serial"],
                "from": m["from"],
                "seq": str(m["seq"]),
                "precedence": _precedence(m["precedence"], directory),
                "marking": m["marking"],
                "received": _short(m["received"]),
                "acknowledged": acknowledged,
                "text": _text(m, _),
            }
        )
    _print_messages(_, columns, rows, headline=("serial", "from", "precedence", "acknowledged"))


def _print_messages(
    _: Callable[[str], str], columns: list[str], rows: list[dict[str, str]], headline: tuple[str, ...]
) -> None:
    """A table where it fits; on a narrow terminal, each message as a headline (who, what
    precedence, what state), its text, and a line with the rest, labelled, so nothing is cut."""
    if out.width >= WIDE_TABLE:
        table = _table(_, *columns)
        for row in rows:
            table.add_row(*(row[c] for c in columns))
        out.print(table)
        return
    for row in rows:
        out.print("  ".join(row[c] for c in headline if row[c]))
        out.print(f"  {row['text']}")
        out.print("  " + " · ".join(f"{_(c)}: {row[c]}" for c in columns if c not in (*headline, "text") and row[c]))


def _short(iso_time: str | None) -> str:
    """'2026-11-23T02:48:42.267Z' as '2026-11-23 02:48:42Z': a watch log's resolution."""
    return "" if iso_time is None else iso_time[:19].replace("T", " ") + "Z"


def _text(message: dict[str, Any], _: Callable[[str], str]) -> str:
    """The whole text of a free-text message (a watch officer must never act on a message cut
    short); for a form, its title in the node's language (`show` renders the whole notice)."""
    from hotline.forms import FORMS

    text = message["body"].get("text") if isinstance(message.get("body"), dict) else None
    if text is None:
        spec = FORMS.get((message["kind"], message.get("kind_version", 1)))
        text = _(spec.title) if spec is not None else message["kind"]
    return escape(str(text))  # the peer's words, never read as markup


def _precedence(precedence: str, directory: Path) -> str:
    """FLASH, or МОЛНИЯ on a Russian node: as `show` names it."""
    from hotline.forms import precedence_name

    return precedence_name(precedence, _language(directory))


@cli.command()
@dir_option
@json_option
def status(directory: Path, as_json: bool) -> None:
    """Per peer: link state, last contact, round trip, queue depth."""
    from hotline.views import iso

    report = _client(directory).get("/v1/status")
    if as_json:
        _print_json(report)
        return
    _ = _words(directory)
    table = Table(
        *(_(name) for name in ("peer", "link", "last contact", "RTT ms", "queue", "in flight", "last link test"))
    )
    for p in report["peers"]:
        lanes = p["lanes"]
        if all(lanes.values()):
            link = "[green]" + _("connected") + "[/]"
        elif lanes["urgent"]:
            link = "[yellow]" + _("urgent lane only") + "[/]"
        elif lanes["ordinary"]:
            link = "[yellow]" + _("ordinary lane only") + "[/]"
        else:
            link = "[red]" + _("down") + "[/]"
        table.add_row(
            p["peer"],
            link,
            _short(iso(p["last_contact_ms"])) or _("never"),
            "" if p["rtt_ms"] is None else f"{p['rtt_ms']:.1f}",
            str(p["queue_depth"]),
            str(p["in_flight"]),
            _link_test(p["link_test"], _),
        )
    out.print(f"[bold]{report['party']}[/]")
    out.print(table)


def _link_test(test: dict[str, Any] | None, _: Callable[[str], str]) -> str:
    from hotline.views import iso

    if test is None:
        return _("none yet")
    at = _short(iso(test["at_ms"]))
    if test["state"] == "ok":
        return f"[green]{_('ok')}[/] " + _("{time}, answered in {ms} ms").format(time=at, ms=test["rtt_ms"])
    style = "red" if test["state"] == "failed" else "yellow"
    return f"[{style}]{_(test['state'])}[/] {at}"


@cli.command()
@dir_option
@json_option
def forms(directory: Path, as_json: bool) -> None:
    """The form catalogue: each form with its fields and their types."""
    from hotline.api.app import forms_view

    catalogue = forms_view(_config(directory).language)
    if as_json:
        _print_json(catalogue)
        return
    _ = _words(directory)
    for form in catalogue:
        notes = [] if form["composable"] else [_("sent by the node itself")]
        if form["needs_reply_to"]:
            notes.append(_("needs --reply-to"))
        suffix = f"  ({'; '.join(notes)})" if notes else ""
        out.print(f"[bold]{form['kind']}[/] v{form['version']}: {escape(form['title'])}{suffix}")
        table = Table(*(_(name) for name in ("field", "type", "required", "description")), box=None, padding=(0, 2))
        for f in form["fields"]:
            table.add_row(f["name"], f["type"], _("yes") if f["required"] else _("no"), f["description"])
        out.print(table)
        out.print()


@cli.command()
@dir_option
@click.argument("message")
@click.option("--lang", type=click.Choice(["en", "ru"]), help="language to read it in (default: the node's)")
@json_option
def show(directory: Path, message: str, lang: str | None, as_json: bool) -> None:
    """One message (serial or id), rendered, with its delivery and acknowledgement history."""
    from hotline.forms import translations

    config = _config(directory)
    language = lang or config.language
    item = _client(directory).get(_path(message), lang=language)
    if as_json:
        _print_json(item)
        return
    _ = translations(language).gettext
    rendered = item["rendered"]
    # Everything below may hold the peer's words: escaped, so that text such as "[cancelled]" is
    # shown as written, never read as markup.
    out.print(f"[bold]{item['serial']}[/]  {escape(item['precedence_name'])}  {escape(item['marking'])}")
    out.print(escape(_("From {sender} to {recipient}").format(sender=item["from"], recipient=item["to"])))
    if item.get("in_reply_to"):
        target = item["in_reply_to"]
        out.print(escape(_("In reply to {serial} ({kind}).").format(serial=target["serial"], kind=target["kind"])))
    out.print()
    out.print(f"[bold]{escape(rendered['title'])}[/]")
    out.print(escape(rendered["text"]))
    if rendered["fields"]:
        table = Table(box=None, show_header=False, padding=(0, 2))
        for label, value in rendered["fields"]:
            table.add_row(escape(label), escape(value))
        out.print(table)
    out.print()
    if item["due"]:
        out.print(
            _("Acknowledgement due: {due}").format(due=_short(item["due"])) + f" ({_outcome(item['outcome'], _)})"
        )
    out.print(f"[bold]{_('History')}[/]")
    for event in item["history"]:
        out.print(f"  {_short(event['at'])}  {escape(event['text'])}")
    for reply in item["replies"]:
        if reply["kind"] == "ack":
            text = _("Acknowledgement {serial}.").format(serial=reply["serial"])
        else:
            text = _("Reply {serial} ({kind}).").format(serial=reply["serial"], kind=reply["kind"])
        out.print(f"  {_short(reply['at'])}  {escape(text)}")
    out.print(f"id {item['id'] or '-'}")


def _outcome(outcome: str | None, _: Callable[[str], str]) -> str:
    return {
        "in_time": _("acknowledged in time"),
        "late": _("acknowledged late"),
        "waiting": _("awaiting acknowledgement"),
        "overdue": _("OVERDUE"),
    }.get(outcome or "", "")


@cli.command()
@dir_option
@click.argument("message")
@click.option("--remark", help="an optional remark sent with the acknowledgement")
@click.option("--by", "by", help="who acknowledges (default: your login name)")
@json_option
def ack(directory: Path, message: str, remark: str | None, by: str | None, as_json: bool) -> None:
    """Acknowledge a received message: you have read it. The sender is told who and when."""
    item = _client(directory).post(_path(message) + "/ack", {"by": _who(by), "remark": remark})
    if as_json:
        _print_json(item)
        return
    acknowledged = item["acknowledged"]
    _ = _words(directory)
    out.print(
        _("{serial} acknowledged by {name} at {time}").format(
            serial=item["serial"], name=f"[bold]{escape(acknowledged['by'])}[/]", time=_short(acknowledged["at"])
        )
    )
    out.print(_("The acknowledgement is on its way to {party}.").format(party=item["from"]))


@cli.command()
@dir_option
@json_option
def alerts(directory: Path, as_json: bool) -> None:
    """Alarms about the channel itself (a peer unreachable, a FLASH undelivered, evidence of
    tampering), then open escalations: messages a person has yet to acknowledge."""
    client = _client(directory)
    language = _language(directory)
    alarms = client.get("/v1/alarms", lang=language)
    items = client.get("/v1/alerts")
    if as_json:
        _print_json({"alarms": alarms, "escalations": items})
        return
    _ = _words(directory)
    for alarm in alarms:  # above everything else: they say whether anything gets through at all
        style = "bold red" if alarm["loudest"] or alarm["level"] != "duty_officer" else "yellow"
        number = escape(f"  [{_('alarm no.')} {alarm['number']}]") if alarm["number"] is not None else ""
        calls = _("calls for: {who}").format(who=alarm["calls_for"])
        out.print(f"[{style}]{escape(alarm['title'])}[/] — {escape(calls)}{number}")
        out.print(f"  {escape(alarm['summary'])}")
    if not items:
        if not alarms:
            out.print(_("No open alerts."))
        return
    table = _table(_, "alert", "message", "precedence", "due (UTC)", "who must ack")
    for a in items:
        style = "bold red" if a["loudest"] or a["stage"] == "overdue" else "yellow"
        alert = f"{_(a['stage'])}: {_(a['level'].replace('_', ' '))}"
        if a["loudest"]:
            alert = _("NOBODY ON WATCH?") + " " + alert
        who = _("we (here)") if a["side"] == "receiver" else a["peer"]
        due = f"{a['due'][5:10]} {a['due'][11:16]}Z"  # month-day and minute: a watch log's resolution
        table.add_row(f"[{style}]{alert}[/]", a["message"], _precedence(a["precedence"], directory), due, who)
    out.print(table)


@cli.group()
def alarm() -> None:
    """Latched alarms: evidence someone must look into, closed by a person with a remark."""


@alarm.command("close")
@dir_option
@click.argument("number", type=click.IntRange(min=1))
@click.option("--remark", required=True, help="what was found and what was done (kept with the alarm)")
@click.option("--by", "by", help="who closes it (default: your login name)")
def alarm_close(directory: Path, number: int, remark: str, by: str | None) -> None:
    """Close latched alarm NUMBER (as `hotline alerts` shows it) after looking into it."""
    closed = _client(directory).post(f"/v1/alarms/{number}/close", {"by": _who(by), "remark": remark})
    _ = _words(directory)
    out.print(_("Alarm {number} closed by {name}.").format(number=closed["number"], name=escape(closed["closed_by"])))


@alarm.command("history")
@dir_option
@click.option("--limit", type=click.IntRange(1, 10_000), default=100, show_default=True)
@json_option
def alarm_history(directory: Path, limit: int, as_json: bool) -> None:
    """Latched alarms, open and closed, newest first: who closed each and why."""
    rows = _client(directory).get("/v1/alarms/history", limit=limit)
    if as_json:
        _print_json(rows)
        return
    _ = _words(directory)
    table = _table(_, "alarm no.", "kind", "peer", "raised", "count", "closed by", "remark")
    for row in rows:
        closed = row["closed_by"] or _("open")
        table.add_row(
            str(row["number"]),
            row["kind"],
            row["peer"] or "",
            _short(row["raised"]),
            str(row["count"]),
            escape(closed),
            escape(row["remark"] or ""),
        )
    out.print(table)


def _who(by: str | None) -> str:
    import getpass

    try:
        return by or getpass.getuser()
    except (KeyError, OSError):  # no login name (a container without a passwd entry)
        raise click.UsageError("give --by NAME: who you are") from None


def _fail(message: str, code: int) -> NoReturn:
    click.echo(f"hotline: error: {message}", err=True)
    sys.exit(code)


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; every deliberate error becomes one line on stderr and an exit code."""
    import hotline.cli_transcript
    import hotline.cli_users  # noqa: F401 - registers the console's account commands

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
