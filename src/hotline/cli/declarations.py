"""`hotline declarations`: the record of arsenal declarations, ours and the peers', oldest first.

Each with the party, the as-of date, the five figures declared, the deployed launchers New
START counted (ICBMs, SLBMs and heavy bombers together), and the serial; a declaration a later
one for the same date superseded, and one the other side questioned, say so.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import click

from hotline.cli.common import client_of, dir_option, json_option, out, print_json, watch_table, words

# The figures, with the headings the table gives them (in the node's language).
_HEADINGS = (
    ("deployed_icbms", "ICBMs"),
    ("deployed_slbms", "SLBMs"),
    ("deployed_heavy_bombers", "Heavy bombers"),
    ("deployed_launchers", "Deployed launchers"),
    ("deployed_warheads", "Deployed warheads"),
    ("deployed_and_non_deployed_launchers", "All launchers and heavy bombers"),
)


@click.command()
@dir_option
@json_option
@click.option("--csv", "as_csv", is_flag=True, help="print comma-separated values, one declaration a line")
def declarations(directory: Path, as_json: bool, as_csv: bool) -> None:
    """Every arsenal declaration sent or received, oldest as-of date first."""
    if as_json and as_csv:
        raise click.UsageError("choose one of --json and --csv")
    from hotline.views import DECLARATION_COLUMNS

    answer = client_of(directory).get("/v1/declarations")
    items = answer["declarations"]
    for problem in answer["unreadable"]:  # on stderr, whatever the format asked for
        click.echo(f"warning: a declaration cannot be read and is left out: {problem}", err=True)
    if as_json:
        print_json(items)
        return
    if as_csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(DECLARATION_COLUMNS)
        for item in items:
            writer.writerow([" ".join(v) if isinstance(v := item[c], list) else v for c in DECLARATION_COLUMNS])
        return
    _ = words(directory)
    if not items:
        out.print(_("No declaration has been sent or received."))
        return
    table = watch_table(_, "party", "as of", *(heading for _name, heading in _HEADINGS), "serial", "note")
    for item in items:
        notes = []
        if item["superseded_by"]:
            notes.append(_("superseded by {serial}").format(serial=item["superseded_by"]))
        if item["questioned_by"]:
            notes.append(_("questioned: {serials}").format(serials=", ".join(item["questioned_by"])))
        figures = (str(item[name]) for name, _heading in _HEADINGS)
        table.add_row(item["party"], item["as_of"], *figures, item["serial"], "; ".join(notes))
    out.print(table)
