"""The console's figure: from `send` at one node to the FLASH alarm shown in the other node's
browser (Debian's chromium, driven by Playwright), over one message at a time.

The clock is this machine's wall clock on both ends: Python stamps the moment before it asks the
sender's API to send; the page stamps, with ``performance.timeOrigin + now``, the first animation
frame after the alarm's row entered the board (the frame that paints it). Each FLASH is then
acknowledged through the receiver's API and the next is sent only once the board is quiet.
"""

from __future__ import annotations

import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.sync_api import sync_playwright

from hotline.testing.process import add_user
from nodes import BenchNode
from stats import percentile, r

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository: the tests' browser settings
from tests.integration.browser import CHROMIUM, FLAGS, NO_CHROMIUM, VIEWPORT

PASSWORD = "bench-watch-2026"

# Stamps each alarm row's first painted frame, by serial: set once, before any sample.
OBSERVE = """() => {
  window.__painted = {};
  const stamp = () => {
    for (const row of document.querySelectorAll("section.alarm li[data-serial]")) {
      const serial = row.dataset.serial;
      if (serial in window.__painted) continue;
      window.__painted[serial] = null;
      requestAnimationFrame((frame) => { window.__painted[serial] = performance.timeOrigin + frame; });
    }
  };
  new MutationObserver(stamp).observe(document.body, { childList: true, subtree: true });
}"""


@dataclass
class AlarmResult:
    samples_ms: list[float]
    node_delivered_ms: list[float]  # the same messages, queued to stored at the receiver (the nodes' share)


def alarm_figures(sender: BenchNode, receiver: BenchNode, samples: int) -> dict[str, Any]:
    alarm = measure_alarm(sender, receiver, samples)
    return {
        "alarm_visible_p50_ms": r(statistics.median(alarm.samples_ms)),
        "alarm_visible_p99_ms": r(percentile(alarm.samples_ms, 99)),
        "alarm_visible_max_ms": r(max(alarm.samples_ms)),
        "alarm_samples": len(alarm.samples_ms),
        "alarm_node_delivered_p50_ms": r(statistics.median(alarm.node_delivered_ms)),
    }


def measure_alarm(sender: BenchNode, receiver: BenchNode, samples: int) -> AlarmResult:
    if CHROMIUM is None:
        raise RuntimeError(NO_CHROMIUM)
    add_user(receiver, "bench", "operator", PASSWORD)
    result = AlarmResult([], [])
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            page = browser.new_page(viewport=VIEWPORT)
            page.goto(f"{receiver.config.api_url}/board")
            page.fill("#name", "bench")
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_selector("html[data-stream=open]", state="attached")
            page.evaluate(OBSERVE)
            for number in range(samples):
                body = {"text": f"Alarm test {number}.", "lang": "en"}
                request = {"to": receiver.party, "precedence": "FLASH", "body": body}
                began_ms = time.time() * 1000
                sent = sender.api("POST", "/v1/messages", json=request)
                serial = sent["serial"]
                page.wait_for_function("s => window.__painted[s]", arg=serial, timeout=10_000)
                painted = float(page.evaluate("s => window.__painted[s]", serial))
                result.samples_ms.append(painted - began_ms)
                shown = receiver.api("GET", f"/v1/messages/{serial}")
                result.node_delivered_ms.append(_ms(shown["received"]) - _ms(sent["created"]))
                receiver.api("POST", f"/v1/messages/{serial}/ack", json={"by": "bench"})
                page.wait_for_selector("section.alarm", state="detached", timeout=10_000)
        finally:
            browser.close()
    return result


def _ms(iso: str) -> float:
    import datetime as dt

    return dt.datetime.fromisoformat(iso).timestamp() * 1000
