"""Messages: `send` one, `show` one, `ack` one received; the `outbox` and `inbox` tables; the
`forms` a message can be written in. All but `forms` ask the running node."""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.markup import escape
from rich.table import Table

from hotline.cli.common import (
    WIDE_TABLE,
    client_of,
    config_of,
    dir_option,
    json_option,
    language_of,
    operator_name,
    out,
    print_json,
    short_time,
    shown_precedence,
    watch_table,
    words,
)

if TYPE_CHECKING:
    from hotline.api.client import ApiClient


@click.command()
@dir_option
@click.option(
    "--to", "to", required=True, help="the peer party; several, separated by commas (A,B,C); or '*' for every peer"
)
@click.option("--text", help="a free-text message (or use --form and --data)")
@click.option(
    "--lang",
    type=click.Choice(["en", "ru"]),
    help="language of the text, one the product renders (default: the node's language)",
)
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
    config = config_of(directory)
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
    client = client_of(directory)
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
        print_json(message)
        return
    if message.get("addressees"):
        _print_copies(message, words(directory))
        return
    out.print(f"{message['serial']}  {message['state']}  to {message['to']}  {message['precedence']}")
    pending = "(given when it leaves: the peer is not connected, or the window is full)"
    out.print(f"id {message['id'] or pending}")


def _print_copies(message: dict[str, Any], _: Callable[[str], str]) -> None:
    """A message to several parties: the serial that names it, then each addressee's copy."""
    copies = message["addressees"]
    out.print(
        f"{message['serial']}  {message['precedence']}  "
        + _("to {count} parties: {states}").format(count=len(copies), states=_tally(copies, _))
    )
    for copy in copies:
        out.print(f"  {copy['to']:<12} {copy['serial']}  {_(copy['state'])}  id {copy['id'] or '-'}")


def _tally(copies: list[dict[str, Any]], _: Callable[[str], str]) -> str:
    """How many copies stand where, what still needs watching first."""
    from hotline.views import state_tally

    return ", ".join(f"{_(state)}: {count}" for state, count in state_tally(c["state"] for c in copies))


def _path(key: str) -> str:
    """A message key as one path segment: `show ../outbox` must not become another request."""
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,80}", key):
        raise click.BadParameter(f"{key!r} is neither a serial such as SACEUR-000123 nor a 64-digit id")
    return "/v1/messages/" + urllib.parse.quote(key, safe="")


def _reply_target(client: ApiClient, key: str) -> str:
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


def _entry_rows(m: dict[str, Any], _: Callable[[str], str], directory: Path) -> list[dict[str, str]]:
    """A message to several parties: one row for the whole, then a row for each addressee."""
    copies = m["addressees"]
    rows = [
        {
            "serial": m["serial"],
            "to": _("{count} parties").format(count=len(copies)),
            "seq": "",
            "precedence": shown_precedence(m["precedence"], directory),
            "marking": _(m["marking"]),
            "state": escape(_tally(copies, _)),
            "created": short_time(m["created"]),
            "delivered": "",
            "ack due": short_time(m["due"]),
            "text": _text(m, _),
        }
    ]
    for copy in copies:
        ack = copy["acknowledged"]
        state = _(copy["state"])
        if ack:
            name = _by(ack, _, language_of(directory))
            state = _("{state} by {name} {time}").format(state=state, name=name, time=short_time(ack["at"]))
        rows.append(
            {
                "serial": f"  {copy['serial']}",
                "to": copy["to"],
                "seq": str(copy["seq"] or ""),
                "precedence": "",
                "marking": "",
                "state": _styled(state, _STATE_STYLES.get(copy["state"])),
                "created": "",
                "delivered": short_time(copy["delivered"]),
                "ack due": short_time(copy["due"]),
                "text": "",
            }
        )
    return rows


def _by(ack: dict[str, Any], _: Callable[[str], str], lang: str) -> str:
    """Who acknowledged: a person's rank and name (never read as markup), or the node itself."""
    from hotline.forms.ranks import signed_name

    return _("the node itself") if ack.get("auto") else escape(signed_name(str(ack["by"]), ack.get("rank"), lang))


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


