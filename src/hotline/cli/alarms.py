"""Alarms: `alerts` (the channel's alarms, then the messages a person has yet to acknowledge),
and `alarm close` / `alarm history` for latched alarms. They ask the running node."""

from __future__ import annotations

from pathlib import Path

import click
from rich.markup import escape

from hotline.cli.common import (
    client_of,
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


@click.command()
@dir_option
@json_option
def alerts(directory: Path, as_json: bool) -> None:
    """Alarms about the channel itself (a peer unreachable, a FLASH undelivered, evidence of
    tampering), then open escalations: messages a person has yet to acknowledge."""
    client = client_of(directory)
    language = language_of(directory)
    alarms = client.get("/v1/alarms", lang=language)
    items = client.get("/v1/alerts")
    if as_json:
        print_json({"alarms": alarms, "escalations": items})
        return
    _ = words(directory)
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
    table = watch_table(_, "alert", "message", "precedence", "due (UTC)", "who must ack")
    for a in items:
        style = "bold red" if a["loudest"] or a["stage"] == "overdue" else "yellow"
        alert = f"{_(a['stage'])}: {_(a['level'].replace('_', ' '))}"
        if a["loudest"]:
            alert = _("NOBODY ON WATCH?") + " " + alert
        who = _("we (here)") if a["side"] == "receiver" else a["peer"]
        due = f"{a['due'][5:10]} {a['due'][11:16]}Z"  # month-day and minute: a watch log's resolution
        table.add_row(f"[{style}]{alert}[/]", a["message"], shown_precedence(a["precedence"], directory), due, who)
    out.print(table)


@click.group()
def alarm() -> None:
    """Latched alarms: evidence someone must look into, closed by a person with a remark."""


@alarm.command("close")
@dir_option
@click.argument("number", type=click.IntRange(min=1))
@click.option("--remark", required=True, help="what was found and what was done (kept with the alarm)")
@click.option("--by", "by", help="who closes it (default: your login name)")
def alarm_close(directory: Path, number: int, remark: str, by: str | None) -> None:
    """Close latched alarm NUMBER (as `hotline alerts` shows it) after looking into it."""
    closed = client_of(directory).post(f"/v1/alarms/{number}/close", {"by": operator_name(by), "remark": remark})
    _ = words(directory)
    out.print(_("Alarm {number} closed by {name}.").format(number=closed["number"], name=escape(closed["closed_by"])))


@alarm.command("history")
@dir_option
@click.option("--limit", type=click.IntRange(1, 10_000), default=100, show_default=True)
@json_option
def alarm_history(directory: Path, limit: int, as_json: bool) -> None:
    """Latched alarms, open and closed, newest first: who closed each and why."""
    rows = client_of(directory).get("/v1/alarms/history", limit=limit)
    if as_json:
        print_json(rows)
        return
    _ = words(directory)
    table = watch_table(_, "alarm no.", "kind", "peer", "raised", "count", "closed by", "remark")
    for row in rows:
        closed = row["closed_by"] or _("open")
        table.add_row(
            str(row["number"]),
            row["kind"],
            row["peer"] or "",
            short_time(row["raised"]),
            str(row["count"]),
            escape(closed),
            escape(row["remark"] or ""),
        )
    out.print(table)
