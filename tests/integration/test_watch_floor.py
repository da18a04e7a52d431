"""The console on a watch floor (#16): over HTTPS on its own listener, through a restart, with
accounts an administrator changes, and acknowledgements signed with a rank.

Two real nodes, each serving its console on a listener of its own with the certificate made for
it; Debian's chromium reaches them over TLS, as the floor's browsers would.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import ssl
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from hotline.node import parse_address
from hotline.testing.process import free_port
from tests.integration.browser import CHROMIUM, NO_CHROMIUM, VIEWPORT, add_account, snap
from tests.integration.harness import QUIET_WATCH, NodeProcess, paired, stop_all, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.skipif(CHROMIUM is None, reason=NO_CHROMIUM)]
PASSWORD = "watch-floor-2026"
HANDSHAKE_S = 3


def hotline(node: NodeProcess, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "hotline", *args, "--dir", str(node.config.directory)]
    return subprocess.run(command, capture_output=True, text=True, check=False)


def on_floor() -> dict[str, Any]:
    """A node's console on an HTTPS listener of its own, with a short bound on a handshake."""
    return {
        "console": {"listen": f"127.0.0.1:{free_port()}"},
        "bounds": {"api_header_timeout": HANDSHAKE_S},  # also the console's bound on a TLS handshake
    }


@pytest.fixture
async def floor(tmp_path: Path) -> AsyncIterator[tuple[NodeProcess, NodeProcess]]:
    """SACEUR (English) and GENSTAB (Russian), each console on HTTPS; alice at SACEUR, boris (a
    major, signing as «И. Петров») and ivan at GENSTAB."""
    async with paired(tmp_path, more=on_floor) as (a, b):
        add_account(a, "alice", "operator", PASSWORD)
        add_account(b, "boris", "operator", PASSWORD)
        add_account(b, "ivan", "operator", PASSWORD)
        described = hotline(b, "user", "describe", "--name", "boris", "--display-name", "И. Петров", "--rank", "major")
        assert described.returncode == 0, described.stderr
        yield a, b


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

    # A connection that never starts its handshake is closed within the bound, not kept a minute.
    host, port = parse_address(b.config.console.listen)
    reader, writer = await asyncio.open_connection(host, port)
    started = time.monotonic()
    async with asyncio.timeout(4 * HANDSHAKE_S):
        assert await reader.read(1) == b""  # the node closed it
    assert time.monotonic() - started < 2 * HANDSHAKE_S
    writer.close()

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


# -- every page, in both languages, at 1280x720 ------------------------------------------------

# Measured in the page: a box whose content is wider than it (text spilling out), two controls
# that overlap, and a serial, a date or a time broken over two lines.
LAYOUT_FAULTS = r"""
() => {
  const faults = [];
  const main = document.querySelector("main");
  if (!main) return ["the answer is not a console page (no <main>): " + document.body.innerText.slice(0, 80)];
  const name = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
    (el.className && typeof el.className === "string" ? "." + el.className.split(" ")[0] : "");
  if (document.documentElement.scrollWidth > window.innerWidth)
    faults.push(`the page scrolls sideways: ${document.documentElement.scrollWidth} px`);
  for (const el of main.querySelectorAll("p, li, td, th, h1, h2, h3, label, legend, button, select, dt, dd, a")) {
    const style = getComputedStyle(el);
    if (style.display === "inline" || style.overflowX !== "visible") continue;
    if (el.scrollWidth - el.clientWidth > 1)
      faults.push(`${name(el)} overflows by ${el.scrollWidth - el.clientWidth} px: ${el.textContent.slice(0, 60)}`);
  }
  const controls = [...main.querySelectorAll("select, input:not([type=hidden]), textarea, fieldset, button")]
    .filter((el) => el.getClientRects().length);
  for (let i = 0; i < controls.length; i++) {
    for (let j = i + 1; j < controls.length; j++) {
      const a = controls[i], b = controls[j];
      if (a.contains(b) || b.contains(a)) continue;
      const r = a.getBoundingClientRect(), s = b.getBoundingClientRect();
      const w = Math.min(r.right, s.right) - Math.max(r.left, s.left);
      const h = Math.min(r.bottom, s.bottom) - Math.max(r.top, s.top);
      if (w > 2 && h > 2) faults.push(`${name(a)} and ${name(b)} overlap (${Math.round(w)}x${Math.round(h)} px)`);
    }
  }
  const token = new RegExp([
    "[A-Z][A-Z0-9_]*-\\d+", "\\d{4}-\\d\\d-\\d\\d[ T]\\d\\d:\\d\\d(?::\\d\\d)?(?: UTC)?",
    "\\d\\d:\\d\\d(?::\\d\\d)?(?: UTC)?", "\\d\\d\\.\\d\\d\\.\\d{4}"].join("|"), "g");
  const walker = document.createTreeWalker(main, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!node.parentElement.getClientRects().length) continue;
    for (const m of node.data.matchAll(token)) {
      const range = document.createRange();
      range.setStart(node, m.index);
      range.setEnd(node, m.index + m[0].length);
      const lines = new Set([...range.getClientRects()].filter((q) => q.width > 0).map((q) => Math.round(q.top)));
      if (lines.size > 1) faults.push(`"${m[0]}" is broken over ${lines.size} lines in ${name(node.parentElement)}`);
    }
  }
  return faults;
}
"""