@click.command()
@dir_option
@click.option("--limit", default=1000, show_default=True, type=click.IntRange(1, 10_000))
@json_option
def outbox(directory: Path, limit: int, as_json: bool) -> None:
    """Messages sent, newest first, with their delivery state."""
    items = client_of(directory).get("/v1/outbox", limit=limit)
    if as_json:
        print_json(items)
        return
    _ = words(directory)
    columns = ["serial", "to", "seq", "precedence", "marking", "state", "created", "delivered", "ack due", "text"]
    rows = []
    for m in items:
        if m.get("addressees"):
            rows += _entry_rows(m, _, directory)
            continue
        ack = m["acknowledged"]
        state = _(m["state"])
        if ack:
            name = _by(ack, _, language_of(directory))
            state = _("{state} by {name} {time}").format(state=state, name=name, time=short_time(ack["at"]))
        rows.append(
            {
                "serial": m["serial"],
                "to": m["to"],
                "seq": str(m["seq"] or ""),
                "precedence": shown_precedence(m["precedence"], directory),
                "marking": _(m["marking"]),  # in the node's language where the catalogue has it
                "state": _styled(state, _STATE_STYLES.get(m["state"])),
                "created": short_time(m["created"]),
                "delivered": short_time(m["delivered"]),
                "ack due": short_time(m["due"]),
                "text": _text(m, _),
            }
        )
    _print_messages(_, columns, rows, headline=("serial", "to", "precedence", "state"))


