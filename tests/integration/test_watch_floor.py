"""The console on a watch floor (#16): over HTTPS on its own listener, through a restart, with
accounts an administrator changes, and acknowledgements signed with a rank.

Two real nodes, each serving its console on a listener of its own with the certificate made for
it; Debian's chromium reaches them over TLS, as the floor's browsers would.
"""

from __future__ import annotations

import hashlib
import json
import ssl
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright, expect

from hotline.node import parse_address
from hotline.testing.process import free_port, pair
from tests.integration.browser import CHROMIUM, NO_CHROMIUM, VIEWPORT, add_account, launch, snap
from tests.integration.harness import QUIET_WATCH, NodeProcess, stop_all, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.skipif(CHROMIUM is None, reason=NO_CHROMIUM)]
PASSWORD = "watch-floor-2026"


def hotline(node: NodeProcess, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "hotline", *args, "--dir", str(node.config.directory)]
    return subprocess.run(command, capture_output=True, text=True, check=False)


def on_floor(root: Path, party: str, lang: str) -> NodeProcess:
    settings = {"watch": QUIET_WATCH, "console": {"listen": f"127.0.0.1:{free_port()}"}}
    return NodeProcess.create(root, party, language=lang, settings=settings)


@pytest.fixture
async def floor(tmp_path: Path) -> AsyncIterator[tuple[NodeProcess, NodeProcess]]:
    """SACEUR (English) and GENSTAB (Russian), each console on HTTPS; alice at SACEUR, boris (a
    major, signing as «И. Петров») and ivan at GENSTAB."""
    a, b = on_floor(tmp_path, "SACEUR", "en"), on_floor(tmp_path, "GENSTAB", "ru")
    pair(a, b)
    try:
        await a.start()
        await b.start()
        add_account(a, "alice", "operator", PASSWORD)
        add_account(b, "boris", "operator", PASSWORD)
        add_account(b, "ivan", "operator", PASSWORD)
        described = hotline(b, "user", "describe", "--name", "boris", "--display-name", "И. Петров", "--rank", "major")
        assert described.returncode == 0, described.stderr
        yield a, b
    finally:
        try:
            stop_all((a, b))
        finally:
            for node in (a, b):
                await node.aclose()


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await launch(playwright)
        yield browser
        await browser.close()


async def floor_page(browser: Browser, locale: str = "en-GB") -> tuple[BrowserContext, Page]:
    # The certificate is self-made: the test compares its fingerprint with `hotline identity`,
    # as the watch officer does with the browser's warning, and then accepts it.
    context = await browser.new_context(viewport=VIEWPORT, locale=locale, ignore_https_errors=True)
    return context, await context.new_page()


