"""The console's accounts, for an administrator: what `hotline user ...` does, in the console.

Each change is one step on the accounts (the file, or the party's database), takes effect on
the account's open sessions at their next request (``state.ConsoleState.account_ended``), and
is written in the audit trail. An administrator cannot remove, lock or demote their own
account here: the console would lock out the one person who can put it right (the CLI can).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from hotline.console.accounts import AccountError
from hotline.console.guards import CheckedForm, permitted
from hotline.console.i18n import words
from hotline.console.rendering import page
from hotline.console.roles import Action, Role
from hotline.console.sessions import Session
from hotline.console.state import Console, ConsoleState
from hotline.forms.ranks import RANK_NAMES, signed_name

router = APIRouter()
Administrator = Annotated[Session, Depends(permitted(Action.MANAGE_ACCOUNTS, "manage the console's accounts"))]
_SELF = frozenset({"remove", "lock", "role"})  # what an administrator may not do to their own account here


@router.get("/accounts")
async def accounts_page(request: Request, state: Console, session: Administrator) -> Response:
    return await show_accounts(state, request, session, None)


async def show_accounts(
    state: ConsoleState, request: Request, session: Session, error: str | None, status: int = 200, done: str = ""
) -> Response:
    accounts = await asyncio.to_thread(state.accounts.accounts)
    rows = [
        {"account": a, "signs_as": signed_name(a.signs_as, a.rank, session.lang)}
        for a in sorted(accounts.values(), key=lambda a: a.name)
    ]
    _ = words(session.lang).gettext
    context = {
        "rows": rows,
        "roles": [role.value for role in Role],
        "ranks": [(rank.value, _(name)) for rank, name in RANK_NAMES.items()],
        "error": error,
        "done": done,
    }
    return page(state, request, session, "accounts.html", context, status=status)


@router.post("/accounts")
async def add_account(request: Request, state: Console, form: CheckedForm, session: Administrator) -> Response:
    name = str(form.get("name", "")).strip().lower()
    role, lang = str(form.get("role", "")), str(form.get("lang", "")) or state.desk.language
    display, rank = str(form.get("display", "")).strip() or None, str(form.get("rank", "")) or None
    password = str(form.get("password", ""))
    try:
        chosen = Role(role)
    except ValueError:
        return await show_accounts(state, request, session, f"{role!r} is not a role", 422)
    now = dt.datetime.now(dt.UTC)
    try:
        await state.hashing.run(state.accounts.add, name, chosen, lang, password, now, display, rank)
    except AccountError as exc:
        return await show_accounts(state, request, session, str(exc), 422)
    await state.audit(request, session, session.user, "account", detail=f"added {name} ({role})")
    return RedirectResponse("/accounts", status_code=303)


@router.post("/accounts/-/details")
async def change_details(request: Request, state: Console, form: CheckedForm, session: Administrator) -> Response:
    """The name, rank or password of the account chosen in the form (``-`` is no account's name)."""
    return await _change(state, request, session, str(form.get("account", "")), form)


@router.post("/accounts/{name}")
async def change_account(
    request: Request, name: str, state: Console, form: CheckedForm, session: Administrator
) -> Response:
    return await _change(state, request, session, name, form)


async def _change(state: ConsoleState, request: Request, session: Session, name: str, form: FormData) -> Response:
    """One change to one account, named by the button pressed (``do``)."""
    do = str(form.get("do", ""))
    _ = words(session.lang).gettext
    if name == session.user and do in _SELF:
        error = _("An administrator cannot remove, lock or demote their own account in the console.")
        return await show_accounts(state, request, session, error, 409)
    try:
        await _apply(state, name, do, form)
    except AccountError as exc:
        return await show_accounts(state, request, session, str(exc), 422)
    detail = f"{do} {name}" + (f" ({form.get('role')})" if do == "role" else "")
    await state.audit(request, session, session.user, "account", detail=detail)
    return RedirectResponse("/accounts", status_code=303)


async def _apply(state: ConsoleState, name: str, do: str, form: FormData) -> None:
    book, now = state.accounts, dt.datetime.now(dt.UTC)
    if do == "remove":
        await asyncio.to_thread(book.remove, name)
    elif do == "lock":
        await asyncio.to_thread(book.lock, name, now)
    elif do == "unlock":
        await asyncio.to_thread(book.unlock, name, now)
    elif do == "role":
        role = str(form.get("role", ""))
        if role not in {r.value for r in Role}:
            raise AccountError(f"{role!r} is not a role")
        await asyncio.to_thread(book.set_role, name, Role(role), now)
    elif do == "describe":
        # A field left blank is left as it is: choosing a new rank must not erase the name.
        display, rank = str(form.get("display", "")).strip() or None, str(form.get("rank", "")) or None
        await asyncio.to_thread(book.describe, name, display, rank)
    elif do == "password":
        await state.hashing.run(book.set_password, name, str(form.get("password", "")), now)
    else:
        raise AccountError(f"{do!r} is not a change this page makes")
