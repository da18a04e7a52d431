"""The console's accounts: name, role, language and an Argon2id hash of the password.

Kept in ``DIR/console-users.toml`` (mode 0600), beside the node's keys and apart from its store,
so that ``hotline user add`` works whether or not the node is running: the node reads the file
at each sign-in. Every change takes a lock, rewrites the file whole, fsyncs it and renames it
into place, so a crash leaves the old file or the new one, never half of each.

A party whose nodes share a PostgreSQL store keeps the same document in that database instead
(``store``: its address), so that an account made on one node signs in on every one; a change
is one locked transaction there.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import fcntl
import os
import re
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomli_w
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from hotline import storage
from hotline.console.roles import Role
from hotline.errors import ConfigError
from hotline.forms.ranks import Rank

ACCOUNTS_FILE = "console-users.toml"
NAME_PATTERN = re.compile(r"[a-z][a-z0-9._-]{1,31}")
MIN_PASSWORD = 10
MAX_PASSWORD = 1024  # hashing a megabyte of "password" is work an attacker would choose for us
LANGUAGES = ("en", "ru")

# RFC 9106's second recommended option (64 MiB, 3 passes), which is argon2-cffi's default:
# about 50 ms a sign-in on this machine, run off the event loop.
_hasher = PasswordHasher()


@dataclass(frozen=True)
class Account:
    name: str
    role: Role
    lang: str
    password_hash: str
    created: str
    # When `hotline user unlock` last lifted a sign-in lockout of this account (ISO 8601, UTC):
    # the running node forgets the failures before it at the account's next sign-in.
    unlocked: str | None = None
    # When an administrator locked the account (`hotline user lock`): no sign-in until unlocked.
    locked: str | None = None
    # When its password or role last changed: a session opened before is ended at its next request.
    changed: str | None = None
    # Who the person is, as an acknowledgement names them to the peer ("A. Petrov") and their
    # rank (a code of ``hotline.forms.ranks.Rank``): not the account's login name.
    display: str | None = None
    rank: str | None = None

    @property
    def signs_as(self) -> str:
        return self.display or self.name


class AccountError(ConfigError):
    """An account that cannot be created or changed as asked."""


def check_name(name: str) -> str:
    if not NAME_PATTERN.fullmatch(name):
        raise AccountError(
            f"{name!r} is not a valid account name: 2-32 characters, lower-case letters, digits, '.', '_' "
            "or '-', starting with a letter"
        )
    return name


def check_display(display: str | None) -> str | None:
    """A person's name as the peer reads it: what the acknowledgement form accepts."""
    if display is None:
        return None
    display = display.strip()
    if not 1 <= len(display) <= 64 or not display.isprintable():
        raise AccountError(f"{display!r} is not a display name: 1-64 printable characters, such as 'A. Petrov'")
    return display


def check_rank(rank: str | None) -> str | None:
    if rank is None:
        return None
    if rank not in {r.value for r in Rank}:
        raise AccountError(f"{rank!r} is not a rank; the ranks are: {', '.join(r.value for r in Rank)}")
    return rank


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"the password is too short: at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise AccountError(f"the password is too long: at most {MAX_PASSWORD} characters")
    return password


