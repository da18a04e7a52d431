"""Live event streams: at most so many per session and in all."""

from __future__ import annotations

from hotline.console.streams import StreamQuota


def test_per_session_and_total_bounds_and_giving_back() -> None:
    quota = StreamQuota(total=5, per_session=2)
    assert [quota.enter("a") for _ in range(3)] == [None, None, "per-session"]
    assert [quota.enter(s) for s in ("b", "b", "c", "c")] == [None, None, None, "total"]
    assert len(quota) == 5
    quota.leave("a")
    assert quota.enter("c") is None
    assert quota.enter("a") == "total"
    for session in ("a", "b", "b", "c", "c"):
        quota.leave(session)
    assert len(quota) == 0
    assert quota.enter("a") is None
