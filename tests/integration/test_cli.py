"""The command line as an operator uses it: real processes, real node directories."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.harness import NodeProcess, free_port, wait_for


def hotline(*args: str, directory: Path | None = None) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "hotline", *args]
    if directory is not None:
        argv += ["--dir", str(directory)]
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)


def test_init_identity_and_pairing(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    for d, party in ((a, "SACEUR"), (b, "GENSTAB")):
        result = hotline(
            "init",
            "--party",
            party,
            "--listen",
            f"127.0.0.1:{free_port()}",
            "--api",
            f"127.0.0.1:{free_port()}",
            directory=d,
        )
        assert result.returncode == 0, result.stderr
        assert "Fingerprint:" in result.stdout
    for name in ("signing.key", "tls.key", "api.token"):
        assert (a / name).stat().st_mode & 0o777 == 0o600
    card_b = json.loads(hotline("identity", "--json", directory=b).stdout)
    lines = hotline("identity", directory=b).stdout.splitlines()
    assert lines == [card_b["card"], f"fingerprint: {card_b['fingerprint']}"]

    added = hotline("peer", "add", card_b["card"], "--fingerprint", card_b["fingerprint"], directory=a)
    assert added.returncode == 0, added.stderr
    [listed] = json.loads(hotline("peer", "list", "--json", directory=a).stdout)
    assert listed["party"] == "GENSTAB"
    assert listed["fingerprint"] == card_b["fingerprint"]
    assert listed["tls_pin"].startswith("sha256/")


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["send", "--to", "GENSTAB"], 2, "give either --text, or --form with --data"),
        (["send", "--to", "GENSTAB", "--text", "x", "--form", "free_text"], 2, "give either --text, or --form"),
        (["send", "--to", "GENSTAB", "--form", "missile_launch"], 2, "needs --data"),
        (["send", "--to", "GENSTAB", "--form", "missile_launch", "--data", "{nope"], 2, "not JSON"),
        (["send", "--to", "GENSTAB", "--form", "missile_launch", "--data", "[1, 2]"], 2, "must be a JSON object"),
        (["send", "--to", "GENSTAB", "--form", "missile_launch", "--data", "@/nonexistent.json"], 2, "cannot read"),
        (["show", "SACEUR-000001", "--lang", "fr"], 2, "'fr' is not one of"),
        (["ack"], 2, "Missing argument 'MESSAGE'"),
        (["show", "../outbox"], 2, "neither a serial"),
        (["ack", "../status", "--by", "x"], 2, "neither a serial"),
        (["send", "--to", "GENSTAB", "--text", "x", "--precedence", "SOON"], 2, "'SOON' is not one of"),
        (["frobnicate"], 2, "No such command 'frobnicate'"),
        (["init", "--party", "lower", "--listen", "127.0.0.1:1", "--api", "127.0.0.1:2"], 3, "not a valid party"),
        (["init", "--party", "SACEUR", "--listen", "nowhere", "--api", "127.0.0.1:2"], 3, "not HOST:PORT"),
        (["peer", "add", "hotline:1:nonsense", "--fingerprint", "1"], 4, "not a hotline identity card"),
        (["peer", "add", "hotline:1:nonsense"], 2, "give CARD and --fingerprint (the one read to you by voice)"),
        (["outbox"], 5, "is not running"),
    ],
)
def test_bad_arguments_get_a_clear_message_and_exit_code(
    tmp_path: Path, args: list[str], code: int, message: str
) -> None:
    directory = tmp_path / "node"
    if args[0] != "init":
        hotline(
            "init",
            "--party",
            "SACEUR",
            "--listen",
            f"127.0.0.1:{free_port()}",
            "--api",
            f"127.0.0.1:{free_port()}",
            directory=directory,
        )
    result = hotline(*args, directory=directory)
    assert result.returncode == code, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("listen", "api", "extra", "message"),
    [
        ("127.0.0.1:7001", "0.0.0.0:7002", [], "not a loopback address"),
        ("0.0.0.0:7001", "127.0.0.1:7002", [], "give --advertise"),
        ("127.0.0.1:7001", "127.0.0.1:7001", [], "need two ports"),
        ("127.0.0.1:7001", "127.0.0.1:7002", ["--language", "fr"], "'fr' is not one of"),
    ],
)
def test_init_refuses_settings_that_cannot_work(
    tmp_path: Path, listen: str, api: str, extra: list[str], message: str
) -> None:
    result = hotline("init", "--party", "SACEUR", "--listen", listen, "--api", api, *extra, directory=tmp_path / "n")
    assert result.returncode in (2, 3), result.stderr
    assert message in result.stderr
    assert not (tmp_path / "n").exists(), "nothing is created when init refuses"


def test_init_refuses_a_directory_with_other_files(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("x")
    result = hotline(
        "init", "--party", "SACEUR", "--listen", "127.0.0.1:7001", "--api", "127.0.0.1:7002", directory=tmp_path
    )
    assert result.returncode == 3
    assert "is not empty" in result.stderr


def test_a_directory_that_is_not_a_node(tmp_path: Path) -> None:
    result = hotline("identity", directory=tmp_path)
    assert result.returncode == 3
    assert "not a node directory" in result.stderr


def test_init_refuses_to_overwrite_a_node(tmp_path: Path) -> None:
    args = ["init", "--party", "SACEUR", "--listen", "127.0.0.1:7001", "--api", "127.0.0.1:7002"]
    assert hotline(*args, directory=tmp_path).returncode == 0
    key = (tmp_path / "signing.key").read_bytes()
    result = hotline(*args, directory=tmp_path)
    assert result.returncode == 3
    assert "refusing to overwrite" in result.stderr
    assert (tmp_path / "signing.key").read_bytes() == key


async def test_send_outbox_inbox_status_through_the_cli(pair: tuple[NodeProcess, NodeProcess]) -> None:
    a, b = pair
    await wait_for(lambda: a.connected("GENSTAB"), 20, "the link")
    sent = hotline(
        "send",
        "--to",
        "GENSTAB",
        "--text",
        "Radio check.",
        "--precedence",
        "IMMEDIATE",
        "--json",
        directory=a.config.directory,
    )
    assert sent.returncode == 0, sent.stderr
    message = json.loads(sent.stdout)
    assert message["serial"] == "SACEUR-000001"
    assert message["precedence"] == "IMMEDIATE"

    async def delivered() -> bool:
        out = json.loads(hotline("outbox", "--json", directory=a.config.directory).stdout)
        return bool(out[0]["state"] == "delivered")

    await wait_for(delivered, 20, "delivery")
    [received] = json.loads(hotline("inbox", "--json", directory=b.config.directory).stdout)
    assert (received["from"], received["seq"], received["serial"], received["text"]) == (
        "SACEUR",
        1,
        "SACEUR-000001",
        "Radio check.",
    )
    status = json.loads(hotline("status", "--json", directory=a.config.directory).stdout)
    assert status["peers"][0]["peer"] == "GENSTAB"
    assert status["peers"][0]["connected"] is True

    own = a.config.card()
    pinned_self = hotline("peer", "add", own.line(), "--fingerprint", own.fingerprint, directory=a.config.directory)
    assert pinned_self.returncode == 4, "a pairing error has one exit code, node running or not"
    assert "own party" in pinned_self.stderr
    unknown = hotline("send", "--to", "NOBODY", "--text", "x", directory=a.config.directory)
    assert unknown.returncode == 1
    assert "'NOBODY' is not a pinned peer" in unknown.stderr
    empty = hotline("send", "--to", "GENSTAB", "--text", "", directory=a.config.directory)
    assert empty.returncode == 1
    assert "body.text" in empty.stderr
    assert len(json.loads(hotline("outbox", "--json", directory=a.config.directory).stdout)) == 1
    for command in ("outbox", "inbox", "status"):
        table = hotline(command, directory=a.config.directory)
        assert table.returncode == 0, table.stderr
    assert "SACEUR-000001" in hotline("outbox", directory=a.config.directory).stdout
    # On an 80-column terminal nothing is squeezed away: each message is a headline and its lines.
    for command, words in (("outbox", ["SACEUR-000001", "IMMEDIATE", "delivered", "Radio check."]), ("inbox", [])):
        directory = a.config.directory if command == "outbox" else b.config.directory
        narrow = subprocess.run(
            [sys.executable, "-m", "hotline", command, "--dir", str(directory)],
            capture_output=True,
            text=True,
            env={**os.environ, "HOTLINE_WIDTH": "80"},
            check=False,
        )
        assert narrow.returncode == 0, narrow.stderr
        assert all(len(line) <= 80 for line in narrow.stdout.splitlines())
        for word in words or ["SACEUR-000001", "СРОЧНО", "Radio check."]:
            assert word in narrow.stdout
