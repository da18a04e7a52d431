"""Transparency (issue #18): two real nodes exchange declarations for several as-of dates each;
the CLI lists them in order with the right figures; the console's page draws one chart per
category with both parties' points and the limit, each point checked against the declarations
by parsing the SVG; its evidence verifies offline; screenshots in both languages."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser

from tests.integration.browser import CHROMIUM, NO_CHROMIUM, VIEWPORT, add_account, sign_in, snap
from tests.integration.harness import NodeProcess, paired, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.skipif(CHROMIUM is None, reason=NO_CHROMIUM)]
SVG = "{http://www.w3.org/2000/svg}"
LIMITS = {"deployed_warheads": 1550, "deployed_launchers": 700, "deployed_and_non_deployed_launchers": 800}


def figures(as_of: str, icbms: int, slbms: int, bombers: int, warheads: int, launchers: int) -> dict[str, Any]:
    return {"as_of": as_of, "deployed_icbms": icbms, "deployed_slbms": slbms, "deployed_heavy_bombers": bombers,
            "deployed_warheads": warheads, "deployed_and_non_deployed_launchers": launchers}  # fmt: skip


# What each side declares, in the order sent (SACEUR corrects its September figures once).
SACEUR = [figures("2026-03-01", 400, 230, 50, 1420, 780), figures("2026-09-01", 405, 230, 50, 1450, 780),
          figures("2027-03-01", 400, 240, 60, 1510, 800), figures("2026-09-01", 405, 232, 50, 1452, 781)]  # fmt: skip
GENSTAB = [figures("2026-03-01", 330, 180, 55, 1549, 780), figures("2026-09-01", 330, 185, 55, 1560, 790),
           figures("2027-03-01", 340, 190, 58, 1588, 801)]  # fmt: skip


def hotline(node: NodeProcess, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "hotline", *args, "--dir", str(node.config.directory)]
    return subprocess.run(command, capture_output=True, text=True, check=False)


async def declare(node: NodeProcess, to: str, body: dict[str, Any], reply_to: str | None = None) -> str:
    request: dict[str, Any] = {"to": to, "kind": "arsenal_declaration", "body": body}
    if reply_to:
        request = {"to": to, "kind": "clarification_request", "body": body, "reply_to": reply_to}
    sent = await node.api("POST", "/v1/messages", json=request)
    return str(sent["serial"])


async def delivered(node: NodeProcess, serials: list[str]) -> bool:
    outbox: list[dict[str, Any]] = await node.api("GET", "/v1/outbox?limit=1000")
    return set(serials) <= {m["serial"] for m in outbox if m["state"] == "delivered"}


async def test_declarations_listed_charted_and_proved(tmp_path: Path, browser: Browser) -> None:
    async with paired(tmp_path) as (a, b):
        add_account(a, "alice", "operator", "alpha-watch-2026")
        add_account(b, "boris", "operator", "bravo-watch-2026", lang="ru")
        await wait_for(lambda: a.connected("GENSTAB"), 20, "SACEUR linked to GENSTAB")
        ours = [await declare(a, "GENSTAB", body) for body in SACEUR]
        theirs = [await declare(b, "SACEUR", body) for body in GENSTAB]
        await wait_for(lambda: delivered(a, ours), 30, "SACEUR's declarations delivered")
        await wait_for(lambda: delivered(b, theirs), 30, "GENSTAB's declarations delivered")
        # GENSTAB questions SACEUR's figures as of 1 March 2027.
        listed: list[dict[str, Any]] = (await a.api("GET", "/v1/declarations"))["declarations"]
        [march] = [d for d in listed if d["serial"] == ours[2]]
        question = {"question": "Why did the deployed warheads rise by 60?"}
        asked = await declare(b, "SACEUR", question, reply_to=march["envelope_id"])
        await wait_for(lambda: delivered(b, [asked]), 30, "GENSTAB's question delivered")

        expected = _expected(ours, theirs)
        for node in (a, b):  # the same record at both ends, oldest first
            result = hotline(node, "declarations", "--json")
            assert result.returncode == 0, result.stderr
            got = json.loads(result.stdout)
            assert [(d["party"], d["as_of"], d["serial"]) for d in got] == [(p, d, s) for p, d, s, _ in expected]
            for item, (_, _, _, body) in zip(got, expected, strict=True):
                assert {k: item[k] for k in body} == body
                assert item["deployed_launchers"] == body["deployed_icbms"] + body["deployed_slbms"] + body[
                    "deployed_heavy_bombers"]  # fmt: skip
            assert [d["superseded_by"] for d in got if d["serial"] == ours[1]] == [ours[3]]
            assert [d["questioned_by"] for d in got if d["serial"] == ours[2]] == [[asked]]
        table = hotline(a, "declarations", "--csv")
        rows = list(csv.DictReader(io.StringIO(table.stdout)))
        assert [r["serial"] for r in rows] == [s for _, _, s, _ in expected]
        assert rows[0]["deployed_warheads"] == str(expected[0][3]["deployed_warheads"])
        both = hotline(a, "declarations", "--json", "--csv")
        assert both.returncode == 2
        assert "choose one of --json and --csv" in both.stderr

        standing = [(p, d, body) for p, d, s, body in expected if s != ours[1]]  # SACEUR's first September word
        await _check_page(browser, a, "alice", "alpha-watch-2026", standing, ours, asked, "en")
        await _check_page(browser, b, "boris", "bravo-watch-2026", standing, ours, asked, "ru")
        await _check_evidence(browser, a, b, ours[2], tmp_path)


def _expected(ours: list[str], theirs: list[str]) -> list[tuple[str, str, str, dict[str, Any]]]:
    sent = [("SACEUR", body["as_of"], serial, body) for serial, body in zip(ours, SACEUR, strict=True)]
    sent += [("GENSTAB", body["as_of"], serial, body) for serial, body in zip(theirs, GENSTAB, strict=True)]
    # Oldest as-of date first, then by party, then in the order signed.
    return sorted(sent, key=lambda d: (d[1], d[0], int(d[2].rsplit("-", 1)[1])))


async def _check_page(
    browser: Browser,
    node: NodeProcess,
    name: str,
    password: str,
    standing: list[tuple[str, str, dict[str, Any]]],
    ours: list[str],
    asked: str,
    lang: str,
) -> None:
    context = await browser.new_context(viewport=VIEWPORT, locale="ru-RU" if lang == "ru" else "en-GB")
    page = await context.new_page()
    await sign_in(page, node, name, password, "/transparency")
    heading = "Заявленные стратегические наступательные вооружения" if lang == "ru" else "Declared strategic"
    assert heading in await page.inner_text("h1")
    charts = page.locator("svg.chart")
    assert await charts.count() == 3
    for n, key in enumerate(LIMITS):
        svg = ET.fromstring(await charts.nth(n).evaluate("e => e.outerHTML"))
        points = {
            (e.get("data-party"), e.get("data-as-of")): int(e.get("data-value") or -1)
            for e in svg.iter()
            if e.get("data-party")
            and "point" in (e.get("class") or "").split()
            and "superseded" not in (e.get("class") or "")
        }
        want = {(p, d): _value(body, key) for p, d, body in standing}
        assert points == want, f"chart {key}"
        [limit] = [e for e in svg.iter(f"{SVG}line") if e.get("class") == "limit"]
        assert int(limit.get("data-limit") or 0) == LIMITS[key]
        hollow = [e.get("data-serial") for e in svg.iter() if "superseded" in (e.get("class") or "")]
        assert hollow == [ours[1]], "the superseded declaration is drawn, hollow"
        rings = [a.get("href") for a in svg.iter(f"{SVG}a") if a.get("class") == "question"]
        assert rings == [f"/messages/{asked}"], "the questioned point links to the question"
    assert await page.locator("table.figures").count() == 3
    await snap(page, f"transparency-{lang}")
    await context.close()


def _value(body: dict[str, Any], key: str) -> int:
    if key == "deployed_launchers":
        return int(body["deployed_icbms"] + body["deployed_slbms"] + body["deployed_heavy_bombers"])
    return int(body[key])


async def _check_evidence(browser: Browser, a: NodeProcess, b: NodeProcess, serial: str, tmp_path: Path) -> None:
    """The evidence behind a point of the chart, as the page links it, verifies offline."""

    async def cosigned() -> bool:
        transcript = await a.api("GET", "/v1/transcript")
        checkpoint = transcript["checkpoint"]
        return bool(checkpoint and checkpoint["cosigned_by"])

    await wait_for(cosigned, 15.0, "a cosigned checkpoint that holds the declarations")
    context = await browser.new_context(viewport=VIEWPORT)
    page = await context.new_page()
    await sign_in(page, a, "alice", "alpha-watch-2026", "/transparency")
    href = await page.locator(f"svg.chart a:has([data-serial='{serial}'])").first.get_attribute("href")
    assert href == f"/messages/{serial}/evidence"
    download = await page.request.get(f"{a.config.api_url}{href}")
    assert download.status == 200
    with zipfile.ZipFile(io.BytesIO(await download.body())) as archive:
        archive.extractall(tmp_path / "unpacked")
    await context.close()
    folder = tmp_path / "unpacked" / f"evidence-{serial}"
    verify = subprocess.run(
        [sys.executable, "-m", "hotline", "verify", str(folder), "--against", str(b.config.directory)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert verify.returncode == 0, verify.stdout + verify.stderr