async def test_every_page_in_both_languages_fits_1280_by_720(
    browser: Browser, floor: tuple[NodeProcess, NodeProcess]
) -> None:
    a, b = floor
    add_account(b, "olga", "supervisor", PASSWORD, "ru")
    add_account(b, "george", "supervisor", PASSWORD, "en")
    received = await flash(a, "Layout check: a FLASH awaiting acknowledgement.")
    launch = {"to": "GENSTAB", "kind": "missile_launch", "precedence": "IMMEDIATE"}
    from hotline.forms.examples import EXAMPLES

    await a.api("POST", "/v1/messages", json={**launch, "body": EXAMPLES["missile_launch"]})
    report = {"to": "SACEUR", "kind": "incident_report", "precedence": "PRIORITY", "body": EXAMPLES["incident_report"]}
    sent = await b.api("POST", "/v1/messages", json=report)
    await wait_for(lambda: _delivered(b, str(sent["serial"])), 10, "GENSTAB's report delivered")
    pages = [
        "/board", "/compose", "/compose?kind=missile_launch", "/compose?kind=air_deconfliction",
        "/compose?kind=arsenal_declaration", "/outbox", "/messages", f"/messages/{received}",
        f"/messages/{sent['serial']}", "/transcript", "/alarms", "/audit", "/no-such-page",
    ]  # fmt: skip
    faults: list[str] = []
    for name, locale in (("george", "en-GB"), ("olga", "ru-RU")):
        lang = locale[:2]
        context, page = await floor_page(browser, locale)
        await page.goto(f"{b.config.console_url}/signin")
        faults += [f"{lang} /signin: {f}" for f in await page.evaluate(LAYOUT_FAULTS)]
        await snap(page, f"page-{lang}-signin")
        await sign_in(page, b, name)
        for path in pages:
            await page.goto(f"{b.config.console_url}{path}")
            faults += [f"{lang} {path}: {f}" for f in await page.evaluate(LAYOUT_FAULTS)]
            await snap(page, f"page-{lang}-{path.strip('/').replace('/', '-').replace('?kind=', '-') or 'root'}")
        await context.close()
    assert not faults, "\n".join(faults)  # the screenshots of each page are in test-artifacts/console


async def _delivered(node: NodeProcess, serial: str) -> bool:
    found = await node.api("GET", f"/v1/messages/{serial}")
    return found["state"] in ("delivered", "acknowledged")