class AccountBook:
    def __init__(self, directory: Path, store: str = "") -> None:
        self.path = directory / ACCOUNTS_FILE
        self._lock_path = directory / (ACCOUNTS_FILE + ".lock")
        self._store = store  # a party's shared PostgreSQL store: the accounts are kept there
        self._dummy_hash = ""

    def stamp(self) -> tuple[int, int, int] | None:
        """What changes whenever the accounts file is written (it is replaced whole); None for
        a shared database. (0, 0, 0) while there is no file."""
        if self._store:
            return None
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return (0, 0, 0)
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def accounts(self) -> dict[str, Account]:
        if self._store:
            return self._parse(storage.read_document(self._store, ACCOUNTS_FILE))
        try:
            return self._parse(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except UnicodeDecodeError as exc:
            raise ConfigError(f"{self.path} is damaged: {exc}") from None

    def _parse(self, text: str | None) -> dict[str, Account]:
        if text is None:
            return {}
        try:
            raw = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{self.path} is damaged: {exc}") from None
        table = raw.get("accounts", {})
        if not isinstance(table, dict):
            raise ConfigError(f"{self.path} is damaged: [accounts] is not a table")
        return {name: self._entry(name, entry) for name, entry in table.items()}

    def _entry(self, name: str, entry: Any) -> Account:
        fields = ("role", "lang", "password", "created")
        if not isinstance(entry, dict) or not all(isinstance(entry.get(f), str) for f in fields):
            raise ConfigError(f"{self.path} is damaged: account {name!r} needs {', '.join(fields)} as text")
        try:
            role = Role(entry["role"])
        except ValueError:
            raise ConfigError(f"{self.path} is damaged: account {name!r} has an unknown role") from None
        if entry["lang"] not in LANGUAGES:
            raise ConfigError(f"{self.path} is damaged: account {name!r} has the language {entry['lang']!r}")
        stamps = {key: entry.get(key) for key in ("unlocked", "locked", "changed", "display", "rank")}
        for key, value in stamps.items():
            if value is not None and not isinstance(value, str):
                raise ConfigError(f"{self.path} is damaged: account {name!r} has a {key!r} that is not text")
        return Account(name, role, entry["lang"], entry["password"], entry["created"], **stamps)

    def add(
        self,
        name: str,
        role: Role,
        lang: str,
        password: str,
        now: dt.datetime,
        display: str | None = None,
        rank: str | None = None,
    ) -> Account:
        check_name(name)
        check_password(password)
        if lang not in LANGUAGES:
            raise AccountError(f"language {lang!r} is not one of {', '.join(LANGUAGES)}")
        display, rank = check_display(display), check_rank(rank)
        # Stamped at creation: an account removed and made again under the same name does not
        # inherit the sessions of the one before (they were opened under another stamp).
        stamp = _iso(now, "milliseconds")
        account = Account(
            name, role, lang, _hasher.hash(password), _iso(now, "seconds"), changed=stamp, display=display, rank=rank
        )

        def added(accounts: dict[str, Account]) -> None:
            if name in accounts:
                raise AccountError(f"there is already an account {name!r} ({accounts[name].role})")
            accounts[name] = account

        self._change(added)
        return account

    def set_language(self, name: str, lang: str) -> None:
        if lang not in LANGUAGES:
            raise AccountError(f"language {lang!r} is not one of {', '.join(LANGUAGES)}")
        self._change(lambda accounts: _replace(accounts, name, lang=lang))

    def unlock(self, name: str, now: dt.datetime) -> None:
        """Lift a sign-in lockout of the account, and an administrator's lock: the node reads
        this at the next sign-in."""
        self._change(lambda accounts: _replace(accounts, name, unlocked=_iso(now, "milliseconds"), locked=None))

    def lock(self, name: str, now: dt.datetime) -> None:
        """No sign-in until unlocked; a session open now ends at its next request."""
        stamp = _iso(now, "milliseconds")
        self._change(lambda accounts: _replace(accounts, name, locked=stamp, changed=stamp))

    def remove(self, name: str) -> Account:
        """Remove the account; a session open now ends at its next request."""
        removed: list[Account] = []

        def gone(accounts: dict[str, Account]) -> None:
            if name not in accounts:
                raise AccountError(f"there is no account {name!r}")
            removed.append(accounts.pop(name))

        self._change(gone)
        return removed[0]

    def set_password(self, name: str, password: str, now: dt.datetime) -> None:
        """A new password; a session opened with the old one ends at its next request."""
        hashed = _hasher.hash(check_password(password))
        stamp = _iso(now, "milliseconds")
        self._change(lambda accounts: _replace(accounts, name, password_hash=hashed, changed=stamp))

    def describe(self, name: str, display: str | None, rank: str | None) -> None:
        """Who the account's person is: the name and rank an acknowledgement carries ("" clears
        one). Takes effect at the next acknowledgement; sessions stay signed in."""
        changes: dict[str, str | None] = {}
        if display is not None:
            changes["display"] = check_display(display) if display else None
        if rank is not None:
            changes["rank"] = check_rank(rank) if rank else None
        self._change(lambda accounts: _replace(accounts, name, **changes))

    def set_role(self, name: str, role: Role, now: dt.datetime) -> None:
        """Another role; a session opened under the old one ends at its next request."""
        stamp = _iso(now, "milliseconds")
        self._change(lambda accounts: _replace(accounts, name, role=role, changed=stamp))

    def verify(self, name: str, password: str) -> Account | None:
        """The account, if the password is its own. Slow on purpose (Argon2id), and as slow for
        a name that does not exist, so that timing does not tell which names do."""
        account = self.accounts().get(name)
        if account is not None and account.locked is not None:
            account = None  # locked: refused as a wrong password is, at the same cost
        if not self._dummy_hash:
            self._dummy_hash = _hasher.hash("not a password of anyone's")
        try:
            _hasher.verify(account.password_hash if account else self._dummy_hash, password[:MAX_PASSWORD])
        except (VerificationError, InvalidHashError):
            return None
        return account

    def _change(self, change: Callable[[dict[str, Account]], None]) -> None:
        """Read the accounts, change them, write them back: one step that no other change of
        them interleaves with (a file lock here, a locked transaction in a shared store)."""
        if self._store:

            def changed(text: str | None) -> str:
                accounts = self._parse(text)
                change(accounts)
                return _document(accounts)

            storage.change_document(self._store, ACCOUNTS_FILE, changed)
            return
        with self._locked():
            accounts = self.accounts()
            change(accounts)
            self._write(accounts)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        fd = os.open(self._lock_path, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def _write(self, accounts: dict[str, Account]) -> None:
        temporary = self.path.with_suffix(".tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(_document(accounts))
            f.flush()
            os.fsync(f.fileno())
        temporary.replace(self.path)
        directory = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)  # the rename itself survives a power loss
        finally:
            os.close(directory)


def _document(accounts: dict[str, Account]) -> str:
    document = {"accounts": {a.name: _entry_of(a) for a in sorted(accounts.values(), key=lambda a: a.name)}}
    text = "# hotline console accounts: `hotline user add` writes this file. Argon2id hashes only.\n"
    return text + tomli_w.dumps(document)


def _replace(accounts: dict[str, Account], name: str, **changes: str | Role | None) -> None:
    if name not in accounts:
        raise AccountError(f"there is no account {name!r}")
    accounts[name] = dataclasses.replace(accounts[name], **changes)  # type: ignore[arg-type]


def _entry_of(account: Account) -> dict[str, str]:
    entry = {"role": account.role.value, "lang": account.lang, "password": account.password_hash}
    entry["created"] = account.created
    for key in ("unlocked", "locked", "changed", "display", "rank"):
        value = getattr(account, key)
        if value is not None:
            entry[key] = value
    return entry


def _iso(moment: dt.datetime, timespec: str) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec=timespec).replace("+00:00", "Z")


def unlocked_ms(account: Account) -> int | None:
    """When the account's lockout was last lifted, in Unix milliseconds."""
    if account.unlocked is None:
        return None
    try:
        return int(dt.datetime.fromisoformat(account.unlocked).timestamp() * 1000)
    except ValueError:
        return None