@click.command()
@dir_option
@click.option("--limit", default=1000, show_default=True, type=click.IntRange(1, 10_000))
@json_option
def inbox(directory: Path, limit: int, as_json: bool) -> None:
    """Messages received, newest first."""
    items = client_of(directory).get("/v1/inbox", limit=limit)
    if as_json:
        print_json(items)
        return
    _ = words(directory)
    columns = ["serial", "from", "seq", "precedence", "marking", "received", "acknowledged", "text"]
    rows = []
    for m in items:
        ack = m["acknowledged"]
        if ack:
            acknowledged = f"{_by(ack, _, language_of(directory))} {short_time(ack['at'])}"
        else:
            due = _("due {time}").format(time=short_time(m["due"]))
            acknowledged = f"[bold red]{due}[/]" if m["due"] else ""
        rows.append(
            {
                "serial": m["serial"],
                "from": m["from"],
                "seq": str(m["seq"]),
                "precedence": shown_precedence(m["precedence"], directory),
                "marking": _(m["marking"]),  # in the node's language where the catalogue has it
                "received": short_time(m["received"]),
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
        table = watch_table(_, *columns)
        for row in rows:
            table.add_row(*(row[c] for c in columns))
        out.print(table)
        return
    for row in rows:
        out.print("  ".join(row[c] for c in headline if row[c]))
        out.print(f"  {row['text']}")
        out.print("  " + " · ".join(f"{_(c)}: {row[c]}" for c in columns if c not in (*headline, "text") and row[c]))


def _text(message: dict[str, Any], _: Callable[[str], str]) -> str:
    """The whole text of a free-text message (a watch officer must never act on a message cut
    short); for a form, its title in the node's language (`show` renders the whole notice)."""
    from hotline.forms import FORMS

    text = message["body"].get("text") if isinstance(message.get("body"), dict) else None
    if text is None:
        spec = FORMS.get((message["kind"], message.get("kind_version", 1)))
        text = _(spec.title) if spec is not None else message["kind"]
    return escape(str(text))  # the peer's words, never read as markup


@click.command()
@dir_option
@click.argument("kind", required=False, metavar="[FORM]")
@click.option(
    "--example", is_flag=True, help="print a valid --data for the form (every form's, one a line, without FORM)"
)
@json_option
def forms(directory: Path, kind: str | None, example: bool, as_json: bool) -> None:
    """The form catalogue: each form (or FORM) with its fields and their types, and for the
    pre-agreed messages every code with its text in both languages."""
    from hotline.views import forms_view

    catalogue = forms_view(config_of(directory).language)
    if kind is not None:
        catalogue = [form for form in catalogue if form["kind"] == kind]
        if not catalogue:
            known = ", ".join(sorted({form["kind"] for form in forms_view("en")}))
            raise click.BadParameter(f"no form {kind!r}; the forms are: {known}", param_hint="FORM")
    if example:
        if kind is not None:
            catalogue = catalogue[-1:]  # its newest version
        for form in catalogue:
            data = json.dumps(form["example"], ensure_ascii=False)
            click.echo(data if kind is not None else f"{form['kind']}: {data}")
        return
    if as_json:
        print_json(catalogue)
        return
    _ = words(directory)
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
        if form.get("codes"):
            codes = Table(_("code"), "English", "Русский", box=None, padding=(0, 2))
            for text in form["codes"]:
                codes.add_row(text["code"], escape(text["en"]), escape(text["ru"]))
            out.print(codes)
        out.print()


@click.command()
@dir_option
@click.argument("message")
@click.option("--lang", type=click.Choice(["en", "ru"]), help="language to read it in (default: the node's)")
@json_option
def show(directory: Path, message: str, lang: str | None, as_json: bool) -> None:
    """One message (serial or id), rendered, with its delivery and acknowledgement history."""
    from hotline.forms import translations

    config = config_of(directory)
    language = lang or config.language
    item = client_of(directory).get(_path(message), lang=language)
    if as_json:
        print_json(item)
        return
    _ = translations(language).gettext
    if item.get("addressees"):  # to several parties: who, and where each stands, first
        _print_addressees(item, _)
        out.print(_("The copy to {party}:").format(party=item["to"]))
    _print_notice(item, _)
    if item["due"]:
        out.print(
            _("Acknowledgement due: {due}").format(due=short_time(item["due"])) + f" ({_outcome(item['outcome'], _)})"
        )
    out.print(f"[bold]{_('History')}[/]")
    for event in item["history"]:
        out.print(f"  {short_time(event['at'])}  {escape(event['text'])}")
    for reply in item["replies"]:
        if reply["kind"] == "ack":
            text = _("Acknowledgement {serial}.").format(serial=reply["serial"])
        else:
            text = _("Reply {serial} ({kind}).").format(serial=reply["serial"], kind=reply["kind"])
        out.print(f"  {short_time(reply['at'])}  {escape(text)}")
    out.print(f"id {item['id'] or '-'}")


def _print_addressees(item: dict[str, Any], _: Callable[[str], str]) -> None:
    """Each addressee of a message to several parties: its copy, where it stands, who acknowledged."""
    copies = item["addressees"]
    heading = _("Sent to {count} parties as {serial}: {states}")
    heading = heading.format(count=len(copies), serial=item["broadcast"], states=_tally(copies, _))
    out.print(f"[bold]{escape(heading)}[/]")
    for copy in copies:
        ack = copy["acknowledged"]
        who = f"  {escape(str(ack['by']))} {short_time(ack['at'])}" if ack else ""
        outcome = _outcome(copy.get("outcome"), _)
        line = f"  {copy['to']:<12} {copy['serial']}  {_(copy['state'])}{who}"
        out.print(line + (f"  ({outcome})" if outcome else ""))


def _print_notice(item: dict[str, Any], _: Callable[[str], str]) -> None:
    """The message as rendered: heading, who to whom, title, text and fields.

    Everything here may hold the peer's words: escaped, so that text such as "[cancelled]" is
    shown as written, never read as markup."""
    rendered = item["rendered"]
    out.print(f"[bold]{item['serial']}[/]  {escape(item['precedence_name'])}  {escape(_(item['marking']))}")
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


def _outcome(outcome: str | None, _: Callable[[str], str]) -> str:
    return {
        "in_time": _("acknowledged in time"),
        "late": _("acknowledged late"),
        "waiting": _("awaiting acknowledgement"),
        "overdue": _("OVERDUE"),
    }.get(outcome or "", "")


@click.command()
@dir_option
@click.argument("message")
@click.option("--remark", help="an optional remark sent with the acknowledgement")
@click.option("--by", "by", help="who acknowledges (default: your login name)")
@json_option
def ack(directory: Path, message: str, remark: str | None, by: str | None, as_json: bool) -> None:
    """Acknowledge a received message: you have read it. The sender is told who and when."""
    item = client_of(directory).post(_path(message) + "/ack", {"by": operator_name(by), "remark": remark})
    if as_json:
        print_json(item)
        return
    acknowledged = item["acknowledged"]
    _ = words(directory)
    out.print(
        _("{serial} acknowledged by {name} at {time}").format(
            serial=item["serial"], name=f"[bold]{escape(acknowledged['by'])}[/]", time=short_time(acknowledged["at"])
        )
    )
    out.print(_("The acknowledgement is on its way to {party}.").format(party=item["from"]))