async def test_an_administrator_manages_accounts_in_the_console(
    browser: Browser, floor: tuple[NodeProcess, NodeProcess]
) -> None:
    _, b = floor
    add_account(b, "anna", "administrator", PASSWORD, "ru")
    ivan_context, ivan = await floor_page(browser, "ru-RU")
    await sign_in(ivan, b, "ivan")
    context, admin = await floor_page(browser, "ru-RU")
    await sign_in(admin, b, "anna")
    await admin.goto(f"{b.config.console_url}/accounts")
    assert await admin.evaluate(LAYOUT_FAULTS) == []
    await snap(admin, "page-ru-accounts")

    # A new account, with the name and rank its acknowledgements will carry.
    await admin.fill("#a-name", "petrov")
    await admin.select_option("#a-role", "operator")
    await admin.fill("#a-display", "П. Петров")
    await admin.select_option("#a-rank", "captain_3rd_rank")
    await admin.fill("#a-password", PASSWORD)
    await admin.click("#add-account")
    row = admin.locator("tr[data-account=petrov]")
    await expect(row).to_contain_text("капитан 3 ранга П. Петров")

    # ivan locked: his open session ends at its next request, and the audit trail says who did it.
    await admin.locator("tr[data-account=ivan] button[value=lock]").click()
    await expect(admin.locator("tr[data-account=ivan]")).to_contain_text("да")
    await ivan.goto(f"{b.config.console_url}/board")
    assert "/signin" in ivan.url, "a locked account's session was still served"

    # Not their own account: the one person who can put it right must not lock themselves out.
    await admin.locator("tr[data-account=anna] button[value=remove]").click()
    await expect(admin.locator("p.error")).to_contain_text("собственную учётную запись")
    await expect(admin.locator("tr[data-account=anna]")).to_have_count(1)
    # A wrong password is refused with the reason, and nothing changes.
    await admin.select_option("#d-account", "petrov")
    await admin.fill("#d-password", "short")
    await admin.click("#describe-form button[value=password]")
    await expect(admin.locator("p.error")).to_contain_text("не менее 10 символов")  # the node's words, in Russian
    listed = json.loads(hotline(b, "user", "list", "--json").stdout)
    assert {a["name"]: a["locked"] is not None for a in listed} == {
        "anna": False, "boris": False, "ivan": True, "petrov": False
    }  # fmt: skip
    assert next(a for a in listed if a["name"] == "petrov")["rank"] == "captain_3rd_rank"
    await admin.goto(f"{b.config.console_url}/audit")
    await expect(admin.locator("tr[data-action=account]").first).to_contain_text("lock ivan")
    await ivan_context.close()
    await context.close()


async def test_a_console_certificate_that_ends_soon_is_an_alarm_not_a_log_line(tmp_path: Path) -> None:
    from hotline.crypto.webcert import CONSOLE_CERT_VALIDITY, generate_console_certificate

    # The organisation's certificate, made three years less ten days ago: ten days are left.
    made = generate_console_certificate(
        "SACEUR", ["localhost", "127.0.0.1"], dt.datetime.now(dt.UTC) - CONSOLE_CERT_VALIDITY + dt.timedelta(days=10)
    )
    (tmp_path / "org.crt").write_bytes(made.cert_pem)
    (tmp_path / "org.key").write_bytes(made.key_pem)
    console = {
        "listen": f"127.0.0.1:{free_port()}",
        "cert": str(tmp_path / "org.crt"),
        "key": str(tmp_path / "org.key"),
    }
    node = NodeProcess.create(tmp_path, "SACEUR", settings={"watch": QUIET_WATCH, "console": console})
    try:
        await node.start()
        (alarm,) = [a for a in await node.api("GET", "/v1/alarms") if a["kind"] == "console-trouble"]
        assert alarm["level"] == "supervisor"
        assert "9 days left" in alarm["summary"] or "10 days left" in alarm["summary"], alarm
        health = await node.client.get("/v1/health")
        assert health.status_code == 503
        assert "console-trouble" in health.text
        assert 'kind="console-trouble"' in (await node.client.get("/metrics")).text
    finally:
        stop_all((node,))
        await node.aclose()
