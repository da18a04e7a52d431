"""What every command shares: the console, the common options, the node's configuration and
language, the operator's name, and the helpers that print tables, JSON and errors."""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from hotline.api.client import ApiClient
    from hotline.node import NodeConfig

# Piped output (scripts, logs) gets wide tables rather than rows wrapped at 80 columns.
# HOTLINE_WIDTH sets it for output that is not a terminal (a script, a log, a test).
_PIPED_WIDTH = os.environ.get("HOTLINE_WIDTH", "200")
# emoji=False: rich would print a certificate fingerprint's ":CD:" as an emoji (💿).
out = Console(
    highlight=False,
    emoji=False,
    width=None if sys.stdout.isatty() else int(_PIPED_WIDTH) if _PIPED_WIDTH.isdigit() else 200,
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


def config_of(directory: Path) -> NodeConfig:
    from hotline.node import load_config

    return load_config(directory)


def client_of(directory: Path) -> ApiClient:
    from hotline.api.client import ApiClient

    return ApiClient(config_of(directory))


def words(directory: Path) -> Callable[[str], str]:
    """The CLI speaks the node's language (config.toml `language`); --json output stays as is."""
    from hotline.forms import translations

    return translations(language_of(directory)).gettext


@functools.cache
def language_of(directory: Path) -> str:
    """The node's language, read once per command (tables ask for it row by row)."""
    return str(config_of(directory).language)


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


def print_json(value: Any) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2))


def operator_name(by: str | None) -> str:
    """The person acting: --by, or the login name."""
    import getpass

    try:
        return by or getpass.getuser()
    except (KeyError, OSError):  # no login name (a container without a passwd entry)
        raise click.UsageError("give --by NAME: who you are") from None


def fail(message: str, code: int) -> NoReturn:
    click.echo(f"hotline: error: {message}", err=True)
    sys.exit(code)


def short_time(iso_time: str | None) -> str:
    """'2026-11-23T02:48:42.267Z' as '2026-11-23 02:48:42Z': a watch log's resolution."""
    return "" if iso_time is None else iso_time[:19].replace("T", " ") + "Z"


def shown_precedence(name: str, directory: Path) -> str:
    """FLASH, or МОЛНИЯ on a Russian node: as `show` names it."""
    from hotline.forms import precedence_name

    return precedence_name(name, language_of(directory))


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


def watch_table(_: Callable[[str], str], *columns: str) -> Table:
    """A table whose headings are in the node's language and whose key columns never wrap."""
    found = Table()
    for name in columns:
        found.add_column(_(name), min_width=_MIN_WIDTH.get(name), no_wrap=name in _MIN_WIDTH, overflow="fold")
    found.columns[0].min_width = found.columns[0].min_width or 12
    return found
