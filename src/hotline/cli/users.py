"""The console's accounts: `hotline user add`, `hotline user list` and `hotline user unlock`.

They work on the node directory's accounts file whether or not the node is running; a running
node reads the file at each sign-in, so a new account can sign in at once.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import TextIO

import click
from rich.table import Table

from hotline.cli.common import config_of, dir_option, json_option, out, print_json
from hotline.console.accounts import AccountBook, AccountError, check_name, check_password
from hotline.console.roles import Role


@click.group()
def user() -> None:
    """Accounts of the web console."""


@user.command("add")
@dir_option
@click.option("--name", required=True, help="the account name, e.g. ivanov (lower case)")
@click.option("--role", required=True, type=click.Choice([role.value for role in Role]), help="what the account may do")
@click.option("--lang", type=click.Choice(["en", "ru"]), default=None, help="the console's language for this account")
@click.option(
    "--password-file",
    type=click.File("r", encoding="utf-8"),
    help="read the password from the first line of this file ('-' for standard input)",
)
def user_add(directory: Path, name: str, role: str, lang: str | None, password_file: TextIO | None) -> None:
    """Create a console account; the password is asked for unless --password-file gives it."""
    config = config_of(directory)  # a node directory, or a clear error
    check_name(name)
    chosen = Role(role)
    if password_file is not None:
        password = password_file.readline().rstrip("\r\n")
    elif sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        raise AccountError("no password: give --password-file FILE (or '-' to read it from standard input)")
    check_password(password)
    account = AccountBook(directory, config.store).add(
        name, chosen, lang or config.language, password, dt.datetime.now(dt.UTC)
    )
    out.print(f"Created console account [bold]{account.name}[/] ({account.role}, {account.lang}) on {config.party}")
    out.print(f"Sign in at {config.api_url}/")


@user.command("list")
@dir_option
@json_option
def user_list(directory: Path, as_json: bool) -> None:
    """List the console's accounts (never their passwords)."""
    config = config_of(directory)
    accounts = sorted(AccountBook(directory, config.store).accounts().values(), key=lambda a: a.name)
    if as_json:
        print_json([{"name": a.name, "role": a.role.value, "lang": a.lang, "created": a.created} for a in accounts])
        return
    if not accounts:
        out.print("No console accounts yet: create one with `hotline user add`.")
        return
    table = Table("name", "role", "language", "created")
    for a in accounts:
        table.add_row(a.name, a.role.value, a.lang, a.created)
    out.print(table)


@user.command("unlock")
@dir_option
@click.option("--name", required=True, help="the account whose sign-in is locked")
def user_unlock(directory: Path, name: str) -> None:
    """Lift a sign-in lockout of an account (after too many wrong passwords) at once.

    The running node reads it at the account's next sign-in, and writes it in the audit trail.
    A lockout of a source address ends by itself ([console] signin_lockout seconds) or when the
    node restarts."""
    config = config_of(directory)
    AccountBook(directory, config.store).unlock(check_name(name), dt.datetime.now(dt.UTC))
    out.print(f"Sign-in for [bold]{name}[/] on {config.party} is unlocked: the next sign-in is checked as usual")
