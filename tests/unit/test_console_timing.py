"""Windows already begun when a message is sent (#16): found wherever they are in a body."""

from __future__ import annotations

from hotline.console.timing import past_windows

NOW_MS = 1_795_000_000_000  # 2026-11-18 11:06:40 UTC


def test_a_window_that_began_is_named_with_its_start_and_one_to_come_is_not() -> None:
    body = {
        "launch_window": {"start": "2026-11-01T06:00:00Z", "end": "2026-11-01T10:00:00Z"},
        "areas": [{"window": {"start": "2030-01-01T00:00:00Z", "end": "2030-01-02T00:00:00Z"}}],
        "note": {"start": "not a time", "end": "x"},
    }
    assert past_windows(body, NOW_MS) == [("launch_window", 1_793_512_800_000)]


def test_a_window_under_way_counts_as_begun_and_nothing_else_does() -> None:
    body = {"window": {"start": "2026-11-18T00:00:00Z", "end": "2026-12-31T00:00:00Z"}, "start": "2020-01-01T00:00:00Z"}
    assert [path for path, _ in past_windows(body, NOW_MS)] == ["window"]
    assert past_windows({"text": "no times"}, NOW_MS) == []
