"""Console accounts: Argon2id hashes in a private file, names and passwords checked, damage reported.

Each hash takes tens of milliseconds, so one book with one account serves the tests that only read.
"""

from __future__ import annotations

import datetime as dt
import stat
import tomllib
from pathlib import Path

import pytest

from hotline.console.accounts import ACCOUNTS_FILE, Account, AccountBook, AccountError, check_name
from hotline.console.roles import Role
from hotline.errors import ConfigError

NOW = dt.datetime(2026, 11, 24, 6, 0, 5, tzinfo=dt.UTC)
PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module")
def alice(tmp_path_factory: pytest.TempPathFactory) -> tuple[AccountBook, Account]:
    book = AccountBook(tmp_path_factory.mktemp("accounts"))
    return book, book.add("alice", Role.SUPERVISOR, "en", PASSWORD, NOW)


def test_add_returns_the_account(alice: tuple[AccountBook, Account]) -> None:
    _, account = alice
    assert (account.name, account.role, account.lang) == ("alice", Role.SUPERVISOR, "en")
    assert account.created == "2026-11-24T06:00:05Z"
    assert account.password_hash.startswith("$argon2id$")


def test_verify_with_the_right_password_returns_the_account(alice: tuple[AccountBook, Account]) -> None:
    book, account = alice
    assert book.verify("alice", PASSWORD) == account


@pytest.mark.parametrize("password", ["correct horse battery stapler", "Correct horse battery staple", ""])
def test_verify_with_a_wrong_password_returns_none(alice: tuple[AccountBook, Account], password: str) -> None:
    book, _ = alice
    assert book.verify("alice", password) is None


def test_verify_of_an_unknown_name_returns_none(alice: tuple[AccountBook, Account]) -> None:
    book, _ = alice
    assert book.verify("mallory", PASSWORD) is None


def test_the_file_is_private_and_holds_only_the_hash(alice: tuple[AccountBook, Account]) -> None:
    book, account = alice
    assert book.path.name == ACCOUNTS_FILE
    assert stat.S_IMODE(book.path.stat().st_mode) == 0o600
    text = book.path.read_text(encoding="utf-8")
    assert PASSWORD not in text
    stored = tomllib.loads(text)["accounts"]["alice"]
    assert stored == {
        "role": "supervisor", "lang": "en", "password": account.password_hash, "created": account.created,
        "changed": account.changed,  # stamped at creation: a namesake made later is another account
    }  # fmt: skip
    assert stored["password"].startswith("$argon2id$")
    assert not list(book.path.parent.glob("*.tmp"))  # the temporary file was renamed into place


def test_the_file_is_read_back_by_another_book(alice: tuple[AccountBook, Account]) -> None:
    book, account = alice
    assert AccountBook(book.path.parent).accounts() == {"alice": account}


def test_a_duplicate_name_is_refused_and_the_first_account_kept(alice: tuple[AccountBook, Account]) -> None:
    book, account = alice
    with pytest.raises(AccountError, match="already an account 'alice'"):
        book.add("alice", Role.OPERATOR, "ru", "another password", NOW)
    assert book.accounts() == {"alice": account}


@pytest.mark.parametrize(
    "name",
    ["Alice", "ALICE", "a", "1alice", "_alice", "al ice", " alice", "alice ", "", "a" * 33, "alicé", "al/ice"],
)
def test_bad_names_are_refused(tmp_path: Path, name: str) -> None:
    book = AccountBook(tmp_path)
    with pytest.raises(AccountError, match="not a valid account name"):
        book.add(name, Role.OPERATOR, "en", PASSWORD, NOW)
    assert not book.path.exists()


@pytest.mark.parametrize("name", ["al", "a" * 32, "j.smith", "watch-3", "op_1"])
def test_good_names_pass_the_check(name: str) -> None:
    assert check_name(name) == name


@pytest.mark.parametrize("password", ["", "short", "123456789"])
def test_a_short_password_is_refused(tmp_path: Path, password: str) -> None:
    book = AccountBook(tmp_path)
    with pytest.raises(AccountError, match="too short"):
        book.add("bob", Role.OPERATOR, "en", password, NOW)
    assert not book.path.exists()


def test_a_very_long_password_is_refused(tmp_path: Path) -> None:
    with pytest.raises(AccountError, match="too long"):
        AccountBook(tmp_path).add("bob", Role.OPERATOR, "en", "x" * 1025, NOW)


@pytest.mark.parametrize("lang", ["de", "EN", "", "english"])
def test_a_bad_language_is_refused(tmp_path: Path, lang: str) -> None:
    book = AccountBook(tmp_path)
    with pytest.raises(AccountError, match="language"):
        book.add("bob", Role.OPERATOR, lang, PASSWORD, NOW)
    assert not book.path.exists()


def test_set_language_persists_and_keeps_the_rest(tmp_path: Path) -> None:
    book = AccountBook(tmp_path)
    before = book.add(
        "boris",
        Role.COMMANDER,
        "en",
        PASSWORD,
        dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=3))),
    )
    assert before.created == "2026-11-24T06:00:00Z"  # stored in UTC whatever the clock's zone
    book.set_language("boris", "ru")
    after = AccountBook(tmp_path).accounts()["boris"]
    assert after == Account("boris", Role.COMMANDER, "ru", before.password_hash, before.created, changed=before.changed)
    assert stat.S_IMODE(book.path.stat().st_mode) == 0o600
    with pytest.raises(AccountError, match="language"):
        book.set_language("boris", "fr")
    with pytest.raises(AccountError, match="no account 'nobody'"):
        book.set_language("nobody", "ru")
    assert AccountBook(tmp_path).accounts()["boris"].lang == "ru"


