"""The bounds of #14 are named in config.toml: read, checked, and refused with a clear message."""

from __future__ import annotations

from pathlib import Path

import pytest

from hotline.errors import ConfigError
from hotline.node import init_node, load_config
from hotline.node.config import Bounds
from hotline.node.handles import needed
from hotline.testing.process import configure


def test_defaults_hold_without_a_bounds_table_and_each_bound_can_be_set(tmp_path: Path) -> None:
    config = init_node(tmp_path / "a", "SACEUR", "127.0.0.1:7101", "127.0.0.1:7102")
    assert config.bounds == Bounds()
    configure(config.directory, {"bounds": {"peer_handshakes": 10, "api_header_timeout": 2, "page_rows": 20}})
    bounds = load_config(config.directory).bounds
    assert (bounds.peer_handshakes, bounds.api_header_timeout, bounds.page_rows) == (10, 2.0, 20)
    assert isinstance(bounds.api_header_timeout, float)


@pytest.mark.parametrize(
    ("table", "refusal"),
    [
        ({"peer_handshake": 3}, r"\[bounds\] has an unknown setting 'peer_handshake'"),
        ({"peer_handshakes": 0}, r"\[bounds\] peer_handshakes must be a whole number, more than 0"),
        ({"peer_handshakes": 2.5}, r"\[bounds\] peer_handshakes must be a whole number"),
        ({"api_body_timeout": "30"}, r"\[bounds\] api_body_timeout must be a number of seconds"),
        ({"api_body_timeout": True}, r"\[bounds\] api_body_timeout must be a number of seconds"),
        ({"peer_handshakes": 4, "peer_handshakes_per_source": 8}, "must not be more than peer_handshakes"),
        ({"event_streams": 2}, "event_streams_per_session must not be more than event_streams"),
        ({"console_handshakes": 8}, "console_handshakes_per_source must not be more than console_handshakes"),
    ],
)
def test_a_wrong_bound_is_refused_saying_which_and_why(tmp_path: Path, table: dict[str, object], refusal: str) -> None:
    config = init_node(tmp_path / "a", "SACEUR", "127.0.0.1:7101", "127.0.0.1:7102")
    configure(config.directory, {"bounds": table})
    with pytest.raises(ConfigError, match=refusal):
        load_config(config.directory)


@pytest.mark.parametrize(
    ("table", "refusal"),
    [
        ({"hosts": "hotline.example"}, r"\[console\] hosts must list host names"),
        ({"hosts": ["http://hotline.example"]}, r"\[console\] hosts must list host names"),
        ({"hosts": ["*.example"]}, r"\[console\] hosts must list host names"),
        ({"signin_lockout_after": 2.5}, r"\[console\] signin_lockout_after must be a whole number"),
        ({"signin_lockout_after": 3}, "signin_lockout_after must be more than signin_free_failures"),
        ({"signin_lockout": -1}, r"\[console\] signin_lockout must be a number of seconds, more than 0"),
    ],
)
def test_wrong_console_sign_in_and_host_settings_are_refused(
    tmp_path: Path, table: dict[str, object], refusal: str
) -> None:
    config = init_node(tmp_path / "a", "SACEUR", "127.0.0.1:7101", "127.0.0.1:7102")
    configure(config.directory, {"console": table})
    with pytest.raises(ConfigError, match=refusal):
        load_config(config.directory)


def test_console_hosts_and_sign_in_settings_are_read(tmp_path: Path) -> None:
    config = init_node(tmp_path / "a", "SACEUR", "127.0.0.1:7101", "127.0.0.1:7102")
    configure(config.directory, {"console": {"hosts": ["Watch.Example", "[::1]"], "signin_lockout_after": 5}})
    console = load_config(config.directory).console
    assert console.hosts == ("watch.example", "[::1]")
    assert (console.signin_free_failures, console.signin_lockout_after) == (3, 5)


def test_the_consoles_handshakes_count_among_the_handles_needed_only_with_its_listener() -> None:
    bounds = Bounds()
    assert needed(bounds, 1, console=True) - needed(bounds, 1) == bounds.console_handshakes


def test_init_makes_the_next_key_and_the_card_commits_to_it(tmp_path: Path) -> None:
    import stat

    from hotline.crypto import load_signing_key
    from hotline.crypto.rotation import commitment

    config = init_node(tmp_path / "a", "SACEUR", "127.0.0.1:7101", "127.0.0.1:7102")
    upcoming = config.directory / "next-signing.key"
    assert stat.S_IMODE(upcoming.stat().st_mode) == 0o600
    card = config.card()
    assert card.next_key == commitment(load_signing_key(upcoming.read_bytes()).verify_key.raw)
    assert card.line().startswith("hotline:2:SACEUR:")


@pytest.mark.parametrize(
    ("table", "refusal"),
    [
        ({"next": "short"}, r"\[keys\] next must be the next signing key's commitment"),
        ({"log": "XYZ"}, r"\[keys\] log must be the log's tag"),
        ({"nxt": "a"}, r"\[keys\] has an unknown setting 'nxt'"),
    ],
)
def test_a_wrong_keys_table_is_refused(tmp_path: Path, table: dict[str, object], refusal: str) -> None:
    config = init_node(tmp_path / "a", "SACEUR", "127.0.0.1:7101", "127.0.0.1:7102")
    configure(config.directory, {"keys": table})
    with pytest.raises(ConfigError, match=refusal):
        load_config(config.directory)