async def sign_in(page: Page, node: NodeProcess, name: str) -> None:
    await page.goto(f"{node.config.console_url}/board")
    await page.fill("#name", name)
    await page.fill("#password", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{node.config.console_url}/board")


def served_fingerprint(node: NodeProcess) -> str:
    host, port = parse_address(node.config.console.listen)
    pem = ssl.get_server_certificate((host, port))
    digest = hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest().upper()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


async def flash(sender: NodeProcess, text: str) -> str:
    sent = await sender.api("POST", "/v1/messages", json={"to": "GENSTAB", "body": {"text": text, "lang": "en"},
                                                        "precedence": "FLASH"})  # fmt: skip
    return str(sent["serial"])


async def test_the_floor_over_https_through_a_restart_and_an_account_removed(
    browser: Browser, floor: tuple[NodeProcess, NodeProcess]
) -> None:
    a, b = floor
    identity = json.loads(hotline(b, "identity", "--json").stdout)
    assert identity["console"]["url"] == b.config.console_url
    assert identity["console"]["sha256"] == served_fingerprint(b), "the browser's fingerprint is the one printed"

    # TLS 1.3 only, HSTS and a Secure, HttpOnly cookie.
    async with httpx.AsyncClient(verify=False) as client:
        answer = await client.get(f"{b.config.console_url}/signin")
    assert answer.headers["strict-transport-security"].startswith("max-age=")
    assert "secure" in answer.headers["set-cookie"].lower()
    assert "server" not in answer.headers
    old = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    old.check_hostname, old.verify_mode = False, ssl.CERT_NONE
    old.maximum_version = ssl.TLSVersion.TLSv1_2
    with pytest.raises(httpx.ConnectError):
        async with httpx.AsyncClient(verify=old) as client:
            await client.get(f"{b.config.console_url}/signin")

    context, board = await floor_page(browser, "ru-RU")
    await sign_in(board, b, "boris")
    cookie = next(c for c in await context.cookies() if c["name"] == "hotline_session_GENSTAB")
    assert cookie["secure"]
    assert cookie["httpOnly"]
    await board.wait_for_selector("html[data-stream=open]", state="attached")
    quiet_title = await board.title()

    # The node restarts; meanwhile (before the board has its stream back) a FLASH is sent.
    b.stop()
    await b.start()
    await wait_for(lambda: a.connected("GENSTAB"), 15, "SACEUR linked to GENSTAB again")
    serial = await flash(a, "Restart drill: acknowledge.")
    # The same page, never reloaded by hand: its stream comes back signed in, and it alarms.
    alarm = board.locator(f"section.alarm li[data-serial='{serial}']")
    await expect(alarm).to_be_visible(timeout=10_000)
    assert board.url == f"{b.config.console_url}/board", "the restart signed the board out"
    await expect(board.locator("html")).to_have_class("alarming")
    await wait_for(lambda: _title_flashes(board, quiet_title), 5, "the tab's title to say FLASH")
    icon = await board.locator("link[rel=icon]").get_attribute("href")
    assert icon == "/static/favicon-alarm.svg"
    await expect(board.locator("#announcer")).to_contain_text(serial)  # said once, to a screen reader
    await snap(board, "20-b-https-board-after-restart-alarm")
    await board.reload()
    assert board.url == f"{b.config.console_url}/board", "a reload after the restart asked for a sign-in"

    # ivan is signed in elsewhere; an administrator removes his account; his next request is refused.
    ivan_context, ivan = await floor_page(browser, "ru-RU")
    await sign_in(ivan, b, "ivan")
    removed = hotline(b, "user", "remove", "--name", "ivan")
    assert removed.returncode == 0, removed.stderr
    await ivan.goto(f"{b.config.console_url}/outbox")
    assert "/signin" in ivan.url, "a removed account's session was still served"
    # Signed out, the board still says a FLASH is waiting, and sounds for it.
    await expect(ivan.locator("#signin-alarm section.alarm[data-alarm]")).to_be_visible()
    await expect(ivan.locator("#signin-alarm")).to_contain_text("SACEUR")
    await expect(ivan.locator("html")).to_have_class("alarming")
    assert "Restart drill" not in await ivan.content(), "a signed-out page showed what the FLASH says"
    await snap(ivan, "21-b-https-signed-out-alarm")
    refused = await ivan.request.post(f"{b.config.console_url}/signin", form={"name": "ivan", "password": PASSWORD})
    assert refused.status in (401, 403)
    await ivan_context.close()
    await context.close()


async def _title_flashes(page: Page, quiet: str) -> bool:
    return (await page.title()) != quiet


async def test_an_acknowledgement_carries_the_rank_read_in_each_language(
    browser: Browser, floor: tuple[NodeProcess, NodeProcess]
) -> None:
    a, b = floor
    serial = await flash(a, "Rank check.")
    _, reader = await floor_page(browser, "ru-RU")
    await sign_in(reader, b, "boris")
    await reader.goto(f"{b.config.console_url}/messages/{serial}")
    await reader.click("#acknowledge")
    await expect(reader.locator("#acknowledge")).to_have_count(0)

    _, sender = await floor_page(browser)
    await sign_in(sender, a, "alice")
    await sender.goto(f"{a.config.console_url}/outbox")
    row = sender.locator(f"tr[data-serial='{serial}']")
    await expect(row).to_have_attribute("data-state", "acknowledged", timeout=10_000)
    await expect(row).to_contain_text("Major И. Петров")  # not the login name "boris"
    await expect(row).not_to_contain_text("boris")
    await snap(sender, "22-a-outbox-rank-en")
    await sender.click("button[name=lang][value=ru]")
    row = sender.locator(f"tr[data-serial='{serial}']")
    await expect(row).to_contain_text("майор И. Петров")
    await sender.goto(f"{a.config.console_url}/messages/{serial}")
    await expect(sender.locator("main")).to_contain_text("майор И. Петров")
    await snap(sender, "23-a-message-rank-ru")
    # The API and the CLI at the sender say it too, with the code for machines.
    found = await a.api("GET", f"/v1/messages/{serial}")
    assert found["acknowledged"]["by"] == "И. Петров"
    assert found["acknowledged"]["rank"] == "major"
