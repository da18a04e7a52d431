"""The command line. This is the one place where errors become messages and exit codes.

Exit codes: 0 done; 1 refused by the node (invalid message, unknown party...); 2 wrong usage
(click's own); 3 configuration; 4 pairing; 5 the node could not be reached.

Each command family lives in its own module, which imports only ``common``; the root group is
built here, and every command is registered below by name: importing a module registers nothing.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import click

from hotline.cli import alarms, backup, declarations, keys, messages, node, peers, run, transcript, users
from hotline.cli.common import fail
from hotline.errors import ApiError, ConfigError, HotlineError, PairingError, StoreError

__all__ = ["EXIT_CODES", "cli", "main"]

EXIT_CODES: list[tuple[type[HotlineError], int]] = [
    (ConfigError, 3),
    (StoreError, 3),
    (PairingError, 4),
    (ApiError, 1),
]


@click.group()
@click.version_option(package_name="hotline")
def cli() -> None:
    """hotline: a direct, secure, always-on channel between armed forces."""


for _command in (
    node.init,
    node.identity,
    node.status,
    run.run,
    peers.peer,
    messages.send,
    messages.show,
    messages.ack,
    messages.outbox,
    messages.inbox,
    messages.forms,
    alarms.alerts,
    alarms.alarm,
    transcript.log,
    transcript.evidence,
    declarations.declarations,
    transcript.verify,
    users.user,
    backup.backup,
    backup.restore,
    backup.recover,
    keys.keys,
):
    cli.add_command(_command)


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; every deliberate error becomes one line on stderr and an exit code."""
    run_cli: Callable[..., Any] = cli.main
    try:
        run_cli(args=argv, prog_name="hotline", standalone_mode=False)
    except click.exceptions.Abort:
        fail("aborted", 130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except HotlineError as exc:
        code = next((c for kind, c in EXIT_CODES if isinstance(exc, kind)), 1)
        if isinstance(exc, ApiError) and exc.status is None:
            code = 5
        fail(str(exc), code)
    except KeyboardInterrupt:
        fail("interrupted", 130)
