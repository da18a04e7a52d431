"""The CLI package: how its modules depend on one another and on the node, and pinning a peer
with the node stopped, through the store's interface."""

import ast
import asyncio
import json
import socket
import sqlite3
from pathlib import Path

import pytest

import hotline.cli
import hotline.node
from hotline.cli import cli, main
from hotline.node import init_node
from hotline.storage import PeerRecord, open_store

PACKAGE = Path(hotline.cli.__file__).parent
COMMAND_MODULES = sorted(p for p in PACKAGE.glob("*.py") if p.stem not in {"__init__", "__main__", "common"})


def imported(path: Path) -> list[tuple[str, list[str]]]:
    """(module, names) of every import in the file, at any depth (the CLI imports lazily)."""
    found: list[tuple[str, list[str]]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.append((node.module, [alias.name for alias in node.names]))
    return found


def test_every_command_is_registered_by_the_package() -> None:
    assert sorted(cli.commands) == [
        "ack",
        "alarm",
        "alerts",
        "backup",
        "declarations",
        "evidence",
        "forms",
        "identity",
        "inbox",
        "init",
        "keys",
        "log",
        "outbox",
        "peer",
        "recover",
        "restore",
        "run",
        "send",
        "show",
        "status",
        "user",
        "verify",
    ]


@pytest.mark.parametrize("path", COMMAND_MODULES, ids=lambda p: p.name)
def test_a_command_module_imports_only_common_from_the_package(path: Path) -> None:
    ours = {module for module, _ in imported(path) if module == "hotline.cli" or module.startswith("hotline.cli.")}
    assert ours <= {"hotline.cli.common"}, f"{path.name} imports {ours}"


def test_common_imports_nothing_from_the_package() -> None:
    assert not [m for m, _ in imported(PACKAGE / "common.py") if m.startswith("hotline.cli")]


def _stored_peers(path: Path) -> list[PeerRecord]:
    async def read() -> list[PeerRecord]:
        store = open_store(path)
        try:
            return await store.peers()
        finally:
            await store.close()

    return asyncio.run(read())


def test_peer_add_and_list_with_the_node_stopped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as idle:  # bound and never listening: the node's API is not running
        idle.bind(("127.0.0.1", 0))
        a = init_node(tmp_path / "a", "SACEUR", "127.0.0.1:1", f"127.0.0.1:{idle.getsockname()[1]}")
        card = init_node(tmp_path / "b", "GENSTAB", "127.0.0.1:2", "127.0.0.1:3").card()
        main(["peer", "add", card.line(), "--fingerprint", card.fingerprint, "--dir", str(a.directory)])
        assert "Pinned GENSTAB at 127.0.0.1:2" in capsys.readouterr().out
        assert [p.party for p in _stored_peers(a.store_path)] == ["GENSTAB"]

        main(["peer", "list", "--json", "--dir", str(a.directory)])
        [listed] = json.loads(capsys.readouterr().out)
        assert (listed["party"], listed["fingerprint"]) == ("GENSTAB", card.fingerprint)

        own = a.card()
        with pytest.raises(SystemExit) as refused:  # vetted as the node vets it: never ourselves
            main(["peer", "add", own.line(), "--fingerprint", own.fingerprint, "--dir", str(a.directory)])
        assert refused.value.code == 4
        assert "own party" in capsys.readouterr().err
    assert [p.party for p in _stored_peers(a.store_path)] == ["GENSTAB"]


def test_peer_list_reads_while_the_node_holds_the_write_lock(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a = init_node(tmp_path / "a", "SACEUR", "127.0.0.1:1", "127.0.0.1:4")
    main(["peer", "list", "--json", "--dir", str(a.directory)])  # never run: nothing pinned, nothing made
    assert json.loads(capsys.readouterr().out) == []
    assert not a.store_path.exists()

    card = init_node(tmp_path / "b", "GENSTAB", "127.0.0.1:2", "127.0.0.1:3").card()
    main(["peer", "add", card.line(), "--fingerprint", card.fingerprint, "--dir", str(a.directory)])
    capsys.readouterr()
    writer = sqlite3.connect(a.store_path, timeout=0)
    try:
        writer.execute("BEGIN IMMEDIATE")  # as the running node does for each commit
        main(["peer", "list", "--json", "--dir", str(a.directory)])
        [listed] = json.loads(capsys.readouterr().out)
        assert listed["party"] == "GENSTAB"
    finally:
        writer.rollback()
        writer.close()


def test_an_unknown_role_is_wrong_usage_naming_the_roles(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = init_node(tmp_path / "a", "SACEUR", "127.0.0.1:1", "127.0.0.1:4")
    with pytest.raises(SystemExit) as refused:
        main(["user", "add", "--name", "ivanov", "--role", "god", "--password-file", "-", "--dir", str(a.directory)])
    assert refused.value.code == 2  # wrong usage, as the README says, with the usage line
    err = capsys.readouterr().err
    assert "Usage:" in err
    assert "'god' is not one of 'operator', 'supervisor', 'commander', 'auditor', 'administrator'" in err
    assert not (a.directory / "console-users.toml").exists()


def test_forms_prints_a_valid_example_of_each_form_and_the_pre_agreed_texts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from hotline.forms import FORMS, PRE_AGREED, prepare_body

    node = init_node(tmp_path / "a", "SACEUR", "127.0.0.1:1", "127.0.0.1:2")
    newest = dict(sorted(FORMS))
    for kind, version in newest.items():
        main(["forms", kind, "--example", "--dir", str(node.directory)])
        prepare_body(kind, version, json.loads(capsys.readouterr().out))  # what `send --data` takes
    main(["forms", "pre_agreed", "--dir", str(node.directory)])
    shown = capsys.readouterr().out
    for text in PRE_AGREED.values():
        assert text.code in shown
        assert text.ru[:30] in shown, "the Russian text of each code is shown beside the English"
    with pytest.raises(SystemExit) as refused:
        main(["forms", "nothing", "--dir", str(node.directory)])
    assert refused.value.code == 2
    assert "no form 'nothing'; the forms are: ack, air_deconfliction" in capsys.readouterr().err


def test_send_takes_only_a_language_the_product_renders(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    node = init_node(tmp_path / "a", "SACEUR", "127.0.0.1:1", "127.0.0.1:2")
    with pytest.raises(SystemExit) as refused:
        main(["send", "--to", "GENSTAB", "--text", "hi", "--lang", "xx", "--dir", str(node.directory)])
    assert refused.value.code == 2
    assert "'xx' is not one of 'en', 'ru'" in capsys.readouterr().err


def test_a_fingerprint_is_printed_as_it_is_never_as_an_emoji() -> None:
    """rich reads ":CD:" as an emoji's name: a console certificate's SHA-256 printed by `init` or
    `identity` once read "25💿C7:…", and the demo's guide the same."""
    from hotline import demo
    from hotline.cli.common import out

    fingerprint = "25:CD:C7:2E:AB:00"
    for console in (out, demo.console):
        with console.capture() as captured:
            console.print(f"SHA-256 {fingerprint}")
        assert captured.get().strip() == f"SHA-256 {fingerprint}"
