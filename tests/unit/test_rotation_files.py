"""A key rotation's files (``node/rotation.py``): a stop at any point of its end leaves a node
that starts, with its new keys in place."""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path

import pytest

from hotline.crypto import generate_signing_key, generate_tls_identity, load_signing_key
from hotline.crypto.rotation import RotationStatement, commitment
from hotline.node import init_node, load_config
from hotline.node.card import b64
from hotline.node.config import write_settings
from hotline.node.rotation import ROTATING, _write_folder, settle_leftovers


def rotating(directory: Path) -> RotationStatement:
    """``rotating/`` as ``keys rotate`` writes it."""
    new, upcoming = load_signing_key((directory / "next-signing.key").read_bytes()), generate_signing_key()
    tls = generate_tls_identity("SACEUR", dt.datetime(2026, 12, 7, tzinfo=dt.UTC))
    old = load_signing_key((directory / "signing.key").read_bytes())
    statement = RotationStatement("SACEUR", "log", old.verify_key.raw, new.verify_key.raw, tls.cert_der,
                                  commitment(upcoming.verify_key.raw), 0, 1)  # fmt: skip
    _write_folder(directory / ROTATING, new, tls.key_pem, tls.cert_pem, statement, statement.sign(new), 1, upcoming)
    return statement


@pytest.mark.parametrize("moved", [(), ("tls.crt",), ("tls.crt", "tls.key"), ("tls.crt", "tls.key", "signing.key")])
def test_a_stop_while_the_files_move_is_finished_at_the_next_start(tmp_path: Path, moved: tuple[str, ...]) -> None:
    directory = init_node(tmp_path / "n", "SACEUR", "127.0.0.1:7101", "127.0.0.1:7102").directory
    statement = rotating(directory)
    # The end began: config.toml commits to the key after the new one; then some files moved.
    raw = tomllib.loads((directory / "config.toml").read_text())
    raw["keys"] = {"log": "0" * 32, "next": b64(statement.next_commitment)}
    write_settings(directory, raw)
    for name in moved:
        (directory / ROTATING / name).replace(directory / name)
    assert settle_leftovers(directory) is True
    assert not (directory / ROTATING).exists()
    assert load_signing_key((directory / "signing.key").read_bytes()).verify_key.raw == statement.new_key
    assert load_config(directory).tls_cert_der() == statement.tls_cert
    upcoming = load_signing_key((directory / "next-signing.key").read_bytes()).verify_key.raw
    assert commitment(upcoming) == statement.next_commitment


def test_a_stop_before_the_end_leaves_the_rotation_to_resume(tmp_path: Path) -> None:
    directory = init_node(tmp_path / "n", "SACEUR", "127.0.0.1:7101", "127.0.0.1:7102").directory
    rotating(directory)
    assert settle_leftovers(directory) is False
    assert (directory / ROTATING / "signing.key").exists()


def test_a_node_made_before_version_2_cards_commits_to_a_next_key_once(tmp_path: Path) -> None:
    from hotline.errors import ConfigError
    from hotline.node import commit_next_key

    directory = init_node(tmp_path / "n", "SACEUR", "127.0.0.1:7101", "127.0.0.1:7102").directory
    raw = tomllib.loads((directory / "config.toml").read_text())
    del raw["keys"]  # as a node of an earlier release has it
    write_settings(directory, raw)
    (directory / "next-signing.key").unlink()
    assert load_config(directory).card().line().startswith("hotline:1:")
    path = commit_next_key(directory)
    card = load_config(directory).card()
    assert card.line().startswith("hotline:2:")
    assert card.next_key == commitment(load_signing_key(path.read_bytes()).verify_key.raw)
    with pytest.raises(ConfigError, match="committed to a next key already"):
        commit_next_key(directory)
