"""The console's accounts: `hotline user add|list|remove|passwd|role|describe|lock|unlock`.

They work on the accounts (the node directory's file, or a party's shared database) whether or
not the node is running. A running node checks a session's account at every request: a removed
or locked account, or one whose password or role changed, is signed out at its next request,
and the audit trail says why.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import TextIO

import click
from rich.table import Table

from hotline.cli.common import config_of, dir_option, json_option, out, print_json
from hotline.console.accounts import AccountBook, AccountError, check_display, check_name, check_password
from hotline.console.roles import Role
from hotline.forms.ranks import Rank, signed_name

RANKS = [rank.value for rank in Rank]


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
@click.option("--display-name", help="the person's name as the peer reads it, e.g. 'A. Petrov' (default: --name)")
@click.option("--rank", type=click.Choice(RANKS), help="the person's rank, shown with the name in each side's language")
def user_add(
    directory: Path,
    name: str,
    role: str,
    lang: str | None,
    password_file: TextIO | None,
    display_name: str | None,
    rank: str | None,
) -> None:
    """Create a console account; the password is asked for unless --password-file gives it."""
    config = config_of(directory)  # a node directory, or a clear error
    check_name(name)
    chosen = Role(role)
    check_display(display_name)
    password = check_password(_password(password_file))
    account = AccountBook(directory, config.store).add(
        name, chosen, lang or config.language, password, dt.datetime.now(dt.UTC), display_name, rank
    )
    out.print(f"Created console account [bold]{account.name}[/] ({account.role}, {account.lang}) on {config.party}")
    out.print(f"Sign in at {config.api_url}/")


def _password(password_file: TextIO | None) -> str:
    if password_file is not None:
        return password_file.readline().rstrip("\r\n")
    if sys.stdin.isatty():
        return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))
    raise AccountError("no password: give --password-file FILE (or '-' to read it from standard input)")


_NAME = click.option("--name", required=True, help="the account")
_SIGNED_OUT = "its sessions are signed out at their next request"


@user.command("remove")
@dir_option
@_NAME
def user_remove(directory: Path, name: str) -> None:
    """Remove an account; its open sessions end at their next request."""
    config = config_of(directory)
    removed = AccountBook(directory, config.store).remove(check_name(name))
    out.print(f"Removed console account [bold]{removed.name}[/] ({removed.role}) on {config.party}: {_SIGNED_OUT}")


@user.command("passwd")
@dir_option
@_NAME
@click.option("--password-file", type=click.File("r", encoding="utf-8"), help="the new password's file ('-': stdin)")
def user_passwd(directory: Path, name: str, password_file: TextIO | None) -> None:
    """Give an account a new password; sessions opened with the old one end at their next request."""
    config = config_of(directory)
    AccountBook(directory, config.store).set_password(
        check_name(name), _password(password_file), dt.datetime.now(dt.UTC)
    )
    out.print(f"New password for [bold]{name}[/] on {config.party}: {_SIGNED_OUT}")


@user.command("role")
@dir_option
@_NAME
@click.option("--role", required=True, type=click.Choice([role.value for role in Role]), help="what it may do now")
def user_role(directory: Path, name: str, role: str) -> None:
    """Give an account another role; its sessions end at their next request (sign in again)."""
    config = config_of(directory)
    AccountBook(directory, config.store).set_role(check_name(name), Role(role), dt.datetime.now(dt.UTC))
    out.print(f"[bold]{name}[/] on {config.party} is now {role}: {_SIGNED_OUT}")


@user.command("describe")
@dir_option
@_NAME
@click.option("--display-name", help="the person's name as the peer reads it ('' clears it: the login name is used)")
@click.option("--rank", type=click.Choice([*RANKS, ""]), help="the person's rank ('' clears it)")
def user_describe(directory: Path, name: str, display_name: str | None, rank: str | None) -> None:
    """Set who an account's person is: the name and rank their acknowledgements carry."""
    if display_name is None and rank is None:
        raise click.UsageError("give --display-name, --rank, or both")
    config = config_of(directory)
    book = AccountBook(directory, config.store)
    book.describe(check_name(name), display_name, rank)
    account = book.accounts()[name]
    out.print(f"[bold]{name}[/] on {config.party} acknowledges as {signed_name(account.signs_as, account.rank, 'en')}")


@user.command("lock")
@dir_option
@_NAME
def user_lock(directory: Path, name: str) -> None:
    """Lock an account: no sign-in until `hotline user unlock`; its sessions end at their next request."""
    config = config_of(directory)
    AccountBook(directory, config.store).lock(check_name(name), dt.datetime.now(dt.UTC))
    out.print(f"Locked [bold]{name}[/] on {config.party}: {_SIGNED_OUT}; `hotline user unlock` lifts it")


@user.command("list")
@dir_option
@json_option
def user_list(directory: Path, as_json: bool) -> None:
    """List the console's accounts (never their passwords)."""
    config = config_of(directory)
    accounts = sorted(AccountBook(directory, config.store).accounts().values(), key=lambda a: a.name)
    if as_json:
        print_json([{"name": a.name, "role": a.role.value, "lang": a.lang, "created": a.created,
                     "display_name": a.display, "rank": a.rank, "locked": a.locked} for a in accounts])  # fmt: skip
        return
    if not accounts:
        out.print("No console accounts yet: create one with `hotline user add`.")
        return
    table = Table("name", "signs as", "role", "language", "created", "locked")
    for a in accounts:
        table.add_row(a.name, signed_name(a.signs_as, a.rank, "en"), a.role.value, a.lang, a.created, a.locked or "")
    out.print(table)


@user.command("unlock")
@dir_option
@click.option("--name", required=True, help="the account whose sign-in is locked")
def user_unlock(directory: Path, name: str) -> None:
    """Lift a sign-in lockout of an account (after too many wrong passwords), or a lock, at once.

    The running node reads it at the account's next sign-in, and writes it in the audit trail.
    A lockout of a source address ends by itself ([console] signin_lockout seconds) or when the
    node restarts."""
    config = config_of(directory)
    AccountBook(directory, config.store).unlock(check_name(name), dt.datetime.now(dt.UTC))
    out.print(f"Sign-in for [bold]{name}[/] on {config.party} is unlocked: the next sign-in is checked as usual")
