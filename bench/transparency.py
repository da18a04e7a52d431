"""Benchmark piece for the *Transparency* page (issue 18): twenty years of declarations from
both sides, at a node whose store also holds the bench's every other message.

Forty declarations each way (as of 1 March and 1 September for twenty years) are sent through
the API and delivered; then the page is fetched by a signed-in console, warm, ``SAMPLES`` times,
and timed from request to the last byte. Goal: under 100 ms. Not a test: run by ``bench/run.py``.
"""

from __future__ import annotations

import time
from typing import Any

from attacks import PASSWORD, _signed_in
from hotline.testing.process import add_user, wait_until
from nodes import BenchNode
from stats import percentile, r

YEARS = 20
SAMPLES = 50
GOAL_MS = 100.0


def declaration(year: int, month: int, base: int) -> dict[str, Any]:
    drift = (year - 2026) * 3 + month // 9
    body = {"as_of": f"{year}-{month:02d}-01", "deployed_icbms": 380 + drift % 40, "deployed_slbms": 220,
            "deployed_heavy_bombers": 50, "deployed_warheads": base + drift,
            "deployed_and_non_deployed_launchers": 790}  # fmt: skip
    return {"to": "", "kind": "arsenal_declaration", "body": body}


def transparency_figures(a: BenchNode, b: BenchNode) -> dict[str, Any]:
    for sender, receiver, base in ((a, b, 1400), (b, a, 1500)):
        years = range(2026, 2026 + YEARS)
        batch = [{**declaration(year, month, base), "to": receiver.party} for year in years for month in (3, 9)]
        sender.api("POST", "/v1/messages/batch", json={"messages": batch})
    expected = 2 * 2 * YEARS

    def all_there() -> bool:
        return len(b.api("GET", "/v1/declarations")["declarations"]) >= expected

    wait_until(all_there, 120.0, f"{expected} declarations at {b.party}")
    add_user(b, "analyst", "operator", PASSWORD)
    client = _signed_in(b, "analyst")
    try:
        first = client.get("/transparency")
        if first.status_code != 200 or first.text.count("<svg") < 3:
            raise RuntimeError(f"the Transparency page did not draw its charts: {first.status_code}")
        times = []
        for _ in range(SAMPLES):
            began = time.perf_counter()
            page = client.get("/transparency")
            times.append((time.perf_counter() - began) * 1000)
            page.raise_for_status()
    finally:
        client.close()
    return {
        "transparency_declarations": len(b.api("GET", "/v1/declarations")["declarations"]),
        "transparency_page_p50_ms": r(percentile(times, 50), 1),
        "transparency_page_p95_ms": r(percentile(times, 95), 1),
        "transparency_page_bytes": len(page.content),
    }