def test_a_missing_file_means_no_accounts(tmp_path: Path) -> None:
    assert AccountBook(tmp_path).accounts() == {}


DAMAGED = [
    pytest.param(b"\xff\xfe\x00\x81 garbage \x00", id="not-utf8"),
    pytest.param(b"[[[ this is not toml", id="not-toml"),
    pytest.param(
        b'[accounts.bob]\nlang = "en"\npassword = "$argon2id$x"\ncreated = "2026-11-24T06:00:00Z"\n', id="no-role"
    ),
    pytest.param(
        b'[accounts.bob]\nrole = "king"\nlang = "en"\npassword = "$argon2id$x"\ncreated = "2026-11-24T06:00:00Z"\n',
        id="unknown-role",
    ),
    pytest.param(b'[accounts]\nbob = "operator"\n', id="entry-not-a-table"),
]


@pytest.mark.parametrize("content", DAMAGED)
def test_a_damaged_file_is_a_config_error_naming_the_file(tmp_path: Path, content: bytes) -> None:
    book = AccountBook(tmp_path)
    book.path.write_bytes(content)
    with pytest.raises(ConfigError, match="damaged") as caught:
        book.accounts()
    assert str(book.path) in str(caught.value)


def test_adding_to_a_damaged_file_leaves_it_as_it_was(tmp_path: Path) -> None:
    book = AccountBook(tmp_path)
    content = b'[accounts.bob]\nlang = "en"\npassword = "$argon2id$x"\n'
    book.path.write_bytes(content)
    with pytest.raises(ConfigError, match="damaged"):
        book.add("carol", Role.OPERATOR, "en", PASSWORD, NOW)
    assert book.path.read_bytes() == content


@pytest.mark.parametrize("content", DAMAGED)
def test_sign_in_against_a_damaged_file_is_a_config_error(tmp_path: Path, content: bytes) -> None:
    book = AccountBook(tmp_path)
    book.path.write_bytes(content)
    with pytest.raises(ConfigError, match="damaged"):
        book.verify("bob", PASSWORD)


# A hand-edited file whose "accounts" is not a table is reported as damaged, with its path.
@pytest.mark.parametrize("content", [b"accounts = 5\n", b'accounts = ["bob"]\n'])
def test_accounts_that_are_not_a_table_are_a_config_error(tmp_path: Path, content: bytes) -> None:
    book = AccountBook(tmp_path)
    book.path.write_bytes(content)
    with pytest.raises(ConfigError, match="damaged") as caught:
        book.accounts()
    assert str(book.path) in str(caught.value)


# An entry's values are checked when the file is read: a password hash that is not text is a
# damaged file, not a failure inside argon2 at sign-in.
def test_a_password_that_is_not_text_is_a_config_error(tmp_path: Path) -> None:
    book = AccountBook(tmp_path)
    book.path.write_text(
        '[accounts.bob]\nrole = "operator"\nlang = "en"\npassword = 5\ncreated = "2026-11-24T06:00:00Z"\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match="damaged"):
        book.verify("bob", PASSWORD)


def test_account_errors_are_config_errors() -> None:
    assert issubclass(AccountError, ConfigError)


def test_an_account_is_locked_unlocked_given_a_password_and_a_role_and_removed(tmp_path: Path) -> None:
    book = AccountBook(tmp_path)
    book.add("bob", Role.OPERATOR, "ru", PASSWORD, NOW)
    later = NOW + dt.timedelta(minutes=5)

    book.lock("bob", later)
    assert book.accounts()["bob"].locked == "2026-11-24T06:05:05.000Z"
    assert book.verify("bob", PASSWORD) is None, "a locked account does not sign in"
    book.unlock("bob", later)
    assert book.accounts()["bob"].locked is None
    assert book.verify("bob", PASSWORD) is not None

    book.set_password("bob", "a new password here", later)
    assert book.verify("bob", PASSWORD) is None
    assert book.verify("bob", "a new password here") is not None
    with pytest.raises(AccountError, match="too short"):
        book.set_password("bob", "short", later)

    stamp = book.accounts()["bob"].changed
    book.set_role("bob", Role.AUDITOR, later + dt.timedelta(seconds=1))
    assert book.accounts()["bob"].role is Role.AUDITOR
    assert book.accounts()["bob"].changed != stamp, "sessions opened before the change are ended"

    assert book.remove("bob").name == "bob"
    assert "bob" not in book.accounts()
    for change in (lambda: book.remove("bob"), lambda: book.lock("bob", later)):
        with pytest.raises(AccountError, match="there is no account 'bob'"):
            change()


def test_an_account_made_again_under_the_same_name_is_another_account(tmp_path: Path) -> None:
    book = AccountBook(tmp_path)
    first = book.add("ivan", Role.OPERATOR, "ru", PASSWORD, dt.datetime(2026, 11, 24, 6, 0, tzinfo=dt.UTC))
    book.remove("ivan")
    again = book.add("ivan", Role.OPERATOR, "ru", PASSWORD, dt.datetime(2026, 11, 24, 6, 1, tzinfo=dt.UTC))
    assert first.changed != again.changed  # so a session of the first is ended, not inherited
