"""`make demo` runs the scripted exchange end to end (here with --once, on free ports)."""

import hashlib
import re
import signal
import ssl
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.integration.harness import free_demo_base


def test_demo_pairs_two_nodes_and_delivers_the_script(tmp_path: Path) -> None:
    base = free_demo_base()  # the demo uses base+1, +2, +101 and +102
    result = subprocess.run(
        [sys.executable, "-m", "hotline.demo", "--once", "--root", str(tmp_path / "demo"), "--base-port", str(base)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Linked" in result.stdout
    out = result.stdout
    assert out.count("delivered in") == 5
    # Each side reads in its own language what the other wrote in its own.
    assert "GENSTAB reads: МОЛНИЯ" in out
    assert "В целях обеспечения безопасности полётов уведомляем" in out
    assert "SACEUR reads: FLASH  Notification of a ballistic missile launch" in out
    assert "Our forces are not involved." in out
    # Three are acknowledged by a person, and the sender holds each acknowledgement.
    assert out.count("acknowledged at") == 3
    assert "by подполковник А. В. Иванов; SACEUR holds the signed acknowledgement" in out
    assert "Both nodes stopped." in out


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_a_signal_stops_the_demo_and_both_nodes(tmp_path: Path, signum: int) -> None:
    """SIGTERM (kill) and SIGHUP (the terminal closed) stop the demo and both nodes, as Ctrl-C does."""
    base = free_demo_base()
    root = tmp_path / "demo"
    demo = subprocess.Popen(
        [sys.executable, "-m", "hotline.demo", "--root", str(root), "--base-port", str(base)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert demo.stdout is not None
    lines = []
    for line in demo.stdout:  # the demo's own words say when it is waiting for us
        lines.append(line)
        if "Ctrl-C" in line:
            break
    try:
        guide = "".join(lines)
        # The guide's consoles and accounts work as printed: SACEUR's board raises the FLASH alarm.
        saceur = f"http://127.0.0.1:{base + 2}/"
        assert f"SACEUR   {saceur}   operator watch / saceur-watch" in guide
        assert f"GENSTAB  http://127.0.0.1:{base + 102}/   operator dezhurny / genstab-watch" in guide
        # And over HTTPS, with the fingerprint the listener's certificate has.
        printed = re.search(rf"SACEUR   https://127\.0\.0\.1:{base + 3}/   SHA-256 ([0-9A-F:]+)", guide)
        assert printed is not None, guide
        pem = ssl.get_server_certificate(("127.0.0.1", base + 3))
        digest = hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest().upper()
        assert printed.group(1).replace(":", "") == digest
        with httpx.Client(verify=False) as floor:
            assert floor.get(f"https://127.0.0.1:{base + 103}/signin").status_code == 200
        with httpx.Client(base_url=saceur, follow_redirects=True) as browser:
            form = re.search(r'name="csrf" value="([^"]+)"', browser.get("/signin").text)
            assert form is not None
            signed_in = browser.post(
                "/signin", data={"csrf": form.group(1), "name": "watch", "password": "saceur-watch"}
            )
            assert signed_in.status_code == 200, signed_in.text  # followed to the board
            assert "FLASH: acknowledge now" in signed_in.text
            assert re.search(r'data-alarm="GENSTAB-\d{6}"', signed_in.text)
    except BaseException:
        demo.send_signal(signal.SIGTERM)  # a failed check must not leave the demo and its nodes running
        demo.communicate(timeout=60)
        raise
    demo.send_signal(signum)
    rest, _ = demo.communicate(timeout=60)
    assert demo.returncode == 0, "".join(lines) + rest
    assert "Both nodes stopped." in rest
    for party in ("saceur", "genstab"):
        assert "node stopped" in (root / f"{party}.log").read_text()


def test_the_demo_never_deletes_a_directory_it_did_not_make(tmp_path: Path) -> None:
    (tmp_path / "precious.txt").write_text("keep me")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "hotline.demo",
            "--once",
            "--root",
            str(tmp_path),
            "--base-port",
            str(free_demo_base()),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "not made by the demo" in result.stderr
    assert (tmp_path / "precious.txt").read_text() == "keep me"
