"""`hotline run`: the node in the foreground.

The only command that reaches past the node package's face (``hotline.node``): it starts the
runner and configures the node's logs.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from hotline.cli.common import config_of, dir_option, fail


@click.command()
@dir_option
@click.option("--log-json", is_flag=True, help="log as JSON lines instead of key=value")
@click.option("--log-level", default="INFO", type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"]))
def run(directory: Path, log_json: bool, log_level: str) -> None:
    """Run the node in the foreground; SIGTERM or Ctrl-C stops it cleanly."""
    from hotline.node import configure_logging
    from hotline.server import serve

    configure_logging(log_level, log_json)
    failure = asyncio.run(serve(config_of(directory)))
    if failure is not None:  # a supervisor must see it: restart, and the store recovers
        fail(f"the node stopped after an internal failure: {failure}", 1)
