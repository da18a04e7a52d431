"""Debian's chromium, driven by Playwright, for the console's end-to-end tests and the bench.

Playwright never downloads a browser here: it launches the system's ``/usr/bin/chromium``
(``make test`` installs it) with the flags that keep it off a closed network.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from playwright.async_api import Browser, Page, Playwright, ViewportSize

from hotline.testing.process import NodeProcess  # any node process: the tests' and the mesh's

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
NO_CHROMIUM = "Debian's chromium is not installed (no chromium on PATH); `make test` installs it with apt-get"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "console"
FLAGS = [
    "--no-sandbox",  # these machines run tests as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",  # the alarm's sound is checked, not only its colour
]
VIEWPORT: ViewportSize = {"width": 1280, "height": 720}


async def launch(playwright: Playwright) -> Browser:
    assert CHROMIUM is not None
    return await playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)


def add_account(node: NodeProcess, name: str, role: str, password: str, lang: str | None = None) -> None:
    """Create a console account through the real CLI."""
    secret = node.config.directory.parent / f"{node.party}-{name}.password"
    secret.write_text(password + "\n")
    command = [sys.executable, "-m", "hotline", "user", "add", "--dir", str(node.config.directory)]
    command += ["--name", name, "--role", role, "--password-file", str(secret)]
    if lang:
        command += ["--lang", lang]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


async def sign_in(page: Page, node: NodeProcess, name: str, password: str, path: str = "/board") -> None:
    await page.goto(f"{node.config.api_url}{path}")
    await page.fill("#name", name)
    await page.fill("#password", password)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{node.config.api_url}{path}*")


async def live(page: Page) -> None:
    """Wait until the page's event stream is open: from then on, a change reaches it."""
    await page.wait_for_selector("html[data-stream=open]", state="attached")


async def snap(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
